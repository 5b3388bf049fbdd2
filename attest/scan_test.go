package attest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// readScanFixture returns the bytes of testdata/scan/name.
func readScanFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "scan", name))
	require.NoError(t, err)
	return b
}

// parseScanFixture parses testdata/scan/name, which must be valid.
func parseScanFixture(t testing.TB, name string) *attest.Scan {
	t.Helper()
	s, err := attest.ParseScan(readScanFixture(t, name), name)
	require.NoError(t, err)
	return s
}

// The findings every fixture shares, as each scanner reports them.
var (
	xnetTrivy = attest.Finding{
		ID: "CVE-2026-30101", Aliases: []string{"GHSA-7wq2-9c4h-m3xv", "GO-2026-4101"},
		Package: "pkg:golang/golang.org/x/net@v0.40.0", Installed: "v0.40.0", Fixed: "0.41.1, 0.42.0",
		Severity: attest.SeverityHigh,
	}
	xtextTrivy = attest.Finding{
		ID: "GHSA-5m8r-q6vc-h2fw", Package: "pkg:golang/golang.org/x/text@v0.25.0",
		Installed: "v0.25.0", Fixed: "0.26.0", Severity: attest.SeverityMedium,
	}
)

func TestParseScanTrivy(t *testing.T) {
	s := parseScanFixture(t, "trivy.json")
	assert.Equal(t, &attest.Scan{
		Format:  attest.ScanTrivy,
		Scanner: attest.Scanner{Name: "trivy", Version: "0.64.1", URI: "pkg:github/aquasecurity/trivy@0.64.1"},
		Time:    time.Date(2026, 11, 20, 9, 0, 41, 0, time.UTC), // CreatedAt was +01:00
		Findings: []attest.Finding{
			// Reported for bin/shop and bin/worker with one alias each: one finding.
			xnetTrivy,
			{
				ID: "CVE-2026-30477", Package: "pkg:golang/stdlib@v1.26.5", Installed: "v1.26.5",
				Fixed: "1.25.9, 1.26.6", Severity: attest.SeverityCritical,
			},
			// No PkgIdentifier: the package is its name.
			{ID: "CVE-2026-31555", Package: "github.com/acme/yaml", Installed: "v1.2.0", Severity: attest.SeverityUnknown},
			xtextTrivy,
		},
	}, s)
}

func TestParseScanGrype(t *testing.T) {
	s := parseScanFixture(t, "grype.json")
	assert.Equal(t, &attest.Scan{
		Format:  attest.ScanGrype,
		Scanner: attest.Scanner{Name: "grype", Version: "0.92.2", URI: "pkg:github/anchore/grype@0.92.2"},
		Time:    time.Date(2026, 11, 20, 9, 2, 13, 250_000_000, time.UTC),
		Findings: []attest.Finding{
			// The GHSA match names the CVE as a related vulnerability: the CVE is the ID.
			{
				ID: "CVE-2026-30101", Aliases: []string{"GHSA-7wq2-9c4h-m3xv"},
				Package: "pkg:golang/golang.org/x/net@v0.40.0", Installed: "v0.40.0", Fixed: "0.42.0",
				Severity: attest.SeverityHigh,
			},
			{
				ID: "CVE-2026-31555", Aliases: []string{"GHSA-q3rc-8vjw-x2mf"},
				Package: "pkg:golang/github.com/acme/yaml@v1.2.0", Installed: "v1.2.0",
				Severity: attest.SeverityLow, // Negligible
			},
			xtextTrivy,
		},
	}, s)
}

func TestParseScanGovulncheck(t *testing.T) {
	want := &attest.Scan{
		Format:  attest.ScanGovulncheck,
		Scanner: attest.Scanner{Name: "govulncheck", Version: "v1.1.4", URI: "pkg:golang/golang.org/x/vuln@v1.1.4"},
		// Only called vulnerabilities count at scan level symbol: x/text is
		// required and imported, never called.
		Findings: []attest.Finding{
			{
				ID: "CVE-2026-30101", Aliases: []string{"GHSA-7wq2-9c4h-m3xv", "GO-2026-4101"},
				Package: "pkg:golang/golang.org/x/net@v0.40.0", Installed: "v0.40.0", Fixed: "v0.42.0",
				Severity: attest.SeverityUnknown,
			},
			{
				ID: "CVE-2026-30477", Aliases: []string{"GO-2026-4150"},
				Package: "pkg:golang/stdlib@v1.26.5", Installed: "v1.26.5", Fixed: "v1.26.6",
				Severity: attest.SeverityUnknown,
			},
		},
	}
	stream := readScanFixture(t, "govulncheck.json")
	s, err := attest.ParseScan(stream, "govulncheck.json")
	require.NoError(t, err)
	assert.Equal(t, want, s)

	// The same messages in an array, as a vuln predicate holds them.
	var msgs []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(stream))
	for dec.More() {
		var m json.RawMessage
		require.NoError(t, dec.Decode(&m))
		msgs = append(msgs, m)
	}
	array, err := json.MarshalIndent(msgs, "", "  ")
	require.NoError(t, err)
	s, err = attest.ParseScan(array, "govulncheck-array.json")
	require.NoError(t, err)
	assert.Equal(t, want, s)
}

func TestParseScanGovulncheckLevels(t *testing.T) {
	const (
		required = `{"finding":{"osv":"GO-2026-0001","trace":[{"module":"golang.org/x/net","version":"v0.40.0"}]}}`
		imported = `{"finding":{"osv":"GO-2026-0002","trace":[{"module":"golang.org/x/net","version":"v0.40.0","package":"golang.org/x/net/html"}]}}`
		called   = `{"finding":{"osv":"GO-2026-0003","trace":[{"module":"golang.org/x/net","version":"v0.40.0","package":"golang.org/x/net/html","function":"Parse"}]}}`
	)
	for _, tc := range []struct {
		level string
		want  []string
	}{
		{"", []string{"GO-2026-0003"}},
		{"symbol", []string{"GO-2026-0003"}},
		{"package", []string{"GO-2026-0002", "GO-2026-0003"}},
		{"module", []string{"GO-2026-0001", "GO-2026-0002", "GO-2026-0003"}},
	} {
		t.Run("level "+tc.level, func(t *testing.T) {
			stream := `{"config":{"protocol_version":"v1.0.0","scan_level":"` + tc.level + `"}}` + "\n" + required + "\n" + imported + "\n" + called
			s, err := attest.ParseScan([]byte(stream), "stream.json")
			require.NoError(t, err)
			var ids []string
			for _, f := range s.Findings {
				ids = append(ids, f.ID)
				assert.Equal(t, "pkg:golang/golang.org/x/net@v0.40.0", f.Package)
			}
			assert.Equal(t, tc.want, ids)
		})
	}
}

func TestParseScanGovulncheckStdlib(t *testing.T) {
	// A stdlib frame without a version takes the config's Go version; a
	// "go1.x" version is written as "v1.x", as govulncheck and Trivy do.
	stream := `{"config":{"go_version":"go1.26.5","scan_level":"module","scanner_name":"vulnwrap"}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.6","trace":[{"module":"stdlib"}]}}
{"finding":{"osv":"GO-2026-0002","trace":[{"module":"stdlib","version":"go1.26.5","package":"net/http"}]}}
{"finding":{"osv":"GO-2026-0003","trace":[{"module":"github.com/acme/yaml","version":"v1.2.0"}]}}`
	s, err := attest.ParseScan([]byte(stream), "stream.json")
	require.NoError(t, err)
	assert.Equal(t, attest.Scanner{Name: "vulnwrap"}, s.Scanner, "a wrapper of govulncheck is not govulncheck")
	assert.Equal(t, []attest.Finding{
		{ID: "GO-2026-0001", Package: "pkg:golang/stdlib@v1.26.5", Installed: "v1.26.5", Fixed: "v1.26.6", Severity: attest.SeverityUnknown},
		{ID: "GO-2026-0002", Package: "pkg:golang/stdlib@v1.26.5", Installed: "v1.26.5", Severity: attest.SeverityUnknown},
		{ID: "GO-2026-0003", Package: "pkg:golang/github.com/acme/yaml@v1.2.0", Installed: "v1.2.0", Severity: attest.SeverityUnknown},
	}, s.Findings)
}

func TestParseScanSARIF(t *testing.T) {
	s := parseScanFixture(t, "sarif.json")
	assert.Equal(t, &attest.Scan{
		Format:  attest.ScanSARIF,
		Scanner: attest.Scanner{Name: "gosec", Version: "2.22.5", URI: "https://github.com/securego/gosec/"},
		Time:    time.Date(2026, 11, 20, 9, 5, 2, 0, time.UTC),
		Findings: []attest.Finding{
			// Second run: security-severity 9.8, a number rather than a string.
			{ID: "CVE-2026-30101", Package: "pkg:golang/golang.org/x/net@v0.40.0", Severity: attest.SeverityCritical},
			// security-severity 7.5 wins over level error; two results in one file are one finding.
			{ID: "G101", Package: "internal/config/config.go", Severity: attest.SeverityHigh},
			// No level: the rule's default level, note.
			{ID: "G104", Package: "cmd/shop/main.go", Severity: attest.SeverityLow},
			// No level and no default: warning.
			{ID: "G115", Package: "internal/server/limits.go", Severity: attest.SeverityMedium},
			// security-severity 9.0: critical.
			{ID: "G402", Package: "internal/client/client.go", Severity: attest.SeverityCritical},
		},
	}, s)
}

func TestParseScanSARIFSeverity(t *testing.T) {
	sarif := func(rule, result string) []byte {
		return []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x","semanticVersion":"1.0.0","rules":[` + rule +
			`]}},"results":[` + result + `]}]}`)
	}
	for _, tc := range []struct {
		name, rule, result string
		want               attest.Severity
	}{
		{"score 9.0", `{"id":"R","properties":{"security-severity":"9.0"}}`, `{"ruleId":"R","level":"note"}`, attest.SeverityCritical},
		{"score 8.9", `{"id":"R","properties":{"security-severity":"8.9"}}`, `{"ruleId":"R"}`, attest.SeverityHigh},
		{"score 7.0", `{"id":"R","properties":{"security-severity":"7.0"}}`, `{"ruleId":"R"}`, attest.SeverityHigh},
		{"score 6.9", `{"id":"R","properties":{"security-severity":"6.9"}}`, `{"ruleId":"R"}`, attest.SeverityMedium},
		{"score 4.0", `{"id":"R","properties":{"security-severity":"4.0"}}`, `{"ruleId":"R"}`, attest.SeverityMedium},
		{"score 3.9", `{"id":"R","properties":{"security-severity":"3.9"}}`, `{"ruleId":"R"}`, attest.SeverityLow},
		{"score 0", `{"id":"R","properties":{"security-severity":"0"}}`, `{"ruleId":"R"}`, attest.SeverityLow},
		{"level error", `{"id":"R"}`, `{"ruleId":"R","level":"error"}`, attest.SeverityHigh},
		{"level warning", `{"id":"R"}`, `{"ruleId":"R","level":"warning"}`, attest.SeverityMedium},
		{"level none", `{"id":"R"}`, `{"ruleId":"R","level":"none"}`, attest.SeverityLow},
		{"default level", `{"id":"R","defaultConfiguration":{"level":"error"}}`, `{"ruleId":"R"}`, attest.SeverityHigh},
		{"result level over default", `{"id":"R","defaultConfiguration":{"level":"error"}}`, `{"ruleId":"R","level":"note"}`, attest.SeverityLow},
		{"rule by index", `{"id":"R","properties":{"security-severity":"9.5"}}`, `{"rule":{"index":0}}`, attest.SeverityCritical},
		{"no rule", ``, `{"ruleId":"R"}`, attest.SeverityMedium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := attest.ParseScan(sarif(tc.rule, tc.result), "x.sarif")
			require.NoError(t, err)
			require.Len(t, s.Findings, 1)
			assert.Equal(t, attest.Finding{ID: "R", Severity: tc.want}, s.Findings[0])
			assert.Equal(t, attest.Scanner{Name: "x", Version: "1.0.0"}, s.Scanner)
		})
	}
}

func TestParseScanIDs(t *testing.T) {
	// The smallest CVE by year and number is the ID, whichever the scanner
	// put first; the other names are aliases, sorted and deduplicated.
	report := `{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"a","Vulnerabilities":[
		{"VulnerabilityID":"GHSA-aaaa-bbbb-cccc","VendorIDs":["CVE-2026-10000","CVE-2026-9999","GHSA-aaaa-bbbb-cccc","CVE-2027-1000"],"PkgName":"p","Severity":"LOW"},
		{"VulnerabilityID":"GO-2026-0001","VendorIDs":["GHSA-dddd-eeee-ffff"],"PkgName":"p","Severity":"LOW"}]}]}`
	s, err := attest.ParseScan([]byte(report), "ids.json")
	require.NoError(t, err)
	assert.Equal(t, []attest.Finding{
		{ID: "CVE-2026-9999", Aliases: []string{"CVE-2026-10000", "CVE-2027-1000", "GHSA-aaaa-bbbb-cccc"}, Package: "p", Severity: attest.SeverityLow},
		{ID: "GO-2026-0001", Aliases: []string{"GHSA-dddd-eeee-ffff"}, Package: "p", Severity: attest.SeverityLow},
	}, s.Findings)
}

func TestParseScanDetect(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"trivy without results", `{"SchemaVersion":2,"ArtifactName":"alpine:3.20"}`, attest.ScanTrivy},
		{"grype with source only", `{"matches":[],"source":{"type":"image"}}`, attest.ScanGrype},
		{"sarif", `{"version":"2.1.0","runs":[]}`, attest.ScanSARIF},
		{"govulncheck progress first", `{"progress":{"message":"x"}}` + "\n" + `{"config":{}}`, attest.ScanGovulncheck},
		{"govulncheck array", ` [{"config":{"protocol_version":"v1.0.0"}}]`, attest.ScanGovulncheck},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The name says SARIF; only the content counts.
			s, err := attest.ParseScan([]byte(tc.data), "report.sarif")
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Format)
			assert.Empty(t, s.Findings)
		})
	}
}

func TestParseScanUnknownFormat(t *testing.T) {
	for _, tc := range []struct {
		name, data, says string
	}{
		{"fixture", string(readScanFixture(t, "bad-unknown.json")), "a JSON object with keys bomFormat, components, specVersion, version: not a Trivy, Grype, govulncheck or SARIF report"},
		{"empty object", `{}`, "an empty JSON object"},
		{"string", `"trivy"`, "a JSON string"},
		{"empty array", `[]`, "an empty JSON array"},
		{"array of objects", `[{"a":1}]`, "a JSON array whose first element is a JSON object with key a"},
		{"sarif 2.0", `{"version":"2.0.0","runs":[]}`, `a SARIF log of version "2.0.0": only SARIF 2.1.0 is read`},
		{"trivy schema 1", `{"SchemaVersion":1,"Results":[]}`, "Trivy report schema version 1: only version 2 is read"},
		{"grype matches not an array", `{"matches":{},"source":{}}`, "a JSON object with keys matches, source"},
		{"two govulncheck keys", `{"config":{},"osv":{}}`, "a JSON object with keys config, osv"},
		{"many keys", `{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j k":1}`, "keys a, b, c, d, e, f, g, h, …"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attest.ParseScan([]byte(tc.data), "in.json")
			require.Error(t, err)
			assert.ErrorIs(t, err, attest.ErrUnknownFormat)
			assert.NotErrorIs(t, err, attest.ErrMalformed)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "in.json", pe.Source)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

func TestParseScanMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		line, col  int
		path, says string
	}{
		// Syntax and type errors point just past the offending byte or value
		// (jsonError; the '}' here is the 64th byte of line 6); errors about
		// a value point at its start.
		{"fixture", string(readScanFixture(t, "bad-malformed.json")), 6, 64, "", "invalid character '}'"},
		// An unknown severity word: the message names the file, line, column and path.
		{"bad-severity", string(readScanFixture(t, "bad-severity.json")), 20, 23,
			"Results[0].Vulnerabilities[1].Severity", `bad-severity.json:20:23: Results[0].Vulnerabilities[1].Severity: malformed evidence: unknown severity "SEVERE"`},
		{"empty", "  \n", 2, 1, "", "empty input"},
		{"truncated", `{"SchemaVersion":2,"Results":[`, 1, 31, "", "truncated JSON"},
		{"trailing data", `{"SchemaVersion":2,"Results":[]} {}`, 1, 34, "", "after top-level value"},
		{"wrong type", "{\"SchemaVersion\":2,\n\"Results\":[{\"Vulnerabilities\":[{\"Severity\":3}]}]}", 2, 45, "Results.Vulnerabilities.Severity", "is JSON number, want string"},
		{"no vulnerability ID", "{\"SchemaVersion\":2,\"Results\":[{\"Vulnerabilities\":[\n{\"VulnerabilityID\":\"\",\"Severity\":\"LOW\"}]}]}", 2, 20,
			"Results[0].Vulnerabilities[0].VulnerabilityID", "vulnerability ID is missing"},
		{"trivy time", `{"SchemaVersion":2,"ArtifactName":"a","CreatedAt":"yesterday"}`, 1, 51, "CreatedAt", "not RFC 3339"},
		{"grype severity", `{"matches":[{"vulnerability":{"id":"CVE-2026-1000","severity":"Huge"}}],"source":{}}`, 1, 63,
			"matches[0].vulnerability.severity", `unknown severity "Huge"`},
		{"grype time", `{"matches":[],"descriptor":{"timestamp":"2026-13-01T00:00:00Z"}}`, 1, 41, "descriptor.timestamp", "not RFC 3339"},
		{"govulncheck scan level", "{\"config\":{\"scan_level\":\"function\"}}", 1, 25, "[0].config.scan_level", `scan level "function"`},
		{"govulncheck message not an object", "{\"config\":{}}\n[1]", 2, 1, "[1]", "must be a JSON object"},
		{"govulncheck syntax", "{\"config\":{}}\n{\"osv\":{\"id\":}}", 2, 14, "", "invalid character '}'"},
		{"govulncheck wrong type", "{\"config\":{}}\n{\"osv\":{\"id\":\"GO-2026-0001\",\n\"aliases\":\"CVE-2026-1000\"}}", 3, 26, "[1].osv.aliases", "is JSON string, want []string"},
		{"govulncheck no osv", "{\"config\":{}}\n{\"finding\":{\"osv\":\"\",\"trace\":[{\"module\":\"m\"}]}}", 2, 19, "[1].finding.osv", "OSV ID is missing"},
		{"govulncheck no trace", "{\"config\":{}}\n{\"finding\":{\"osv\":\"GO-2026-0001\"}}", 2, 1, "[1].finding.trace", "module of the first frame is missing"},
		{"govulncheck array trailing", `[{"config":{}}] x`, 1, 17, "", "after top-level value"},
		{"sarif level", `{"version":"2.1.0","runs":[{"results":[{"ruleId":"R","level":"fatal"}]}]}`, 1, 62, "runs[0].results[0].level", `SARIF level "fatal"`},
		{"sarif default level", `{"version":"2.1.0","runs":[{"tool":{"driver":{"rules":[{"id":"R","defaultConfiguration":{"level":"loud"}}]}},"results":[{"ruleId":"R"}]}]}`, 1, 98,
			"runs[0].tool.driver.rules[0].defaultConfiguration.level", `SARIF level "loud"`},
		{"sarif score", `{"version":"2.1.0","runs":[{"tool":{"driver":{"rules":[{"id":"R","properties":{"security-severity":"11"}}]}},"results":[{"ruleId":"R"}]}]}`, 1, 100,
			"runs[0].tool.driver.rules[0].properties.security-severity", `security-severity "11"`},
		{"sarif no rule ID", `{"version":"2.1.0","runs":[{"results":[{"level":"error"}]}]}`, 1, 40, "runs[0].results[0]", "rule ID is missing"},
		{"sarif time", `{"version":"2.1.0","runs":[{"invocations":[{"endTimeUtc":"now"}]}]}`, 1, 58, "runs[0].invocations[0].endTimeUtc", "not RFC 3339"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attest.ParseScan([]byte(tc.data), tc.name+".json")
			require.Error(t, err)
			assert.ErrorIs(t, err, attest.ErrMalformed)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.line, pe.Line, "line")
			assert.Equal(t, tc.col, pe.Column, "column")
			assert.Equal(t, tc.path, pe.Path)
			assert.Equal(t, tc.name+".json", pe.Source)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

// spaces is an endless reader of blanks.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestReadScan(t *testing.T) {
	for _, name := range []string{"trivy.json", "grype.json", "govulncheck.json", "sarif.json"} {
		s, err := attest.ReadScan(bytes.NewReader(readScanFixture(t, name)), name)
		require.NoError(t, err)
		assert.Equal(t, parseScanFixture(t, name), s, name)
	}

	big := io.MultiReader(strings.NewReader(`{"SchemaVersion":2,"Results":[]}`), io.LimitReader(spaces{}, attest.MaxEvidenceSize))
	_, err := attest.ReadScan(big, "big.json")
	require.Error(t, err)
	assert.ErrorIs(t, err, attest.ErrMalformed)
	var pe *attest.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "big.json", pe.Source)

	// Exactly the limit is read.
	limit := io.MultiReader(strings.NewReader(`{"SchemaVersion":2,"Results":[]}`), io.LimitReader(spaces{}, attest.MaxEvidenceSize-32))
	s, err := attest.ReadScan(limit, "limit.json")
	require.NoError(t, err)
	assert.Equal(t, attest.ScanTrivy, s.Format)

	failing := errors.New("disk on fire")
	_, err = attest.ReadScan(io.MultiReader(strings.NewReader("{"), iotestErrReader{failing}), "broken.json")
	assert.ErrorIs(t, err, failing)
	assert.ErrorAs(t, err, &pe)
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestMergeFindings(t *testing.T) {
	var scans []*attest.Scan
	for _, name := range []string{"trivy.json", "grype.json", "govulncheck.json", "sarif.json"} {
		scans = append(scans, parseScanFixture(t, name))
	}
	want := []attest.Finding{
		// All four scanners; SARIF's 9.8 is the highest severity; Trivy,
		// first, gives the versions.
		{
			ID: "CVE-2026-30101", Aliases: []string{"GHSA-7wq2-9c4h-m3xv", "GO-2026-4101"},
			Package: "pkg:golang/golang.org/x/net@v0.40.0", Installed: "v0.40.0", Fixed: "0.41.1, 0.42.0",
			Severity: attest.SeverityCritical,
		},
		// Trivy (critical) and govulncheck (unknown).
		{
			ID: "CVE-2026-30477", Aliases: []string{"GO-2026-4150"},
			Package: "pkg:golang/stdlib@v1.26.5", Installed: "v1.26.5", Fixed: "1.25.9, 1.26.6",
			Severity: attest.SeverityCritical,
		},
		// Trivy names the package, Grype gives its purl: not the same package.
		{ID: "CVE-2026-31555", Package: "github.com/acme/yaml", Installed: "v1.2.0", Severity: attest.SeverityUnknown},
		{
			ID: "CVE-2026-31555", Aliases: []string{"GHSA-q3rc-8vjw-x2mf"},
			Package: "pkg:golang/github.com/acme/yaml@v1.2.0", Installed: "v1.2.0", Severity: attest.SeverityLow,
		},
		{ID: "G101", Package: "internal/config/config.go", Severity: attest.SeverityHigh},
		{ID: "G104", Package: "cmd/shop/main.go", Severity: attest.SeverityLow},
		{ID: "G115", Package: "internal/server/limits.go", Severity: attest.SeverityMedium},
		{ID: "G402", Package: "internal/client/client.go", Severity: attest.SeverityCritical},
		// Trivy and Grype.
		xtextTrivy,
	}
	assert.Equal(t, want, attest.MergeFindings(scans...))

	// Another order of scans changes only which versions come first.
	got := attest.MergeFindings(scans[3], scans[2], scans[1], nil, scans[0])
	require.Len(t, got, len(want))
	assert.Equal(t, "v0.42.0", got[0].Fixed, "govulncheck comes before Trivy now")
	for i := range want {
		assert.Equal(t, want[i].ID, got[i].ID)
		assert.Equal(t, want[i].Aliases, got[i].Aliases)
		assert.Equal(t, want[i].Package, got[i].Package)
		assert.Equal(t, want[i].Severity, got[i].Severity)
	}
	assert.Nil(t, attest.MergeFindings())
	assert.Nil(t, attest.MergeFindings(nil, &attest.Scan{}))
}

func TestMergeFindingsChains(t *testing.T) {
	pkg := "pkg:golang/github.com/acme/yaml@v1.2.0"
	a := &attest.Scan{Findings: []attest.Finding{
		{ID: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"GO-2026-0001"}, Package: pkg, Severity: attest.SeverityUnknown},
		{ID: "GO-2026-0009", Package: pkg, Severity: attest.SeverityUnknown},
	}}
	// govulncheck's escaped purl names the same package.
	b := &attest.Scan{Findings: []attest.Finding{
		{ID: "GO-2026-0001", Aliases: []string{"GHSA-xxxx-yyyy-zzzz"}, Package: "pkg:golang/github.com%2Facme%2Fyaml@v1.2.0", Fixed: "v1.2.1", Severity: attest.SeverityUnknown},
	}}
	// Shares a name with b only; and one with the same name in another version.
	c := &attest.Scan{Findings: []attest.Finding{
		{ID: "CVE-2026-2000", Aliases: []string{"GHSA-xxxx-yyyy-zzzz"}, Package: pkg, Installed: "v1.2.0", Severity: attest.SeverityMedium},
		{ID: "CVE-2026-2000", Package: "pkg:golang/github.com/acme/yaml@v1.3.0", Severity: attest.SeverityLow},
	}}
	want := []attest.Finding{
		{
			ID: "CVE-2026-2000", Aliases: []string{"GHSA-aaaa-bbbb-cccc", "GHSA-xxxx-yyyy-zzzz", "GO-2026-0001"},
			Package: pkg, Installed: "v1.2.0", Fixed: "v1.2.1", Severity: attest.SeverityMedium,
		},
		{ID: "CVE-2026-2000", Package: "pkg:golang/github.com/acme/yaml@v1.3.0", Severity: attest.SeverityLow},
		{ID: "GO-2026-0009", Package: pkg, Severity: attest.SeverityUnknown},
	}
	for range 20 { // map iteration order must not matter
		assert.Equal(t, want, attest.MergeFindings(a, b, c))
	}
	// Without a CVE, the smallest name is the ID; the package is spelled
	// as the first scan spells it.
	assert.Equal(t, []attest.Finding{
		{
			ID: "GHSA-aaaa-bbbb-cccc", Aliases: []string{"GHSA-xxxx-yyyy-zzzz", "GO-2026-0001"},
			Package: "pkg:golang/github.com%2Facme%2Fyaml@v1.2.0", Fixed: "v1.2.1", Severity: attest.SeverityUnknown,
		},
		{ID: "GO-2026-0009", Package: pkg, Severity: attest.SeverityUnknown},
	}, attest.MergeFindings(b, a))
}

func TestMergeFindingsNameless(t *testing.T) {
	// Findings built by hand without names are kept apart, not merged.
	s := &attest.Scan{Findings: []attest.Finding{{Package: "p", Fixed: "1"}, {Package: "p", Severity: attest.SeverityHigh}}}
	assert.Equal(t, []attest.Finding{
		{Package: "p", Fixed: "1", Severity: attest.SeverityUnknown},
		{Package: "p", Severity: attest.SeverityHigh},
	}, attest.MergeFindings(s))
}

func TestParseScanDeterministic(t *testing.T) {
	for _, name := range []string{"trivy.json", "grype.json", "govulncheck.json", "sarif.json"} {
		data := readScanFixture(t, name)
		first, err := attest.ParseScan(data, name)
		require.NoError(t, err)
		a, err := json.Marshal(first)
		require.NoError(t, err)
		for range 5 {
			again, err := attest.ParseScan(data, name)
			require.NoError(t, err)
			b, err := json.Marshal(again)
			require.NoError(t, err)
			assert.Equal(t, string(a), string(b), name)
		}
	}
}
