package attest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// checkParseError asserts that err is what the parsers of scans promise:
// a *ParseError wrapping ErrMalformed or ErrUnknownFormat.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *attest.ParseError
	require.ErrorAs(t, err, &pe, "%T: %v", err, err)
	assert.True(t, errors.Is(err, attest.ErrMalformed) || errors.Is(err, attest.ErrUnknownFormat), "%v", err)
}

// checkScan asserts the promises of a parsed scan: a known format, time in
// UTC, findings sorted by ID then package without repeats, each with an
// ID, a severity on the scale and sorted aliases without the ID.
func checkScan(t *testing.T, s *attest.Scan) {
	t.Helper()
	require.NotNil(t, s)
	assert.Contains(t, []string{attest.ScanTrivy, attest.ScanGrype, attest.ScanGovulncheck, attest.ScanSARIF}, s.Format)
	assert.Equal(t, time.UTC, s.Time.Location())
	for i, f := range s.Findings {
		assert.NotEmpty(t, f.ID, "finding %d", i)
		assert.Contains(t, attest.Severities, f.Severity, "finding %d", i)
		assert.True(t, slices.IsSorted(f.Aliases), "finding %d aliases", i)
		assert.Equal(t, len(f.Aliases), len(slices.Compact(slices.Clone(f.Aliases))), "finding %d aliases repeat", i)
		assert.NotContains(t, f.Aliases, f.ID, "finding %d", i)
		if i > 0 {
			p := s.Findings[i-1]
			assert.True(t, p.ID < f.ID || p.ID == f.ID && p.Package < f.Package, "findings %d and %d out of order", i-1, i)
		}
	}
}

// fuzzTime is when fuzzed scans are said to finish.
var fuzzTime = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

func FuzzParseScan(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "scan", "*.json"))
	require.NoError(f, err)
	require.NotEmpty(f, files)
	for _, name := range files {
		f.Add(readScanFixture(f, filepath.Base(name)))
	}
	stream := readScanFixture(f, "govulncheck.json")
	f.Add([]byte("[" + strings.ReplaceAll(strings.TrimSpace(string(stream)), "}\n{", "},\n{") + "]"))
	f.Add([]byte(`{"config":{"scan_level":"module","go_version":"go1.26.5"}}{"finding":{"osv":"GO-1","trace":[{"module":"stdlib"}]}}`))
	f.Add([]byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","rules":[{"id":"R","properties":{"security-severity":8}}]}},"results":[{"rule":{"index":0}}]}]}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := attest.ParseScan(data, "fuzz.json")
		if err != nil {
			assert.Nil(t, s)
			checkParseError(t, err)
			return
		}
		checkScan(t, s)

		again, err := attest.ParseScan(data, "fuzz.json")
		require.NoError(t, err)
		assert.Equal(t, s, again, "parsing twice")

		merged := attest.MergeFindings(s)
		assert.Equal(t, merged, attest.MergeFindings(s, s), "merging is idempotent")
		checkScan(t, &attest.Scan{Format: s.Format, Findings: merged})

		// The report survives a vuln predicate.
		pred, err := attest.NewVulnPredicate(data, s, time.Time{}, fuzzTime)
		require.NoError(t, err)
		got, _, err := attest.ParseVulnPredicate(pred, "fuzz.json")
		require.NoError(t, err)
		want := *s
		want.Time = fuzzTime
		assert.Equal(t, &want, got, "through a vuln predicate")
	})
}

func FuzzParseVulnPredicate(f *testing.F) {
	for _, name := range []string{"trivy.json", "grype.json", "govulncheck.json", "sarif.json"} {
		pred, err := attest.NewVulnPredicate(readScanFixture(f, name), parseScanFixture(f, name), time.Time{}, fuzzTime)
		require.NoError(f, err)
		f.Add(pred)
	}
	var grype bytes.Buffer
	require.NoError(f, json.Compact(&grype, readScanFixture(f, "grype.json")))
	f.Add([]byte(`{"invocation":{"parameters":["--format=json"],"uri":"https://ci.example/1","event_id":"1","builder.id":"ci"},` +
		`"scanners":[{"uri":"pkg:github/anchore/grype@0.92.2","version":"0.92.2","db":{"uri":"u","version":"v"},"result":` + grype.String() + `}],` +
		`"metadata":{"scanStartedOn":"2026-11-20T08:00:00.5Z","scanFinishedOn":"2026-11-20T10:00:00.25+01:00"}}`))
	f.Add([]byte(`{"scanner":{"result":{"bomFormat":"CycloneDX"}}}`))
	f.Add([]byte(`{"scanner":{"result":[{"config":{}}]},"metadata":{"scanFinishedOn":"2026-11-20T10:00:00Z"}}`))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, p, err := attest.ParseVulnPredicate(data, "fuzz.json")
		if err != nil {
			assert.Nil(t, s)
			assert.Nil(t, p)
			checkParseError(t, err)
			return
		}
		checkScan(t, s)
		require.NotNil(t, p)

		s2, p2, err := attest.ParseVulnPredicate(data, "fuzz.json")
		require.NoError(t, err)
		assert.Equal(t, s, s2, "parsing twice")
		assert.Equal(t, p, p2, "parsing twice")

		if s.Time.IsZero() {
			return
		}
		// Written again from what was read, it reads the same, to the second.
		pred, err := attest.NewVulnPredicate(p.Scanner.Result, s, time.Time{}, time.Time{})
		require.NoError(t, err)
		got, _, err := attest.ParseVulnPredicate(pred, "again.json")
		require.NoError(t, err)
		want := *s
		want.Time = s.Time.Truncate(time.Second)
		assert.Equal(t, &want, got, "written again")
	})
}
