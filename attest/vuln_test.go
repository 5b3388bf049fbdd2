package attest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// cosignVuln mirrors the types cosign reads a vuln predicate into
// (sigstore/cosign pkg/cosign/attestation/attestation.go): any JSON for
// parameters and result, time.Time for the times.
type cosignVuln struct {
	Invocation struct {
		Parameters any    `json:"parameters"`
		URI        string `json:"uri"`
		EventID    string `json:"event_id"`
		BuilderID  string `json:"builder.id"`
	} `json:"invocation"`
	Scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version"`
		DB      struct {
			URI     string `json:"uri"`
			Version string `json:"version"`
		} `json:"db"`
		Result any `json:"result"`
	} `json:"scanner"`
	Metadata struct {
		ScanStartedOn  time.Time `json:"scanStartedOn"`
		ScanFinishedOn time.Time `json:"scanFinishedOn"`
	} `json:"metadata"`
}

var (
	scanStarted  = time.Date(2026, 11, 20, 8, 59, 30, 0, time.UTC)
	scanFinished = time.Date(2026, 11, 20, 10, 0, 45, 0, time.FixedZone("CET", 3600))
)

func TestNewVulnPredicate(t *testing.T) {
	report := readScanFixture(t, "grype.json")
	scan := parseScanFixture(t, "grype.json")
	pred, err := attest.NewVulnPredicate(report, scan, scanStarted, scanFinished.Add(999*time.Millisecond))
	require.NoError(t, err)

	norm, err := attest.NormalizeJSON(pred)
	require.NoError(t, err)
	assert.Equal(t, string(norm), string(pred), "normalized")
	result, err := attest.NormalizeJSON(report)
	require.NoError(t, err)
	assert.Equal(t,
		`{"invocation":{"parameters":[],"uri":"","event_id":"","builder.id":""},`+
			`"scanner":{"uri":"pkg:github/anchore/grype@0.92.2","version":"0.92.2","db":{"uri":"","version":""},"result":`+string(result)+`},`+
			`"metadata":{"scanStartedOn":"2026-11-20T08:59:30Z","scanFinishedOn":"2026-11-20T09:00:45Z"}}`,
		string(pred))

	// cosign reads it.
	var cv cosignVuln
	require.NoError(t, json.Unmarshal(pred, &cv))
	assert.Equal(t, scanStarted, cv.Metadata.ScanStartedOn)
	assert.True(t, cv.Metadata.ScanFinishedOn.Equal(scanFinished))
	assert.Equal(t, []any{}, cv.Invocation.Parameters)
	assert.Equal(t, "0.92.2", cv.Scanner.Version)
	assert.IsType(t, map[string]any{}, cv.Scanner.Result)

	// Deterministic.
	again, err := attest.NewVulnPredicate(report, scan, scanStarted, scanFinished.Add(999*time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, pred, again)

	// A statement keeps the predicate byte for byte.
	st, err := attest.NewStatement("registry.example/acme/shop", digest.FromString("shop"), attest.PredicateVuln, json.RawMessage(pred))
	require.NoError(t, err)
	assert.Equal(t, pred, []byte(st.Predicate))
	d, err := attest.PredicateDigest(pred)
	require.NoError(t, err)
	assert.Equal(t, digest.FromBytes(pred), d)
}

func TestNewVulnPredicateTimes(t *testing.T) {
	report := readScanFixture(t, "trivy.json")
	scan := parseScanFixture(t, "trivy.json")
	// No times given: both are the report's.
	pred, err := attest.NewVulnPredicate(report, scan, time.Time{}, time.Time{})
	require.NoError(t, err)
	var cv cosignVuln
	require.NoError(t, json.Unmarshal(pred, &cv))
	assert.Equal(t, scan.Time, cv.Metadata.ScanStartedOn)
	assert.Equal(t, scan.Time, cv.Metadata.ScanFinishedOn)
	assert.Contains(t, string(pred), `"scanFinishedOn":"2026-11-20T09:00:41Z"`)
}

func TestNewVulnPredicateGovulncheck(t *testing.T) {
	// The stream becomes an array of its messages; an array stays as it is.
	report := readScanFixture(t, "govulncheck.json")
	scan := parseScanFixture(t, "govulncheck.json")
	pred, err := attest.NewVulnPredicate(report, scan, time.Time{}, scanFinished)
	require.NoError(t, err)
	var cv cosignVuln
	require.NoError(t, json.Unmarshal(pred, &cv))
	msgs, ok := cv.Scanner.Result.([]any)
	require.True(t, ok, "result is an array")
	assert.Len(t, msgs, 14)
	assert.Contains(t, msgs[0], "config")
	assert.Equal(t, "v1.1.4", cv.Scanner.Version)
	assert.Equal(t, "pkg:golang/golang.org/x/vuln@v1.1.4", cv.Scanner.URI)

	var p attest.VulnPredicate
	require.NoError(t, json.Unmarshal(pred, &p))
	fromArray, err := attest.NewVulnPredicate(p.Scanner.Result, scan, time.Time{}, scanFinished)
	require.NoError(t, err)
	assert.Equal(t, string(pred), string(fromArray))
}

func TestNewVulnPredicateErrors(t *testing.T) {
	trivy := readScanFixture(t, "trivy.json")
	scan := parseScanFixture(t, "trivy.json")
	noTime := *scan
	noTime.Time = time.Time{}
	for _, tc := range []struct {
		name              string
		report            []byte
		scan              *attest.Scan
		started, finished time.Time
		alsoMalformed     bool
	}{
		{name: "nil scan", report: trivy, finished: scanFinished},
		{name: "no time", report: trivy, scan: &noTime, started: scanStarted},
		{name: "started after finished", report: trivy, scan: scan, started: scanFinished.Add(time.Hour), finished: scanFinished},
		{name: "year 10000", report: trivy, scan: scan, finished: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "another format", report: readScanFixture(t, "grype.json"), scan: scan},
		{name: "not a report", report: []byte(`{"SchemaVersion":2,"Results":[`), scan: scan, alsoMalformed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attest.NewVulnPredicate(tc.report, tc.scan, tc.started, tc.finished)
			require.Error(t, err)
			assert.ErrorIs(t, err, attest.ErrInvalidOptions)
			assert.True(t, strings.HasPrefix(err.Error(), "attest: vuln predicate: "), err.Error())
			if tc.alsoMalformed {
				assert.ErrorIs(t, err, attest.ErrMalformed)
			}
		})
	}
}

func TestVulnPredicateRoundTrip(t *testing.T) {
	for _, name := range []string{"trivy.json", "grype.json", "govulncheck.json", "sarif.json"} {
		t.Run(name, func(t *testing.T) {
			report := readScanFixture(t, name)
			scan := parseScanFixture(t, name)
			pred, err := attest.NewVulnPredicate(report, scan, scanStarted, scanFinished)
			require.NoError(t, err)

			got, p, err := attest.ParseVulnPredicate(pred, "pred.json")
			require.NoError(t, err)
			want := *scan
			want.Time = scanFinished.UTC()
			assert.Equal(t, &want, got)
			assert.Equal(t, attest.VulnMetadata{ScanStartedOn: "2026-11-20T08:59:30Z", ScanFinishedOn: "2026-11-20T09:00:45Z"}, p.Metadata)
			assert.Equal(t, attest.VulnInvocation{Parameters: json.RawMessage("[]")}, p.Invocation)
			assert.Equal(t, scan.Scanner.URI, p.Scanner.URI)
			assert.Equal(t, scan.Scanner.Version, p.Scanner.Version)

			// The predicate read back makes the same predicate.
			again, err := attest.NewVulnPredicate(p.Scanner.Result, got, scanStarted, time.Time{})
			require.NoError(t, err)
			assert.Equal(t, string(pred), string(again))
		})
	}
}

func TestParseVulnPredicateForms(t *testing.T) {
	report := string(readScanFixture(t, "grype.json"))
	scan := parseScanFixture(t, "grype.json")

	// cosign's specification: a scanners array, and the predicate's own
	// scanner version and URI.
	spec := `{"invocation":{"parameters":["--format=json"],"uri":"https://ci.example/runs/7","event_id":"7","builder.id":"ci"},
"scanners":[{"uri":"pkg:github/anchore/grype@abc123","version":"0.92.3","db":{"uri":"https://db.example/v6","version":"v6.0.2"},"result":` + report + `}],
"metadata":{"scanStartedOn":"2026-11-20T08:00:00.5Z","scanFinishedOn":"2026-11-20T10:00:00.25+01:00"}}`
	got, p, err := attest.ParseVulnPredicate([]byte(spec), "spec.json")
	require.NoError(t, err)
	want := *scan
	want.Scanner.Version = "0.92.3"
	want.Scanner.URI = "pkg:github/anchore/grype@abc123"
	want.Time = time.Date(2026, 11, 20, 9, 0, 0, 250_000_000, time.UTC)
	assert.Equal(t, &want, got)
	assert.Equal(t, attest.VulnInvocation{Parameters: json.RawMessage(`["--format=json"]`), URI: "https://ci.example/runs/7", EventID: "7", BuilderID: "ci"}, p.Invocation)
	assert.Equal(t, attest.VulnDB{URI: "https://db.example/v6", Version: "v6.0.2"}, p.Scanner.DB)
	assert.Equal(t, "2026-11-20T08:00:00.5Z", p.Metadata.ScanStartedOn)

	// Without times and scanner names, the report's own are kept.
	bare := `{"scanner":{"result":` + report + `}}`
	got, p, err = attest.ParseVulnPredicate([]byte(bare), "bare.json")
	require.NoError(t, err)
	assert.Equal(t, scan, got)
	assert.Empty(t, p.Metadata)
	assert.Nil(t, p.Invocation.Parameters)
}

func TestParseVulnPredicateErrors(t *testing.T) {
	grype := string(readScanFixture(t, "grype.json"))
	for _, tc := range []struct {
		name, data string
		kind       error
		path, says string
	}{
		{"not JSON", `{"scanner":`, attest.ErrMalformed, "", "pred.json:1:12: malformed evidence: invalid JSON: unexpected end of JSON input"},
		{"not an object", `["scanner"]`, attest.ErrMalformed, "", "the predicate is a JSON array, want a JSON object"},
		{"no scanner", `{"invocation":{}}`, attest.ErrMalformed, "scanner", "scanner is missing"},
		{"no result", `{"scanner":{"uri":"x"}}`, attest.ErrMalformed, "scanner.result", "scan report is missing"},
		{"null result", `{"scanners":[{"result":null}]}`, attest.ErrMalformed, "scanners[0].result", "scan report is missing"},
		{"wrong type", `{"scanner":{"version":7,"result":{}}}`, attest.ErrMalformed, "scanner.version", "is JSON number, want string"},
		{"bad time", `{"scanner":{"result":` + grype + `},"metadata":{"scanFinishedOn":"2026-11-20"}}`, attest.ErrMalformed, "metadata.scanFinishedOn", "not RFC 3339"},
		{"bad start", `{"scanner":{"result":` + grype + `},"metadata":{"scanStartedOn":"soon"}}`, attest.ErrMalformed, "metadata.scanStartedOn", "not RFC 3339"},
		{"unknown report", `{"scanner":{"result":{"bomFormat":"CycloneDX"}}}`, attest.ErrUnknownFormat, "", "pred.json: scanner.result: unknown evidence format: a JSON object with key bomFormat"},
		{"bad report", `{"scanners":[{"result":{"matches":[{"vulnerability":{"id":"X","severity":"Dire"}}],"source":{}}}]}`, attest.ErrMalformed,
			"matches[0].vulnerability.severity", `pred.json: scanners[0].result:1:51: matches[0].vulnerability.severity: malformed evidence: unknown severity "Dire"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scan, p, err := attest.ParseVulnPredicate([]byte(tc.data), "pred.json")
			require.Error(t, err)
			assert.Nil(t, scan)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, tc.kind)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.path, pe.Path)
			assert.Contains(t, err.Error(), tc.says)
		})
	}

	big := make([]byte, attest.MaxStatementSize+1)
	_, _, err := attest.ParseVulnPredicate(big, "big.json")
	assert.ErrorIs(t, err, attest.ErrMalformed)
}
