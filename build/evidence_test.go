package build_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/gobintest"
)

const (
	goodScan = `{"SchemaVersion": 2, "ArtifactName": "bin/server", "Results": [{"Target": "bin/server", "Class": "lang-pkgs", "Type": "gobinary",
  "Vulnerabilities": [{"VulnerabilityID": "CVE-2026-1111", "PkgName": "golang.org/x/net", "PkgIdentifier": {"PURL": "pkg:golang/golang.org/x/net@v0.30.0"},
    "InstalledVersion": "v0.30.0", "FixedVersion": "0.31.0", "Severity": "HIGH"}]}]}`
	goodVEX = `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "sec@example.com",
  "timestamp": "2026-01-01T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": "CVE-2026-1111"}, "products": [{"@id": "shop"}], "status": "fixed"}]}`
)

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}

func TestBuildEvidence(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	scan := writeFile(t, dir, "trivy.json", goodScan)
	vex := writeFile(t, dir, "vex.json", goodVEX)
	spec := build.Spec{
		Files:   []build.File{{Name: "bin/server", Reader: strings.NewReader("#!/bin/sh\n"), Mode: 0o755}},
		Created: fixedTime,
		Scans:   []build.Scan{{Path: scan, Finished: fixedTime.Add(time.Hour)}},
	}
	dst := memory.New()
	b, err := build.New(ctx, dst, "shop", spec, build.Options{})
	require.NoError(t, err)
	s := b.Summary()
	assert.Nil(t, s.SBOM, "no SBOM given and no Go binary")
	require.NotNil(t, s.Vulnerabilities)
	assert.Equal(t, attest.Counts{High: 1}, s.Vulnerabilities.Open)
	assert.Equal(t, "2026-01-02T04:04:05Z", s.Vulnerabilities.Scans[0].Time, "the time the caller gave")
	require.Len(t, b.Evidence(), 1)
	e := b.Evidence()[0]
	assert.Equal(t, attest.PredicateVuln, e.PredicateType)
	assert.Equal(t, "trivy.json", e.Source)
	assert.Equal(t, e.Descriptor.Digest.String(), s.Evidence[0].Digest)
	assert.Contains(t, b.Layers(), e.Descriptor, "evidence is a layer of the build, so copies carry it")

	// With the VEX document the finding is suppressed, and the build,
	// loaded back, says the same.
	spec.VEX = []string{vex}
	b2, err := build.New(ctx, dst, "shop", spec, build.Options{Tags: []string{"v2"}})
	require.NoError(t, err)
	assert.NotEqual(t, b.Digest(), b2.Digest())
	loaded, err := build.Load(ctx, dst, "v2")
	require.NoError(t, err)
	v := loaded.Summary().Vulnerabilities
	assert.Equal(t, attest.Counts{}, v.Open)
	require.Len(t, v.Suppressed, 1)
	assert.Equal(t, "fixed", v.Suppressed[0].Status)
	assert.Equal(t, "sec@example.com", v.Suppressed[0].Author)
	assert.Len(t, loaded.Evidence(), 2)

	// Same inputs, same digest.
	b3, err := build.New(ctx, memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, b2.Digest(), b3.Digest())
}

func TestBuildEvidenceErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		field string // SBOM, Scans or VEX
		data  string
		want  error
		place string // what the message must hold besides the file name
	}{
		{"malformed scan", "Scans", "{\n  \"SchemaVersion\": 2,\n  \"Results\": [,]\n}", attest.ErrMalformed, ":3:"},
		{"scan in an unknown format", "Scans", `{"hello": "world"}`, attest.ErrUnknownFormat, "hello"},
		{"unknown severity", "Scans", strings.Replace(goodScan, `"HIGH"`, `"SEVERE"`, 1), attest.ErrMalformed, `Severity`},
		{"SBOM of an unsupported spec version", "SBOM", `{"bomFormat": "CycloneDX", "specVersion": "1.2", "version": 1}`, attest.ErrUnknownFormat, "specVersion"},
		{"VEX without author", "VEX", strings.Replace(goodVEX, `"author": "sec@example.com",`, "", 1), attest.ErrMalformed, "author"},
		{"VEX with an unknown status", "VEX", strings.Replace(goodVEX, `"fixed"`, `"maybe"`, 1), attest.ErrMalformed, "statements[0].status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeFile(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".json", tc.data)
			spec := build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("a")}}, Created: fixedTime}
			switch tc.field {
			case "SBOM":
				spec.SBOM = file
			case "Scans":
				spec.Scans = []build.Scan{{Path: file}}
			case "VEX":
				spec.VEX = []string{file}
			}
			dst := newCounting(memory.New())
			_, err := build.New(t.Context(), dst, "shop", spec, build.Options{Tags: []string{"x"}})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, file, pe.Source)
			assert.Contains(t, err.Error(), file)
			assert.Contains(t, err.Error(), tc.place)
			assert.Zero(t, dst.pushes(), "bad evidence stores nothing")
		})
	}
}

func TestBuildGeneratesSBOMFromGoBinaries(t *testing.T) {
	exe, rev := gobintest.Build(t)
	dst := memory.New()
	b, err := build.New(t.Context(), dst, "shop", build.Spec{
		Files:   []build.File{{Name: "bin/shop", Path: exe, Mode: 0o755}},
		Created: fixedTime,
	}, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, rev, b.Source().Revision)
	s := b.Summary()
	require.NotNil(t, s.SBOM)
	assert.Equal(t, attest.PredicateCycloneDX, s.SBOM.PredicateType)
	assert.Equal(t, 4, s.SBOM.Components, "the main module, testify, yaml and the standard library")
	ev := b.Evidence()
	require.Len(t, ev, 1)
	assert.Equal(t, "generated", ev[0].Source)
	sbom, err := content.FetchAll(t.Context(), dst, ev[0].Descriptor)
	require.NoError(t, err)
	for _, p := range gobintest.Deps {
		assert.Contains(t, string(sbom), `"purl":"`+p+`"`)
	}
	assert.NotContains(t, string(sbom), gobintest.Secret, "-ldflags values are never recorded")
	rec, _ := b.Record()
	assert.NotContains(t, string(rec), gobintest.Secret)
	require.Len(t, b.Binaries(), 1)
	var found bool
	for _, d := range b.Binaries()[0].Deps {
		if d.Path == "github.com/stretchr/testify" {
			found = true
			assert.True(t, strings.HasPrefix(d.Sum, "h1:"))
		}
	}
	assert.True(t, found, "testify is a dependency of the test binary")
	assert.Equal(t, []string{"shop", "pkg:golang/example.com/tinyapp@v1.2.3"}, b.Products())
}

// TestAdoptedImageWithEvidence: an image scan of OS packages goes with an
// adopted image; the build's only layers are its evidence.
func TestAdoptedImageWithEvidence(t *testing.T) {
	ctx := t.Context()
	store := memory.New()
	img := pushImage(t, store)
	scan := writeFile(t, t.TempDir(), "grype.json", `{"matches": [
  {"vulnerability": {"id": "CVE-2026-7777", "severity": "Critical", "fix": {"versions": ["3.0.15-1"], "state": "fixed"}},
   "relatedVulnerabilities": [],
   "artifact": {"name": "openssl", "version": "3.0.14-1", "type": "deb", "purl": "pkg:deb/debian/openssl@3.0.14-1?distro=debian-12"}}],
 "descriptor": {"name": "grype", "version": "0.80.0", "timestamp": "2026-01-01T02:00:00Z"}}`)

	b, err := build.New(ctx, store, "shop", build.Spec{Image: img.Digest, Created: fixedTime, Scans: []build.Scan{{Path: scan}}}, build.Options{Tags: []string{"v1"}})
	require.NoError(t, err)
	loaded, err := build.Load(ctx, store, "v1")
	require.NoError(t, err)
	v := loaded.Summary().Vulnerabilities
	require.NotNil(t, v)
	assert.Equal(t, attest.Counts{Critical: 1}, v.Open)
	assert.Equal(t, "pkg:deb/debian/openssl@3.0.14-1?distro=debian-12", v.Findings[0].Package)
	assert.Equal(t, "grype", v.Scans[0].Scanner.Name)
	assert.Equal(t, "2026-01-01T02:00:00Z", v.Scans[0].Time)
	layers := b.Layers()
	require.Len(t, layers, 1, "no files: the evidence is the one layer")
	assert.Equal(t, attest.MediaTypeVuln, layers[0].MediaType)
	assert.Empty(t, layers[0].Annotations, "untitled: oras pull leaves it out")
}
