package attest_test

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// FuzzParseSBOM checks that ParseSBOM fails only with a ParseError of a
// known kind and otherwise returns a consistent SBOM: the count matches
// the packages, the packages are sorted, a second parse and a parse of
// the normalized form give the same value.
func FuzzParseSBOM(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "sbom", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	doc, err := attest.GoSBOM(attest.GoSBOMInput{Name: "shop", Version: "7", Created: created, Binaries: []attest.GoBinary{
		{Path: "bin/server", Info: handInfo()},
	}})
	require.NoError(f, err)
	f.Add(doc)
	f.Add([]byte(cdxDoc("1.4", `[{"type":"library","name":"a","components":[{"type":"file","name":"b"}]}]`)))
	f.Add([]byte(spdxDoc(nil)))
	f.Add([]byte(`{"bomFormat":"CycloneDX","spdxVersion":"SPDX-2.3"}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		sbom, err := attest.ParseSBOM(data, "fuzz")
		if err != nil {
			assert.Nil(t, sbom)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "fuzz", pe.Source)
			assert.True(t, errors.Is(err, attest.ErrMalformed) || errors.Is(err, attest.ErrUnknownFormat), "error kind: %v", err)
			assert.GreaterOrEqual(t, pe.Line, 0)
			if pe.Line > 0 {
				assert.Positive(t, pe.Column)
			}
			return
		}
		require.NotNil(t, sbom)
		assert.GreaterOrEqual(t, sbom.Components, 0)
		assert.Len(t, sbom.Packages, sbom.Components)
		assert.True(t, slices.IsSortedFunc(sbom.Packages, func(a, b attest.Package) int {
			return cmp.Or(strings.Compare(a.PURL, b.PURL), strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version))
		}), "packages sorted")
		switch sbom.PredicateType {
		case attest.PredicateCycloneDX:
			assert.Equal(t, attest.MediaTypeCycloneDX, sbom.MediaType)
			assert.Contains(t, []string{"1.4", "1.5", "1.6", "1.7"}, sbom.SpecVersion)
		case attest.PredicateSPDX:
			assert.Equal(t, attest.MediaTypeSPDX, sbom.MediaType)
			assert.Contains(t, []string{"SPDX-2.2", "SPDX-2.3"}, sbom.SpecVersion)
		default:
			t.Errorf("predicate type %q", sbom.PredicateType)
		}

		again, err := attest.ParseSBOM(data, "fuzz")
		require.NoError(t, err)
		assert.Equal(t, sbom, again, "parsing twice gives the same SBOM")

		norm, err := attest.NormalizeJSON(data)
		require.NoError(t, err, "accepted input is JSON")
		fromNorm, err := attest.ParseSBOM(norm, "fuzz")
		require.NoError(t, err, "the normalized form is accepted too")
		assert.Equal(t, sbom, fromNorm, "the normalized form reads the same")
	})
}
