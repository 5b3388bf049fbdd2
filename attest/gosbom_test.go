package attest_test

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/gobintest"
)

var serialRE = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// created is the timestamp of the SBOMs made in tests.
var created = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// handInfo is the build information of a binary of example.com/shop that
// links two modules, one of them through a versioned replacement and one
// through a local directory, built with flags that hold a secret.
func handInfo() *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "example.com/shop/cmd/server",
		Main:      debug.Module{Path: "example.com/shop", Version: "v1.4.0"},
		Deps: []*debug.Module{
			{Path: "example.org/kv", Version: "v0.3.1", Sum: "h1:AAAA"},
			{Path: "example.org/old", Version: "v1.0.0", Replace: &debug.Module{Path: "example.org/fork", Version: "v1.0.1", Sum: "h1:BBBB"}},
			{Path: "example.org/local", Version: "v0.2.0", Replace: &debug.Module{Path: "../local"}},
		},
		Settings: []debug.BuildSetting{
			{Key: "-buildmode", Value: "exe"},
			{Key: "-compiler", Value: "gc"},
			{Key: "-trimpath", Value: "true"},
			{Key: "-ldflags", Value: "-X main.secret=hunter2"},
			{Key: "-gcflags", Value: "all=-N -l -hunter2"},
			{Key: "CGO_ENABLED", Value: "1"},
			{Key: "CGO_LDFLAGS", Value: "-L/home/hunter2/lib"},
			{Key: "GOARCH", Value: "amd64"},
			{Key: "GOOS", Value: "linux"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
}

// decodeBOM decodes a GoSBOM document with cyclonedx-go.
func decodeBOM(t *testing.T, doc []byte) *cdx.BOM {
	t.Helper()
	var bom cdx.BOM
	require.NoError(t, cdx.NewBOMDecoder(bytes.NewReader(doc), cdx.BOMFileFormatJSON).Decode(&bom))
	return &bom
}

// components indexes the components of bom by bom-ref.
func components(t *testing.T, bom *cdx.BOM) map[string]cdx.Component {
	t.Helper()
	require.NotNil(t, bom.Components)
	out := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		_, dup := out[c.BOMRef]
		require.False(t, dup, "bom-ref %q twice", c.BOMRef)
		out[c.BOMRef] = c
	}
	return out
}

// props returns the properties of c as a map, failing on a name given twice.
func props(t *testing.T, c cdx.Component) map[string]string {
	t.Helper()
	out := map[string]string{}
	if c.Properties == nil {
		return out
	}
	for _, p := range *c.Properties {
		_, dup := out[p.Name]
		require.False(t, dup, "property %q twice", p.Name)
		out[p.Name] = p.Value
	}
	return out
}

// dependsOn indexes the dependency graph of bom.
func dependsOn(bom *cdx.BOM) map[string][]string {
	out := map[string][]string{}
	if bom.Dependencies != nil {
		for _, d := range *bom.Dependencies {
			if d.Dependencies != nil {
				out[d.Ref] = *d.Dependencies
			}
		}
	}
	return out
}

func TestGoSBOMHandMade(t *testing.T) {
	bin := []byte("a Go binary")
	doc, err := attest.GoSBOM(attest.GoSBOMInput{
		Name:     "shop",
		Version:  "7",
		Created:  created,
		Binaries: []attest.GoBinary{{Path: "bin/server", Digest: digest.FromBytes(bin), Info: handInfo()}},
	})
	require.NoError(t, err)

	assert.NotContains(t, string(doc), "hunter2", "flags settings hold secrets")
	assert.NotContains(t, string(doc), "-ldflags")
	assert.NotContains(t, string(doc), "h1:", "module checksums are not written")
	norm, err := attest.NormalizeJSON(doc)
	require.NoError(t, err)
	assert.Equal(t, norm, doc, "GoSBOM returns normalized JSON")

	bom := decodeBOM(t, doc)
	assert.Equal(t, cdx.SpecVersion1_6, bom.SpecVersion)
	assert.Equal(t, "http://cyclonedx.org/schema/bom-1.6.schema.json", bom.JSONSchema)
	assert.Equal(t, 1, bom.Version)
	assert.Regexp(t, serialRE, bom.SerialNumber)
	require.NotNil(t, bom.Metadata)
	assert.Equal(t, "2026-01-02T03:04:05Z", bom.Metadata.Timestamp)
	require.NotNil(t, bom.Metadata.Component)
	assert.Equal(t, cdx.ComponentTypeApplication, bom.Metadata.Component.Type)
	assert.Equal(t, "shop", bom.Metadata.Component.Name)
	assert.Equal(t, "7", bom.Metadata.Component.Version)
	require.NotNil(t, bom.Metadata.Tools)
	require.NotNil(t, bom.Metadata.Tools.Components)
	assert.Equal(t, "slipway", (*bom.Metadata.Tools.Components)[0].Name)

	byRef := components(t, bom)
	assert.Len(t, byRef, 5, "server, kv, fork, local, stdlib")

	appRef := "pkg:golang/example.com/shop@v1.4.0?binary=bin%2Fserver"
	app, ok := byRef[appRef]
	require.True(t, ok, "main module component %s", appRef)
	assert.Equal(t, cdx.ComponentTypeApplication, app.Type)
	assert.Equal(t, "example.com/shop", app.Name)
	assert.Equal(t, "v1.4.0", app.Version)
	assert.Equal(t, "pkg:golang/example.com/shop@v1.4.0", app.PackageURL)
	require.NotNil(t, app.Hashes)
	assert.Equal(t, []cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: digest.FromBytes(bin).Encoded()}}, *app.Hashes)
	assert.Equal(t, map[string]string{
		"slipway:go:toolchain":          "go1.26.8",
		"slipway:go:binary":             "bin/server",
		"slipway:go:package":            "example.com/shop/cmd/server",
		"slipway:go:build:-buildmode":   "exe",
		"slipway:go:build:-compiler":    "gc",
		"slipway:go:build:-trimpath":    "true",
		"slipway:go:build:CGO_ENABLED":  "1",
		"slipway:go:build:GOARCH":       "amd64",
		"slipway:go:build:GOOS":         "linux",
		"slipway:go:build:vcs":          "git",
		"slipway:go:build:vcs.revision": "0123456789abcdef0123456789abcdef01234567",
		"slipway:go:build:vcs.modified": "false",
	}, props(t, app))

	kv := byRef["pkg:golang/example.org/kv@v0.3.1"]
	assert.Equal(t, cdx.ComponentTypeLibrary, kv.Type)
	assert.Equal(t, "example.org/kv", kv.Name)
	assert.Equal(t, "v0.3.1", kv.Version)
	assert.Equal(t, "pkg:golang/example.org/kv@v0.3.1", kv.PackageURL)
	assert.Nil(t, kv.Properties)

	fork, ok := byRef["pkg:golang/example.org/fork@v1.0.1"]
	require.True(t, ok, "a replaced module is listed as its replacement")
	assert.Equal(t, "example.org/fork", fork.Name)
	assert.Equal(t, "v1.0.1", fork.Version)
	assert.Equal(t, map[string]string{"slipway:go:replaces": "example.org/old@v1.0.0"}, props(t, fork))

	local, ok := byRef["pkg:golang/example.org/local"]
	require.True(t, ok, "a directory replacement keeps the module path and has no version")
	assert.Equal(t, "example.org/local", local.Name)
	assert.Empty(t, local.Version)
	assert.Equal(t, "pkg:golang/example.org/local", local.PackageURL)
	assert.Equal(t, map[string]string{"slipway:go:replaces": "example.org/local@v0.2.0"}, props(t, local))
	assert.NotContains(t, string(doc), "../local", "the directory is not written")

	std, ok := byRef["pkg:golang/stdlib@v1.26.8"]
	require.True(t, ok, "standard library component")
	assert.Equal(t, cdx.ComponentTypeLibrary, std.Type)
	assert.Equal(t, "stdlib", std.Name)
	assert.Equal(t, "v1.26.8", std.Version)

	deps := dependsOn(bom)
	assert.Equal(t, []string{appRef}, deps[bom.Metadata.Component.BOMRef])
	assert.Equal(t, []string{
		"pkg:golang/example.org/fork@v1.0.1",
		"pkg:golang/example.org/kv@v0.3.1",
		"pkg:golang/example.org/local",
		"pkg:golang/stdlib@v1.26.8",
	}, deps[appRef])
}

// TestGoSBOMTestBinary describes this test binary. Test binaries record
// their main module and settings but no dependencies; TestGoSBOMRealBinary
// reads a program that has some.
func TestGoSBOMTestBinary(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	require.True(t, ok, "test binary has build info")
	doc, err := attest.GoSBOM(attest.GoSBOMInput{Name: "slipway-tests", Binaries: []attest.GoBinary{{Path: "attest.test", Info: info}}})
	require.NoError(t, err)

	bom := decodeBOM(t, doc)
	assert.Empty(t, bom.Metadata.Timestamp, "no Created, no timestamp")
	byRef := components(t, bom)
	var app cdx.Component
	for _, c := range byRef {
		if c.Type == cdx.ComponentTypeApplication {
			app = c
		}
	}
	assert.Equal(t, "github.com/slipway-dev/slipway", app.Name)
	assert.True(t, strings.HasPrefix(app.PackageURL, "pkg:golang/github.com/slipway-dev/slipway"), app.PackageURL)
	p := props(t, app)
	assert.Equal(t, runtime.Version(), p["slipway:go:toolchain"])
	assert.Equal(t, "attest.test", p["slipway:go:binary"])
	assert.Equal(t, runtime.GOOS, p["slipway:go:build:GOOS"])
	for name := range p {
		assert.NotContains(t, strings.ToLower(name), "flags", "flags settings are left out")
	}
	stdlib := "pkg:golang/stdlib@v" + strings.TrimPrefix(runtime.Version(), "go")
	assert.Contains(t, byRef, stdlib)
	assert.Contains(t, dependsOn(bom)[app.BOMRef], stdlib)
}

// tinyApp is the program TestGoSBOMRealBinary builds. It links testify,
// which links go.yaml.in/yaml/v3.
func TestGoSBOMRealBinary(t *testing.T) {
	bin, rev := gobintest.Build(t)
	info, err := buildinfo.ReadFile(bin)
	require.NoError(t, err)
	f, err := os.Open(bin)
	require.NoError(t, err)
	dgst, err := digest.FromReader(f)
	require.NoError(t, f.Close())
	require.NoError(t, err)

	doc, err := attest.GoSBOM(attest.GoSBOMInput{Name: "tinyapp", Created: created,
		Binaries: []attest.GoBinary{{Path: "bin/tinyapp", Digest: dgst, Info: info}}})
	require.NoError(t, err)
	assert.NotContains(t, string(doc), "hunter2")

	bom := decodeBOM(t, doc)
	byRef := components(t, bom)
	appRef := "pkg:golang/example.com/tinyapp@v1.2.3?binary=bin%2Ftinyapp"
	app, ok := byRef[appRef]
	require.True(t, ok, "main module at its tag, in %v", byRef)
	assert.Equal(t, "pkg:golang/example.com/tinyapp@v1.2.3", app.PackageURL)
	require.NotNil(t, app.Hashes)
	assert.Equal(t, dgst.Encoded(), (*app.Hashes)[0].Value)
	p := props(t, app)
	assert.Equal(t, runtime.Version(), p["slipway:go:toolchain"])
	assert.Equal(t, rev, p["slipway:go:build:vcs.revision"])
	assert.Equal(t, "false", p["slipway:go:build:vcs.modified"])
	assert.Equal(t, "example.com/tinyapp", p["slipway:go:package"])
	assert.NotContains(t, p, "slipway:go:build:-ldflags")

	testify := "pkg:golang/github.com/stretchr/testify@v1.12.1"
	yaml := "pkg:golang/go.yaml.in/yaml/v3@v3.0.5"
	stdlib := "pkg:golang/stdlib@v" + strings.TrimPrefix(runtime.Version(), "go")
	for _, ref := range []string{testify, yaml, stdlib} {
		c, ok := byRef[ref]
		if assert.True(t, ok, "component %s", ref) {
			assert.Equal(t, cdx.ComponentTypeLibrary, c.Type)
			assert.Equal(t, ref, c.PackageURL)
		}
	}
	assert.Equal(t, []string{testify, yaml, stdlib}, dependsOn(bom)[appRef])
}

func TestGoSBOMSharedDependencies(t *testing.T) {
	server := handInfo()
	worker := handInfo()
	worker.Path = "example.com/shop/cmd/worker"
	worker.Deps = []*debug.Module{
		{Path: "example.org/kv", Version: "v0.3.1"},
		{Path: "example.org/queue", Version: "v2.1.0"},
	}
	arm := handInfo() // the server again, for another platform
	arm.Settings = []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}}
	doc, err := attest.GoSBOM(attest.GoSBOMInput{Name: "shop", Created: created, Binaries: []attest.GoBinary{
		{Path: "bin/server", Info: server},
		{Path: "bin/worker", Info: worker},
		{Path: "bin/linux-arm64/server", Info: arm},
	}})
	require.NoError(t, err)

	bom := decodeBOM(t, doc)
	byRef := components(t, bom) // fails on a bom-ref given twice
	purls := map[string]int{}
	for _, c := range byRef {
		if c.Type == cdx.ComponentTypeLibrary {
			purls[c.PackageURL]++
		}
	}
	assert.Equal(t, map[string]int{
		"pkg:golang/example.org/kv@v0.3.1":    1,
		"pkg:golang/example.org/fork@v1.0.1":  1,
		"pkg:golang/example.org/local":        1,
		"pkg:golang/example.org/queue@v2.1.0": 1,
		"pkg:golang/stdlib@v1.26.8":           1,
	}, purls)

	serverRef := "pkg:golang/example.com/shop@v1.4.0?binary=bin%2Fserver"
	workerRef := "pkg:golang/example.com/shop@v1.4.0?binary=bin%2Fworker"
	armRef := "pkg:golang/example.com/shop@v1.4.0?binary=bin%2Flinux-arm64%2Fserver"
	for _, ref := range []string{serverRef, workerRef, armRef} {
		c, ok := byRef[ref]
		if assert.True(t, ok, "component %s", ref) {
			assert.Equal(t, "pkg:golang/example.com/shop@v1.4.0", c.PackageURL, "binaries of one module share its purl")
		}
	}
	assert.Equal(t, "arm64", props(t, byRef[armRef])["slipway:go:build:GOARCH"])

	deps := dependsOn(bom)
	assert.Equal(t, []string{armRef, serverRef, workerRef}, deps[bom.Metadata.Component.BOMRef])
	assert.Equal(t, []string{"pkg:golang/example.org/kv@v0.3.1", "pkg:golang/example.org/queue@v2.1.0", "pkg:golang/stdlib@v1.26.8"}, deps[workerRef])
	assert.Equal(t, deps[serverRef], deps[armRef])

	sbom, err := attest.ParseSBOM(doc, "shared")
	require.NoError(t, err)
	assert.Equal(t, 8, sbom.Components, "3 binaries, 5 libraries")
}

func TestGoSBOMDeterministic(t *testing.T) {
	in := func() attest.GoSBOMInput {
		return attest.GoSBOMInput{Name: "shop", Version: "7", Created: created, Binaries: []attest.GoBinary{
			{Path: "bin/server", Digest: digest.FromString("server"), Info: handInfo()},
		}}
	}
	a, err := attest.GoSBOM(in())
	require.NoError(t, err)
	b, err := attest.GoSBOM(in())
	require.NoError(t, err)
	assert.Equal(t, a, b, "same input, same bytes")

	// Order of modules and settings in the build info does not matter.
	shuffled := in()
	info := shuffled.Binaries[0].Info
	info.Deps[0], info.Deps[2] = info.Deps[2], info.Deps[0]
	info.Settings[0], info.Settings[len(info.Settings)-1] = info.Settings[len(info.Settings)-1], info.Settings[0]
	c, err := attest.GoSBOM(shuffled)
	require.NoError(t, err)
	assert.Equal(t, a, c, "build info order does not change the bytes")

	// The serial number follows the content.
	other := in()
	other.Version = "8"
	d, err := attest.GoSBOM(other)
	require.NoError(t, err)
	var sa, sd struct {
		SerialNumber string `json:"serialNumber"`
	}
	require.NoError(t, json.Unmarshal(a, &sa))
	require.NoError(t, json.Unmarshal(d, &sd))
	assert.Regexp(t, serialRE, sa.SerialNumber)
	assert.Regexp(t, serialRE, sd.SerialNumber)
	assert.Equal(t, byte('8'), sa.SerialNumber[len("urn:uuid:")+14], "UUID version 8")
	assert.Contains(t, "89ab", string(sa.SerialNumber[len("urn:uuid:")+19]), "RFC 9562 variant")
	assert.NotEqual(t, sa.SerialNumber, sd.SerialNumber)

	// Another time zone and fractions of a second give the same document.
	zoned := in()
	zoned.Created = created.Add(999 * time.Millisecond).In(time.FixedZone("X", 5*3600))
	e, err := attest.GoSBOM(zoned)
	require.NoError(t, err)
	assert.Equal(t, a, e)
}

func TestGoSBOMParsesBack(t *testing.T) {
	doc, err := attest.GoSBOM(attest.GoSBOMInput{Name: "shop", Created: created, Binaries: []attest.GoBinary{{Path: "bin/server", Info: handInfo()}}})
	require.NoError(t, err)
	bom := decodeBOM(t, doc)
	require.NotNil(t, bom.Components)

	sbom, err := attest.ParseSBOM(doc, "gosbom")
	require.NoError(t, err)
	assert.Equal(t, attest.PredicateCycloneDX, sbom.PredicateType)
	assert.Equal(t, attest.MediaTypeCycloneDX, sbom.MediaType)
	assert.Equal(t, "1.6", sbom.SpecVersion)
	assert.Equal(t, len(*bom.Components), sbom.Components)
	assert.Contains(t, sbom.Packages, attest.Package{Name: "example.org/kv", Version: "v0.3.1", PURL: "pkg:golang/example.org/kv@v0.3.1"})
	assert.Contains(t, sbom.Packages, attest.Package{Name: "example.com/shop", Version: "v1.4.0", PURL: "pkg:golang/example.com/shop@v1.4.0"})
}

func TestGoSBOMVersions(t *testing.T) {
	for _, tc := range []struct {
		name, goVersion, mainVersion string
		stdlib, app                  string
	}{
		{"release", "go1.26.8", "v1.4.0", "pkg:golang/stdlib@v1.26.8", "pkg:golang/example.com/shop@v1.4.0"},
		{"first release", "go1.20", "v1.4.0", "pkg:golang/stdlib@v1.20.0", "pkg:golang/example.com/shop@v1.4.0"},
		{"release candidate", "go1.27rc1", "v1.4.0", "pkg:golang/stdlib@v1.27.0-rc.1", "pkg:golang/example.com/shop@v1.4.0"},
		{"beta", "go1.27beta2", "v1.4.0", "pkg:golang/stdlib@v1.27.0-beta.2", "pkg:golang/example.com/shop@v1.4.0"},
		{"experiment", "go1.26.8 X:jsonv2", "v1.4.0", "pkg:golang/stdlib@v1.26.8", "pkg:golang/example.com/shop@v1.4.0"},
		{"development toolchain", "devel go1.27-0123456789 Thu Jan 1 00:00:00 2026 +0000", "v1.4.0", "pkg:golang/stdlib", "pkg:golang/example.com/shop@v1.4.0"},
		{"devel main module", "go1.26.8", "(devel)", "pkg:golang/stdlib@v1.26.8", "pkg:golang/example.com/shop"},
		{"incompatible", "go1.26.8", "v2.0.0+incompatible", "pkg:golang/stdlib@v1.26.8", "pkg:golang/example.com/shop@v2.0.0%2Bincompatible"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := handInfo()
			info.GoVersion = tc.goVersion
			info.Main.Version = tc.mainVersion
			doc, err := attest.GoSBOM(attest.GoSBOMInput{Name: "shop", Binaries: []attest.GoBinary{{Path: "server", Info: info}}})
			require.NoError(t, err)
			byRef := components(t, decodeBOM(t, doc))
			assert.Contains(t, byRef, tc.stdlib)
			found := false
			for _, c := range byRef {
				if c.Type == cdx.ComponentTypeApplication {
					found = true
					assert.Equal(t, tc.app, c.PackageURL)
					assert.NotEqual(t, "(devel)", c.Version)
				}
			}
			assert.True(t, found)
		})
	}
}

func TestGoSBOMDigests(t *testing.T) {
	d512 := digest.SHA512.FromString("server")
	doc, err := attest.GoSBOM(attest.GoSBOMInput{Name: "shop", Binaries: []attest.GoBinary{{Path: "server", Digest: d512, Info: handInfo()}}})
	require.NoError(t, err)
	for _, c := range components(t, decodeBOM(t, doc)) {
		if c.Type == cdx.ComponentTypeApplication {
			require.NotNil(t, c.Hashes)
			assert.Equal(t, []cdx.Hash{{Algorithm: cdx.HashAlgoSHA512, Value: d512.Encoded()}}, *c.Hashes)
		}
	}
}

func TestGoSBOMInvalid(t *testing.T) {
	noMain := handInfo()
	noMain.Main = debug.Module{}
	bin := func(path string, d digest.Digest, info *debug.BuildInfo) []attest.GoBinary {
		return []attest.GoBinary{{Path: path, Digest: d, Info: info}}
	}
	for _, tc := range []struct {
		name string
		in   attest.GoSBOMInput
	}{
		{"no name", attest.GoSBOMInput{Binaries: bin("server", "", handInfo())}},
		{"no binaries", attest.GoSBOMInput{Name: "shop"}},
		{"no path", attest.GoSBOMInput{Name: "shop", Binaries: bin("", "", handInfo())}},
		{"no build info", attest.GoSBOMInput{Name: "shop", Binaries: bin("server", "", nil)}},
		{"no main module", attest.GoSBOMInput{Name: "shop", Binaries: bin("server", "", noMain)}},
		{"bad digest", attest.GoSBOMInput{Name: "shop", Binaries: bin("server", "sha256:abc", handInfo())}},
		{"unknown digest algorithm", attest.GoSBOMInput{Name: "shop", Binaries: bin("server", "md5:d41d8cd98f00b204e9800998ecf8427e", handInfo())}},
		{"path twice", attest.GoSBOMInput{Name: "shop", Binaries: append(bin("server", "", handInfo()), bin("server", "", handInfo())...)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := attest.GoSBOM(tc.in)
			assert.ErrorIs(t, err, attest.ErrInvalidOptions)
			assert.Nil(t, doc)
		})
	}
}
