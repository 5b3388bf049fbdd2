package attest_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// sbomFixture reads a file of testdata/sbom.
func sbomFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "sbom", name))
	require.NoError(t, err)
	return data
}

func TestParseSBOMFixtures(t *testing.T) {
	for _, tc := range []struct {
		file          string
		predicateType string
		mediaType     string
		specVersion   string
		packages      []attest.Package
	}{
		{
			file: "cyclonedx-1.6.json", predicateType: attest.PredicateCycloneDX, mediaType: attest.MediaTypeCycloneDX, specVersion: "1.6",
			packages: []attest.Package{
				{Name: "cart/rules.json"},
				{Name: "scratch"},
				{Name: "example.com/shop", Version: "v1.4.0", PURL: "pkg:golang/example.com/shop@v1.4.0"},
				{Name: "example.com/shop/cart", Version: "v1.4.0", PURL: "pkg:golang/example.com/shop@v1.4.0#cart"},
				{Name: "example.org/kv", Version: "v0.3.1", PURL: "pkg:golang/example.org/kv@v0.3.1"},
				{Name: "stdlib", Version: "v1.26.8", PURL: "pkg:golang/stdlib@v1.26.8"},
			},
		},
		{
			file: "cyclonedx-1.5.json", predicateType: attest.PredicateCycloneDX, mediaType: attest.MediaTypeCycloneDX, specVersion: "1.5",
			packages: []attest.Package{
				{Name: "rates.csv"},
				{Name: "example.net/money", Version: "v2.0.0+incompatible", PURL: "pkg:golang/example.net/money@v2.0.0%2Bincompatible"},
				{Name: "example.net/web", Version: "v0.12.0", PURL: "pkg:golang/example.net/web@v0.12.0"},
			},
		},
		{
			file: "spdx-2.3.json", predicateType: attest.PredicateSPDX, mediaType: attest.MediaTypeSPDX, specVersion: "SPDX-2.3",
			packages: []attest.Package{
				{Name: "README"},
				{Name: "example.com/inventory", Version: "v3.1.0", PURL: "pkg:golang/example.com/inventory@v3.1.0"},
				{Name: "example.org/yaml", Version: "v1.0.2", PURL: "pkg:golang/example.org/yaml@v1.0.2"},
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data := sbomFixture(t, tc.file)
			want := &attest.SBOM{
				PredicateType: tc.predicateType,
				MediaType:     tc.mediaType,
				SpecVersion:   tc.specVersion,
				Components:    len(tc.packages),
				Packages:      tc.packages,
			}
			got, err := attest.ParseSBOM(data, tc.file)
			require.NoError(t, err)
			assert.Equal(t, want, got)

			f, err := os.Open(filepath.Join("testdata", "sbom", tc.file))
			require.NoError(t, err)
			defer f.Close()
			read, err := attest.ReadSBOM(f, tc.file)
			require.NoError(t, err)
			assert.Equal(t, want, read)

			// The normalized form, as an attestation carries it, reads the same.
			norm, err := attest.NormalizeJSON(data)
			require.NoError(t, err)
			again, err := attest.ParseSBOM(norm, tc.file)
			require.NoError(t, err)
			assert.Equal(t, want, again)
		})
	}
}

func TestParseSBOMBadFixtures(t *testing.T) {
	for _, tc := range []struct {
		file string
		want error
		path string
		line int
	}{
		{"bad-json.json", attest.ErrMalformed, "", 5},
		{"bad-cyclonedx-1.2.json", attest.ErrUnknownFormat, "specVersion", 3},
		{"bad-spdx-1.2.json", attest.ErrUnknownFormat, "spdxVersion", 3},
		{"bad-component-no-name.json", attest.ErrMalformed, "components[1].components[0].name", 10},
		{"bad-spdx-package-no-spdxid.json", attest.ErrMalformed, "packages[1].SPDXID", 10},
	} {
		t.Run(tc.file, func(t *testing.T) {
			sbom, err := attest.ParseSBOM(sbomFixture(t, tc.file), tc.file)
			assert.Nil(t, sbom)
			assert.ErrorIs(t, err, tc.want)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.file, pe.Source)
			assert.Equal(t, tc.path, pe.Path)
			assert.Equal(t, tc.line, pe.Line)
			assert.NotZero(t, pe.Column)
		})
	}
}

// cdxDoc is a small CycloneDX document of spec version v whose component
// list is components (a JSON array).
func cdxDoc(v, components string) string {
	return `{"bomFormat":"CycloneDX","specVersion":"` + v + `","version":1,"components":` + components + `}`
}

// spdxDoc is a small SPDX 2.3 document with fields replaced or added by
// extra (JSON members, each overriding the default of that name).
func spdxDoc(extra map[string]string) string {
	fields := []string{"spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "creationInfo", "packages"}
	values := map[string]string{
		"spdxVersion":       `"SPDX-2.3"`,
		"dataLicense":       `"CC0-1.0"`,
		"SPDXID":            `"SPDXRef-DOCUMENT"`,
		"name":              `"doc"`,
		"documentNamespace": `"https://example.invalid/spdx/doc"`,
		"creationInfo":      `{"created":"2026-01-01T00:00:00Z","creators":["Tool: test"]}`,
		"packages":          `[{"SPDXID":"SPDXRef-a","name":"a","downloadLocation":"NONE"}]`,
	}
	for k, v := range extra {
		values[k] = v
	}
	var b strings.Builder
	b.WriteString("{")
	for i, f := range fields {
		if values[f] == "" {
			continue // removed
		}
		if i > 0 && b.Len() > 1 {
			b.WriteString(",\n")
		}
		b.WriteString(`"` + f + `":` + values[f])
	}
	b.WriteString("}")
	return b.String()
}

func TestParseSBOMValid(t *testing.T) {
	for _, tc := range []struct {
		name, doc   string
		specVersion string
		components  int
	}{
		{"cyclonedx 1.4", cdxDoc("1.4", `[{"type":"library","name":"a"}]`), "1.4", 1},
		{"cyclonedx 1.7", cdxDoc("1.7", `[{"type":"library","name":"a"}]`), "1.7", 1},
		{"cyclonedx 1.6 without version", `{"bomFormat":"CycloneDX","specVersion":"1.6"}`, "1.6", 0},
		{"cyclonedx no components", cdxDoc("1.6", `[]`), "1.6", 0},
		{"spdx 2.2", spdxDoc(map[string]string{"spdxVersion": `"SPDX-2.2"`}), "SPDX-2.2", 1},
		{"spdx without packages", spdxDoc(map[string]string{"packages": ""}), "SPDX-2.3", 0},
		{"spdx created with offset", spdxDoc(map[string]string{"creationInfo": `{"created":"2026-01-01T01:00:00+01:00","creators":["Tool: t"]}`}), "SPDX-2.3", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sbom, err := attest.ParseSBOM([]byte(tc.doc), tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.specVersion, sbom.SpecVersion)
			assert.Equal(t, tc.components, sbom.Components)
			assert.Len(t, sbom.Packages, tc.components)
		})
	}
}

func TestParseSBOMInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      error
		path      string
		line      int // 0: not checked
	}{
		{"empty", ``, attest.ErrMalformed, "", 1},
		{"truncated", `{"bomFormat":"CycloneDX",`, attest.ErrMalformed, "", 1},
		{"trailing data", `{} {}`, attest.ErrMalformed, "", 1},
		{"array", `[1,2]`, attest.ErrUnknownFormat, "", 1},
		{"string", `  "CycloneDX"`, attest.ErrUnknownFormat, "", 1},
		{"null", `null`, attest.ErrUnknownFormat, "", 1},
		{"neither", `{"name":"x"}`, attest.ErrUnknownFormat, "", 1},
		{"other bomFormat", `{"bomFormat":"SWID"}`, attest.ErrUnknownFormat, "bomFormat", 1},
		{"bomFormat not a string", `{"bomFormat":7}`, attest.ErrUnknownFormat, "bomFormat", 1},
		{"cyclonedx 2.0", cdxDoc("2.0", `[]`), attest.ErrUnknownFormat, "specVersion", 1},
		{"cyclonedx 1.3", cdxDoc("1.3", `[]`), attest.ErrUnknownFormat, "specVersion", 1},
		{"no specVersion", `{"bomFormat":"CycloneDX"}`, attest.ErrMalformed, "specVersion", 1},
		{"specVersion not a string", `{"bomFormat":"CycloneDX","specVersion":1.6}`, attest.ErrMalformed, "specVersion", 1},
		{"1.5 without version", `{"bomFormat":"CycloneDX","specVersion":"1.5"}`, attest.ErrMalformed, "version", 1},
		{"version zero", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":0}`, attest.ErrMalformed, "version", 1},
		{"version not an integer", `{"bomFormat":"CycloneDX","specVersion":"1.6","version":"1"}`, attest.ErrMalformed, "version", 1},
		{"uppercase serial", `{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:0B1D2C3E-4F50-4617-8A9B-C0D1E2F30415"}`, attest.ErrMalformed, "serialNumber", 1},
		{"components not an array", cdxDoc("1.6", `{}`), attest.ErrMalformed, "components", 1},
		{"component without type", cdxDoc("1.6", "[\n{\"name\":\"a\"}]"), attest.ErrMalformed, "components[0].type", 2},
		{"unknown component type", cdxDoc("1.6", `[{"type":"gadget","name":"a"}]`), attest.ErrMalformed, "components[0].type", 1},
		{"empty name", cdxDoc("1.6", `[{"type":"library","name":""}]`), attest.ErrMalformed, "components[0].name", 1},
		{"null name", cdxDoc("1.6", `[{"type":"library","name":null}]`), attest.ErrMalformed, "components[0].name", 1},
		{"name not a string", cdxDoc("1.6", `[{"type":"library","name":5}]`), attest.ErrMalformed, "components.name", 1},
		{"metadata component without name", `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"type":"application"}}}`, attest.ErrMalformed, "metadata.component.name", 1},
		{"spdx 3.0", spdxDoc(map[string]string{"spdxVersion": `"SPDX-3.0"`}), attest.ErrUnknownFormat, "spdxVersion", 1},
		{"spdx no SPDXID", spdxDoc(map[string]string{"SPDXID": ""}), attest.ErrMalformed, "SPDXID", 1},
		{"spdx bad SPDXID", spdxDoc(map[string]string{"SPDXID": `"DOCUMENT"`}), attest.ErrMalformed, "SPDXID", 3},
		{"spdx no creationInfo", spdxDoc(map[string]string{"creationInfo": ""}), attest.ErrMalformed, "creationInfo", 1},
		{"spdx no created", spdxDoc(map[string]string{"creationInfo": `{"creators":["Tool: t"]}`}), attest.ErrMalformed, "creationInfo.created", 6},
		{"spdx bad created", spdxDoc(map[string]string{"creationInfo": `{"created":"yesterday","creators":["Tool: t"]}`}), attest.ErrMalformed, "creationInfo.created", 6},
		{"spdx no creators", spdxDoc(map[string]string{"creationInfo": `{"created":"2026-01-01T00:00:00Z"}`}), attest.ErrMalformed, "creationInfo.creators", 6},
		{"spdx empty creators", spdxDoc(map[string]string{"creationInfo": `{"created":"2026-01-01T00:00:00Z","creators":[]}`}), attest.ErrMalformed, "creationInfo.creators", 6},
		{"spdx no dataLicense", spdxDoc(map[string]string{"dataLicense": ""}), attest.ErrMalformed, "dataLicense", 1},
		{"spdx no name", spdxDoc(map[string]string{"name": ""}), attest.ErrMalformed, "name", 1},
		{"spdx no documentNamespace", spdxDoc(map[string]string{"documentNamespace": ""}), attest.ErrMalformed, "documentNamespace", 1},
		{"spdx package without name", spdxDoc(map[string]string{"packages": `[{"SPDXID":"SPDXRef-a","downloadLocation":"NONE"}]`}), attest.ErrMalformed, "packages[0].name", 7},
		{"spdx package without downloadLocation", spdxDoc(map[string]string{"packages": `[{"SPDXID":"SPDXRef-a","name":"a"}]`}), attest.ErrMalformed, "packages[0].downloadLocation", 7},
		{"spdx package bad SPDXID", spdxDoc(map[string]string{"packages": `[{"SPDXID":"SPDXRef-a_b","name":"a","downloadLocation":"NONE"}]`}), attest.ErrMalformed, "packages[0].SPDXID", 7},
		{"spdx packages not an array", spdxDoc(map[string]string{"packages": `"none"`}), attest.ErrMalformed, "packages", 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sbom, err := attest.ParseSBOM([]byte(tc.doc), "doc.json")
			assert.Nil(t, sbom)
			assert.ErrorIs(t, err, tc.want)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "doc.json", pe.Source)
			assert.Equal(t, tc.path, pe.Path)
			if tc.line != 0 {
				assert.Equal(t, tc.line, pe.Line)
			}
		})
	}
}

func TestParseSBOMErrorText(t *testing.T) {
	_, err := attest.ParseSBOM(sbomFixture(t, "bad-cyclonedx-1.2.json"), "sbom.json")
	require.Error(t, err)
	assert.Equal(t, `sbom.json:3:18: specVersion: unknown evidence format: unsupported CycloneDX spec version "1.2"`, err.Error())

	_, err = attest.ParseSBOM(sbomFixture(t, "bad-component-no-name.json"), "sbom.json")
	require.Error(t, err)
	assert.Equal(t, `sbom.json:10:9: components[1].components[0].name: malformed evidence: name missing`, err.Error())
}

func TestReadSBOMLimit(t *testing.T) {
	// A document just over the limit is refused before it is parsed.
	doc := cdxDoc("1.6", `[]`)
	big := io.MultiReader(strings.NewReader(doc), bytes.NewReader(bytes.Repeat([]byte(" "), attest.MaxEvidenceSize)))
	sbom, err := attest.ReadSBOM(big, "big.json")
	assert.Nil(t, sbom)
	assert.ErrorIs(t, err, attest.ErrMalformed)
	var pe *attest.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "big.json", pe.Source)

	data := append([]byte(doc), bytes.Repeat([]byte(" "), attest.MaxEvidenceSize)...)
	_, err = attest.ParseSBOM(data, "big.json")
	assert.ErrorIs(t, err, attest.ErrMalformed)
}

// deepDoc is a CycloneDX document of components nested depth levels deep;
// the innermost has no name unless named is set.
func deepDoc(depth int, named bool) []byte {
	var b strings.Builder
	b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":`)
	for range depth {
		b.WriteString(`[{"type":"library","name":"a","components":`)
	}
	if named {
		b.WriteString(`[{"type":"library","name":"z"}]`)
	} else {
		b.WriteString(`[{"type":"library"}]`)
	}
	b.WriteString(strings.Repeat(`}]`, depth) + `}`)
	return []byte(b.String())
}

func TestParseSBOMDeep(t *testing.T) {
	const depth = 3000 // the decoder allows 10000 levels of JSON, two per level here
	sbom, err := attest.ParseSBOM(deepDoc(depth, true), "deep.json")
	require.NoError(t, err)
	assert.Equal(t, depth+1, sbom.Components)

	// The path of a fault is exact however deep it is; finding its line in
	// a document this deep would cost too much, so it may have none.
	_, err = attest.ParseSBOM(deepDoc(depth, false), "deep.json")
	assert.ErrorIs(t, err, attest.ErrMalformed)
	var pe *attest.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "components[0]"+strings.Repeat(".components[0]", depth)+".name", pe.Path)
}
