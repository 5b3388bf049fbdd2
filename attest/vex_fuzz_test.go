package attest_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// FuzzParseVEX checks that ParseVEX never panics, that what it accepts has
// what ApplyVEX relies on and survives a round trip through JSON in the
// form a predicate takes, and that what it refuses is a ParseError of one
// of its two kinds.
func FuzzParseVEX(f *testing.F) {
	fixtures, err := filepath.Glob(filepath.Join("testdata", "vex", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, fixtures)
	for _, name := range fixtures {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(vexJSON))
	f.Add([]byte(withStatements(`{"vulnerability": {"name": "CVE-2026-1", "aliases": []}, "status": "not_affected",
		"impact_statement": "x", "timestamp": "2026-03-01T10:00:00.5-07:00",
		"products": [{"@id": "a", "identifiers": {}, "hashes": {"sha-256": "00"}, "subcomponents": [{}]}]}`)))

	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := attest.ParseVEX(data, "fuzz.json")
		if err != nil {
			assert.Nil(t, doc)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "fuzz.json", pe.Source)
			assert.True(t, errors.Is(err, attest.ErrMalformed) || errors.Is(err, attest.ErrUnknownFormat), "%v", err)
			return
		}
		require.NotNil(t, doc)
		for i, st := range doc.Statements {
			assert.Contains(t, []attest.VEXStatus{attest.VEXNotAffected, attest.VEXAffected, attest.VEXFixed, attest.VEXUnderInvestigation},
				st.Status, "statement %d", i)
			assert.NotEmpty(t, st.Vulnerability.Name, "statement %d", i)
		}

		raw, err := json.Marshal(doc)
		require.NoError(t, err)
		normal, err := attest.NormalizeJSON(raw)
		require.NoError(t, err)
		again, err := attest.ParseVEX(normal, "again.json")
		require.NoError(t, err)
		assert.Equal(t, doc, again)

		// Applying the document to a finding of each of its statements
		// must not fail either, and it sorts every finding somewhere.
		var findings []attest.Finding
		for _, st := range doc.Statements {
			findings = append(findings, attest.Finding{ID: st.Vulnerability.Name, Package: "pkg:golang/example.com/x@v1"})
		}
		open, suppressed := attest.ApplyVEX(findings, []*attest.VEX{doc}, []string{"pkg:golang/example.com/app@v1"})
		assert.Equal(t, len(findings), len(open)+len(suppressed))
	})
}
