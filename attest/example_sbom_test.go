package attest_test

import (
	"fmt"
	"log"
	"runtime/debug"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/slipway-dev/slipway/attest"
)

func ExampleGoSBOM() {
	// In a build, the build info comes from debug/buildinfo.ReadFile of
	// each binary.
	info := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "example.com/shop/cmd/server",
		Main:      debug.Module{Path: "example.com/shop", Version: "v1.4.0"},
		Deps: []*debug.Module{
			{Path: "example.org/kv", Version: "v0.3.1"},
			{Path: "example.org/log", Version: "v1.0.0"},
		},
		Settings: []debug.BuildSetting{
			{Key: "-ldflags", Value: "-X main.token=s3cret"}, // left out of the SBOM
			{Key: "GOOS", Value: "linux"},
			{Key: "GOARCH", Value: "amd64"},
		},
	}
	doc, err := attest.GoSBOM(attest.GoSBOMInput{
		Name:     "shop",
		Version:  "7",
		Created:  time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Binaries: []attest.GoBinary{{Path: "bin/server", Digest: digest.FromString("server binary"), Info: info}},
	})
	if err != nil {
		log.Fatal(err)
	}
	sbom, err := attest.ParseSBOM(doc, "sbom.cdx.json")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sbom.SpecVersion, sbom.Components)
	for _, p := range sbom.Packages {
		fmt.Println(p.PURL)
	}
	fmt.Println(digest.FromBytes(doc))
	// Output:
	// 1.6 4
	// pkg:golang/example.com/shop@v1.4.0
	// pkg:golang/example.org/kv@v0.3.1
	// pkg:golang/example.org/log@v1.0.0
	// pkg:golang/stdlib@v1.26.8
	// sha256:f4e10f770dd680323ba5fc6ed27c976d31def873a4d5fb6b8e7e910d315dd12c
}

func ExampleParseSBOM() {
	doc := []byte(`{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "shop",
  "documentNamespace": "https://example.invalid/spdx/shop-7",
  "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: example"]},
  "packages": [
    {"SPDXID": "SPDXRef-kv", "name": "example.org/kv", "versionInfo": "v0.3.1", "downloadLocation": "NOASSERTION",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                       "referenceLocator": "pkg:golang/example.org/kv@v0.3.1"}]}
  ]
}`)
	sbom, err := attest.ParseSBOM(doc, "sbom.spdx.json")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sbom.PredicateType, sbom.SpecVersion, sbom.Components)
	fmt.Println(sbom.Packages[0].Name, sbom.Packages[0].Version, sbom.Packages[0].PURL)

	// A CycloneDX version slipway does not read is refused, with the place.
	_, err = attest.ParseSBOM([]byte(`{"bomFormat": "CycloneDX",
  "specVersion": "1.2"}`), "old.cdx.json")
	fmt.Println(err)
	// Output:
	// https://spdx.dev/Document SPDX-2.3 1
	// example.org/kv v0.3.1 pkg:golang/example.org/kv@v0.3.1
	// old.cdx.json:2:18: specVersion: unknown evidence format: unsupported CycloneDX spec version "1.2"
}
