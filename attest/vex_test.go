package attest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// readVEXFixture reads testdata/vex/name with ReadVEX, naming it by its
// path.
func readVEXFixture(t *testing.T, name string) (*attest.VEX, error) {
	t.Helper()
	path := filepath.Join("testdata", "vex", name)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return attest.ReadVEX(f, path)
}

func TestParseVEXShop(t *testing.T) {
	doc, err := readVEXFixture(t, "shop.openvex.json")
	require.NoError(t, err)
	want := &attest.VEX{
		Context:     "https://openvex.dev/ns/v0.2.0",
		ID:          "https://example.invalid/vex/shop-2026-03",
		Author:      "Acme Shop Security <security@example.invalid>",
		Role:        "Product Security Team",
		Timestamp:   "2026-03-01T10:00:00Z",
		LastUpdated: "2026-03-02T09:30:00+01:00",
		Version:     2,
		Statements: []attest.VEXStatement{
			{
				ID:      "https://example.invalid/vex/shop-2026-03#h2",
				Version: 1,
				Vulnerability: attest.VEXVulnerability{
					ID:          "https://example.invalid/vuln/CVE-2026-1001",
					Name:        "CVE-2026-1001",
					Description: "HTTP/2 frames can make a server use unbounded memory",
					Aliases:     []string{"GO-2026-1001", "GHSA-q2w3-e4r5-t6y7"},
				},
				Products: []attest.VEXProduct{{
					ID:            "pkg:golang/example.com/shop@v1.4.0",
					Subcomponents: []attest.VEXProduct{{ID: "pkg:golang/golang.org/x/net@v0.30.0"}},
				}},
				Status:          attest.VEXNotAffected,
				StatusNotes:     "Checked by reading the server set-up code.",
				Justification:   attest.VEXVulnerableCodeNotInExecutePath,
				ImpactStatement: "The shop serves HTTP/1.1 only; it never starts an HTTP/2 server.",
			},
			{
				Vulnerability: attest.VEXVulnerability{Name: "CVE-2026-1002"},
				Timestamp:     "2026-03-02T09:00:00Z",
				Products: []attest.VEXProduct{{
					ID:     "pkg:golang/example.com/shop",
					Hashes: map[string]string{"sha-256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
				}},
				Status: attest.VEXFixed,
			},
			{
				Vulnerability: attest.VEXVulnerability{Name: "CVE-2026-1003", Aliases: []string{"GHSA-a1s2-d3f4-g5h6"}},
				Products: []attest.VEXProduct{{
					ID: "pkg:golang/example.com/shop@v1.4.0",
					Subcomponents: []attest.VEXProduct{{
						Identifiers: map[string]string{"purl": "pkg:golang/github.com/acme/yaml@v1.0.0"},
					}},
				}},
				Status:                   attest.VEXAffected,
				ActionStatement:          "Upgrade github.com/acme/yaml to v1.0.1 or later.",
				ActionStatementTimestamp: "2026-03-01T10:00:00Z",
			},
			{
				Vulnerability: attest.VEXVulnerability{Name: "CVE-2026-1004"},
				LastUpdated:   "2026-03-02T08:00:00Z",
				Products: []attest.VEXProduct{{
					Identifiers: map[string]string{
						"purl":  "pkg:golang/example.com/shop@v1.4.0",
						"cpe23": "cpe:2.3:a:acme:shop:1.4.0:*:*:*:*:*:*:*",
					},
				}},
				Status:      attest.VEXUnderInvestigation,
				StatusNotes: "Triage started; no statement yet.",
			},
		},
	}
	assert.Equal(t, want, doc)
}

func TestParseVEXGovulncheck(t *testing.T) {
	doc, err := readVEXFixture(t, "govulncheck.openvex.json")
	require.NoError(t, err)
	assert.Equal(t, "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck", doc.Tooling)
	assert.Equal(t, "Unknown Author", doc.Author)
	assert.Equal(t, "2026-03-05T12:00:00.123456789Z", doc.Timestamp)
	assert.Equal(t, 1, doc.Version)
	require.Len(t, doc.Statements, 3)
	st := doc.Statements[0]
	assert.Equal(t, attest.VEXVulnerability{
		ID:          "https://pkg.go.dev/vuln/GO-2026-4001",
		Name:        "GO-2026-4001",
		Description: "Quadratic parsing of nested elements in golang.org/x/net/html",
		Aliases:     []string{"CVE-2026-4001", "GHSA-z9x8-c7v6-b5n4"},
	}, st.Vulnerability)
	assert.Equal(t, []attest.VEXProduct{{
		ID:            "Unknown Product",
		Subcomponents: []attest.VEXProduct{{ID: "pkg:golang/golang.org%2Fx%2Fnet@v0.1.0"}},
	}}, st.Products)
	assert.Equal(t, attest.VEXNotAffected, st.Status)
	assert.Equal(t, attest.VEXVulnerableCodeNotInExecutePath, st.Justification)
	assert.Equal(t, attest.VEXAffected, doc.Statements[1].Status)
	assert.Equal(t, attest.VEXVulnerableCodeNotPresent, doc.Statements[2].Justification)
}

func TestParseVEXBadFixtures(t *testing.T) {
	for _, tc := range []struct {
		file         string
		sentinel     error
		path         string
		line, column int
		msg          string
	}{
		{"bad-no-author.openvex.json", attest.ErrMalformed, "author", 1, 1,
			"author: malformed evidence: missing author"},
		{"bad-unknown-status.openvex.json", attest.ErrMalformed, "statements[1].status", 16, 17,
			`statements[1].status: malformed evidence: unknown status "maybe": want not_affected, affected, fixed or under_investigation`},
		{"bad-not-affected-no-justification.openvex.json", attest.ErrMalformed, "statements[0].justification", 8, 5,
			"statements[0].justification: malformed evidence: status not_affected needs a justification or an impact_statement"},
		{"bad-malformed.openvex.json", attest.ErrMalformed, "", 11, 5,
			"malformed evidence: invalid JSON: invalid character '}' looking for beginning of object key string"},
		{"bad-unknown-context.openvex.json", attest.ErrUnknownFormat, "@context", 2, 15,
			`@context: unknown evidence format: @context "https://www.w3.org/2018/credentials/v1" is not OpenVEX: want https://openvex.dev/ns or https://openvex.dev/ns/v…`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc, err := readVEXFixture(t, tc.file)
			assert.Nil(t, doc)
			assert.ErrorIs(t, err, tc.sentinel)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			source := filepath.Join("testdata", "vex", tc.file)
			assert.Equal(t, source, pe.Source)
			assert.Equal(t, tc.path, pe.Path)
			assert.Equal(t, tc.line, pe.Line)
			assert.Equal(t, tc.column, pe.Column)
			assert.Equal(t, source+":"+vexItoa(tc.line)+":"+vexItoa(tc.column)+": "+tc.msg, err.Error())
		})
	}
}

func vexItoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// vexTemplate is a valid document to vary once STATEMENTS is replaced.
const vexTemplate = `{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.invalid/vex/1",
  "author": "security@example.invalid",
  "timestamp": "2026-03-01T10:00:00Z",
  "version": 1,
  "statements": [STATEMENTS]
}`

const vexOKStatement = `{"vulnerability": {"name": "CVE-2026-1"}, "status": "fixed"}`

// vexJSON is a valid document with one statement.
var vexJSON = withStatements(vexOKStatement)

func withStatements(s string) string { return strings.Replace(vexTemplate, "STATEMENTS", s, 1) }

func TestParseVEXErrors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		doc          string
		sentinel     error
		path         string
		line, column int
		msg          string // the error's text after the place
	}{
		{"blank author", strings.Replace(vexJSON, `"security@example.invalid"`, `"  "`, 1),
			attest.ErrMalformed, "author", 4, 13, "missing author"},
		{"no @id", strings.Replace(vexJSON, `"@id": "https://example.invalid/vex/1",`, ``, 1),
			attest.ErrMalformed, "@id", 1, 1, "missing @id"},
		{"empty @id", strings.Replace(vexJSON, `"https://example.invalid/vex/1"`, `""`, 1),
			attest.ErrMalformed, "@id", 3, 10, "missing @id"},
		{"no timestamp", strings.Replace(vexJSON, `"timestamp": "2026-03-01T10:00:00Z",`, ``, 1),
			attest.ErrMalformed, "timestamp", 1, 1, "missing timestamp"},
		{"timestamp not RFC 3339", strings.Replace(vexJSON, `"2026-03-01T10:00:00Z"`, `"2026-03-01 10:00"`, 1),
			attest.ErrMalformed, "timestamp", 5, 16, `timestamp "2026-03-01 10:00" is not an RFC 3339 time`},
		{"last_updated not RFC 3339", strings.Replace(vexJSON, `"version": 1,`, `"last_updated": "yesterday", "version": 1,`, 1),
			attest.ErrMalformed, "last_updated", 6, 19, `last_updated "yesterday" is not an RFC 3339 time`},
		{"no statements", strings.Replace(vexTemplate, `[STATEMENTS]`, `null`, 1),
			attest.ErrMalformed, "statements", 7, 17, "missing statements"},
		{"statement without vulnerability", withStatements(`{"status": "fixed"}`),
			attest.ErrMalformed, "statements[0].vulnerability.name", 7, 18, "missing vulnerability name"},
		{"statement with blank name", withStatements(vexOKStatement + `, {"vulnerability": {"name": " "}, "status": "fixed"}`),
			attest.ErrMalformed, "statements[1].vulnerability.name", 7, 107, "missing vulnerability name"},
		{"statement timestamp", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": "fixed", "timestamp": "2026-13-01T00:00:00Z"}`),
			attest.ErrMalformed, "statements[0].timestamp", 7, 92, `timestamp "2026-13-01T00:00:00Z" is not an RFC 3339 time`},
		{"action statement timestamp", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": "affected", "action_statement_timestamp": "soon"}`),
			attest.ErrMalformed, "statements[0].action_statement_timestamp", 7, 112, `action_statement_timestamp "soon" is not an RFC 3339 time`},
		{"missing status", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}}`),
			attest.ErrMalformed, "statements[0].status", 7, 18, "missing status: want not_affected, affected, fixed or under_investigation"},
		{"unknown justification", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": "not_affected", "justification": "trust_me"}`),
			attest.ErrMalformed, "statements[0].justification", 7, 103, `unknown justification "trust_me": want component_not_present, ` +
				"vulnerable_code_not_present, vulnerable_code_not_in_execute_path, " +
				"vulnerable_code_cannot_be_controlled_by_adversary or inline_mitigations_already_exist"},
		{"nested subcomponents", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": "fixed", "products": [{"@id": "a", "subcomponents": [{"@id": "b", "subcomponents": []}]}]}`),
			attest.ErrMalformed, "statements[0].products[0].subcomponents[0].subcomponents", 7, 153, "a subcomponent cannot have subcomponents"},
		{"status of the wrong type", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": 3}`),
			attest.ErrMalformed, "statements.status", 7, 71, "statements.status is JSON number, want attest.VEXStatus"},
		{"missing @context", strings.Replace(vexJSON, `"@context": "https://openvex.dev/ns/v0.2.0",`, ``, 1),
			attest.ErrUnknownFormat, "@context", 1, 1, "missing @context: want https://openvex.dev/ns or https://openvex.dev/ns/v…"},
		{"@context as a list", strings.Replace(vexJSON, `"https://openvex.dev/ns/v0.2.0"`, `["https://openvex.dev/ns/v0.2.0"]`, 1),
			attest.ErrUnknownFormat, "@context", 2, 15, `@context ["https://openvex.dev/ns/v0.2.0"] is not OpenVEX: want https://openvex.dev/ns or https://openvex.dev/ns/v…`},
		{"another JSON document", `{"bomFormat": "CycloneDX", "specVersion": "1.6"}`,
			attest.ErrUnknownFormat, "@context", 1, 1, "missing @context: want https://openvex.dev/ns or https://openvex.dev/ns/v…"},
		{"not an object", `["@context"]`,
			attest.ErrMalformed, "", 1, 2, "value is JSON array, want struct { Context json.RawMessage \"json:\\\"@context\\\"\" }"},
		{"truncated", vexJSON[:40],
			attest.ErrMalformed, "", 2, 39, "invalid JSON: unexpected end of JSON input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := attest.ParseVEX([]byte(tc.doc), "vex.json")
			assert.Nil(t, doc)
			assert.ErrorIs(t, err, tc.sentinel)
			var pe *attest.ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "vex.json", pe.Source)
			assert.Equal(t, tc.path, pe.Path)
			assert.Equal(t, tc.line, pe.Line)
			assert.Equal(t, tc.column, pe.Column)
			assert.Equal(t, tc.msg, strings.TrimPrefix(pe.Err.Error(), tc.sentinel.Error()+": "))
		})
	}
}

func TestParseVEXAccepts(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
	}{
		{"no statements yet", withStatements(``)},
		{"the unversioned context cosign writes", strings.Replace(vexJSON, "https://openvex.dev/ns/v0.2.0", "https://openvex.dev/ns", 1)},
		{"a later version of the context", strings.Replace(vexJSON, "https://openvex.dev/ns/v0.2.0", "https://openvex.dev/ns/v0.2.1", 1)},
		{"not_affected with an impact statement only", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": "not_affected", "impact_statement": "unused"}`)},
		{"affected without an action statement", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": "affected"}`)},
		{"govulncheck found nothing", `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "govulncheck/vex:0a", "author": "Unknown Author",
			"timestamp": "2026-03-05T12:00:00Z", "version": 1, "tooling": "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck"}`},
		{"members slipway does not use", withStatements(`{"vulnerability": {"name": "CVE-2026-1"}, "status": "fixed", "supplier": "acme", "products": [{"@id": "a", "supplier": "b"}]}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := attest.ParseVEX([]byte(tc.doc), "vex.json")
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(doc.Context, "https://openvex.dev/ns"), doc.Context)
		})
	}
}

func TestReadVEXTooLarge(t *testing.T) {
	big := bytes.Repeat([]byte(" "), attest.MaxEvidenceSize+1)
	doc, err := attest.ReadVEX(bytes.NewReader(big), "huge.json")
	assert.Nil(t, doc)
	assert.ErrorIs(t, err, attest.ErrMalformed)
	var pe *attest.ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "huge.json", pe.Source)

	doc, err = attest.ParseVEX(big, "huge.json")
	assert.Nil(t, doc)
	assert.ErrorIs(t, err, attest.ErrMalformed)
	assert.Equal(t, "huge.json: malformed evidence: larger than 16777216 bytes", err.Error())
}

// The artifact the findings of TestApplyVEX are about, and its packages.
const (
	vexShop = "pkg:golang/example.com/shop@v1.4.0"
	vexXNet = "pkg:golang/golang.org/x/net@v0.30.0"
	vexYAML = "pkg:golang/github.com/acme/yaml@v1.0.0"
)

var (
	vexFindingNet = attest.Finding{ID: "CVE-2026-1001", Aliases: []string{"GHSA-q2w3-e4r5-t6y7", "GO-2026-1001"},
		Package: vexXNet, Installed: "v0.30.0", Fixed: "v0.31.0", Severity: attest.SeverityHigh}
	vexFindingYAML = attest.Finding{ID: "CVE-2026-1003", Package: vexYAML, Installed: "v1.0.0", Fixed: "v1.0.1", Severity: attest.SeverityCritical}
)

// vexDoc is a document by author dated at, version 1.
func vexDoc(author, at string, statements ...attest.VEXStatement) *attest.VEX {
	return &attest.VEX{Context: "https://openvex.dev/ns/v0.2.0", ID: "https://example.invalid/vex/" + author,
		Author: author, Timestamp: at, Version: 1, Statements: statements}
}

// vexNotAffected says that vuln does not affect product.
func vexNotAffected(vuln string, product attest.VEXProduct) attest.VEXStatement {
	return attest.VEXStatement{Vulnerability: attest.VEXVulnerability{Name: vuln}, Products: []attest.VEXProduct{product},
		Status: attest.VEXNotAffected, Justification: attest.VEXVulnerableCodeNotInExecutePath}
}

// vexWith returns st with the status and time given.
func vexWith(st attest.VEXStatement, status attest.VEXStatus, at string) attest.VEXStatement {
	st.Status, st.Timestamp = status, at
	if status != attest.VEXNotAffected {
		st.Justification = ""
	}
	return st
}

func vexProd(id string, subs ...string) attest.VEXProduct {
	p := attest.VEXProduct{ID: id}
	for _, s := range subs {
		p.Subcomponents = append(p.Subcomponents, attest.VEXProduct{ID: s})
	}
	return p
}

func vexSuppressed(f attest.Finding, status attest.VEXStatus, why, author string) attest.Suppression {
	return attest.Suppression{Finding: f, Status: string(status), Justification: why, Author: author}
}

func TestApplyVEX(t *testing.T) {
	const (
		day1, day2, day3 = "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", "2026-03-03T10:00:00+05:00"
		notInPath        = string(attest.VEXVulnerableCodeNotInExecutePath)
	)
	govulncheck, err := readVEXFixture(t, "govulncheck.openvex.json")
	require.NoError(t, err)
	netOld := attest.Finding{ID: "CVE-2026-4001", Package: "pkg:golang/golang.org/x/net@v0.1.0", Severity: attest.SeverityMedium}
	stdlib := attest.Finding{ID: "GO-2026-4002", Aliases: []string{"CVE-2026-4002"}, Package: "pkg:golang/stdlib@v1.26.0", Severity: attest.SeverityUnknown}
	yamlGo := attest.Finding{ID: "GHSA-y1y1-y2y2-y3y3", Aliases: []string{"CVE-2026-4003"}, Package: vexYAML, Severity: attest.SeverityLow}
	fixedByVendor := attest.VEXStatement{Vulnerability: attest.VEXVulnerability{Name: "CVE-2026-1001"},
		Products: []attest.VEXProduct{vexProd(vexShop)}, Status: attest.VEXFixed}
	impactOnly := vexNotAffected("CVE-2026-1001", vexProd(vexShop))
	impactOnly.Justification, impactOnly.ImpactStatement = "", "HTTP/2 is off"
	both := vexNotAffected("CVE-2026-1001", vexProd(vexShop))
	both.ImpactStatement = "HTTP/2 is off"
	byPurlIdentifier := vexNotAffected("CVE-2026-1001", attest.VEXProduct{Identifiers: map[string]string{"purl": vexShop, "cpe23": "cpe:2.3:a:acme:shop"}})
	lastUpdated := vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXNotAffected, "")
	lastUpdated.LastUpdated = day3
	later := vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, "")
	version2 := vexDoc("b", day1, later)
	version2.Version = 2

	for _, tc := range []struct {
		name           string
		findings       []attest.Finding
		docs           []*attest.VEX
		artifact       []string
		wantOpen       []attest.Finding
		wantSuppressed []attest.Suppression
	}{
		{
			name:           "by name, product without subcomponents",
			findings:       []attest.Finding{vexFindingNet, vexFindingYAML},
			docs:           []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop)))},
			artifact:       []string{vexShop},
			wantOpen:       []attest.Finding{vexFindingYAML},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:           "a statement alias names the finding's ID",
			findings:       []attest.Finding{{ID: "CVE-2026-1001", Package: vexXNet, Severity: attest.SeverityHigh}},
			docs:           []*attest.VEX{vexDoc("a", day1, vexWithAliases(vexNotAffected("GO-2026-1001", vexProd(vexShop)), "CVE-2026-1001"))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(attest.Finding{ID: "CVE-2026-1001", Package: vexXNet, Severity: attest.SeverityHigh}, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:           "the statement's name is a finding alias (GO ID against CVE)",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, vexNotAffected("GO-2026-1001", vexProd(vexShop)))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "IDs compare exactly",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexNotAffected("cve-2026-1001", vexProd(vexShop)))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:           "a subcomponent names the package, escaped as govulncheck writes it",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop, vexYAML, "pkg:golang/golang.org%2Fx%2Fnet@v0.30.0")))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:           "a subcomponent without version names every version",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop, "pkg:golang/golang.org/x/net")))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "subcomponents name other packages",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop, vexYAML)))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "a subcomponent names another version of the package",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop, "pkg:golang/golang.org/x/net@v0.29.0")))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:           "a product without version names every version of the artifact",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd("pkg:golang/example.com/shop")))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "a product with another version of the artifact",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd("pkg:golang/example.com/shop@v1.3.0")))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "another product",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd("pkg:golang/example.com/billing@v1.4.0")))},
			artifact: []string{vexShop, "shop"},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:           "the artifact by plain name",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd("shop")))},
			artifact:       []string{vexShop, "shop"},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:           "the artifact by purl identifier",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, byPurlIdentifier)},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:           "a statement about the vulnerable component itself",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("x/net maintainers", day1, vexNotAffected("CVE-2026-1001", vexProd("pkg:golang/golang.org/x/net")))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "x/net maintainers")},
		},
		{
			name:     "another vulnerability",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexNotAffected("CVE-2026-9999", vexProd(vexShop)))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "no artifact identities: only statements about the component apply",
			findings: []attest.Finding{vexFindingNet, vexFindingYAML},
			docs: []*attest.VEX{vexDoc("a", day1,
				vexNotAffected("CVE-2026-1001", vexProd(vexShop)),
				vexNotAffected("CVE-2026-1003", vexProd(vexYAML)))},
			wantOpen:       []attest.Finding{vexFindingNet},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingYAML, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "a newer affected overrides an older not_affected",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{vexDoc("a", day1,
				vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, day2),
				vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXNotAffected, day1))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "a newer not_affected overrides an older affected",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{vexDoc("a", day1,
				vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXNotAffected, day3),
				vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, day2))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "statements without time date from their document",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{
				vexDoc("new", day2, vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, "")),
				vexDoc("old", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop))),
			},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "last_updated dates a statement without timestamp",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{
				vexDoc("a", day1, lastUpdated),
				vexDoc("b", day2, vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, "")),
			},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "times compare as instants, not as text",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{vexDoc("a", day1,
				vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXNotAffected, "2026-03-02T09:30:00Z"),
				vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, "2026-03-02T10:00:00+01:00"))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "at the same time, the higher document version",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{version2, vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop)))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "at the same time and version, the later document",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{
				vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop))),
				vexDoc("b", day1, vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, "")),
			},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "at the same time and version, the later document (reversed)",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{
				vexDoc("b", day1, vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, "")),
				vexDoc("a", day1, vexNotAffected("CVE-2026-1001", vexProd(vexShop))),
			},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "in one document at the same time, the later statement",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{vexDoc("a", day1,
				vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, ""),
				vexNotAffected("CVE-2026-1001", vexProd(vexShop)))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "a newer statement about another product changes nothing",
			findings: []attest.Finding{vexFindingNet},
			docs: []*attest.VEX{vexDoc("a", day1,
				vexNotAffected("CVE-2026-1001", vexProd(vexShop)),
				vexWith(vexNotAffected("CVE-2026-1001", vexProd("pkg:golang/example.com/billing")), attest.VEXAffected, day3))},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:           "fixed suppresses",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, fixedByVendor)},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXFixed, "", "a")},
		},
		{
			name:           "the impact statement when there is no justification",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, impactOnly)},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, "HTTP/2 is off", "a")},
		},
		{
			name:           "the justification rather than the impact statement",
			findings:       []attest.Finding{vexFindingNet},
			docs:           []*attest.VEX{vexDoc("a", day1, both)},
			artifact:       []string{vexShop},
			wantSuppressed: []attest.Suppression{vexSuppressed(vexFindingNet, attest.VEXNotAffected, notInPath, "a")},
		},
		{
			name:     "under_investigation keeps the finding open",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXUnderInvestigation, ""))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "affected keeps the finding open",
			findings: []attest.Finding{vexFindingNet},
			docs:     []*attest.VEX{vexDoc("a", day1, vexWith(vexNotAffected("CVE-2026-1001", vexProd(vexShop)), attest.VEXAffected, ""))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet},
		},
		{
			name:     "govulncheck's document is bound to the artifact",
			findings: []attest.Finding{netOld, stdlib, yamlGo, vexFindingNet},
			docs:     []*attest.VEX{govulncheck},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingNet, stdlib},
			wantSuppressed: []attest.Suppression{
				vexSuppressed(netOld, attest.VEXNotAffected, notInPath, "Unknown Author"),
				vexSuppressed(yamlGo, attest.VEXNotAffected, string(attest.VEXVulnerableCodeNotPresent), "Unknown Author"),
			},
		},
		{
			name:     "govulncheck's document, whatever the artifact is called",
			findings: []attest.Finding{netOld},
			docs:     []*attest.VEX{govulncheck},
			wantSuppressed: []attest.Suppression{
				vexSuppressed(netOld, attest.VEXNotAffected, notInPath, "Unknown Author"),
			},
		},
		{
			name:     "Unknown Product names nothing in another tool's document",
			findings: []attest.Finding{netOld},
			docs: []*attest.VEX{vexDoc("a", day1,
				vexNotAffected("CVE-2026-4001", vexProd("Unknown Product", "pkg:golang/golang.org/x/net@v0.1.0")))},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{netOld},
		},
		{
			name:     "no documents; nil documents are skipped",
			findings: []attest.Finding{vexFindingNet, vexFindingYAML},
			docs:     []*attest.VEX{nil},
			artifact: []string{vexShop},
			wantOpen: []attest.Finding{vexFindingYAML, vexFindingNet},
		},
		{
			name:     "no findings",
			docs:     []*attest.VEX{govulncheck},
			artifact: []string{vexShop},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			open, sup := attest.ApplyVEX(tc.findings, tc.docs, tc.artifact)
			assert.Equal(t, tc.wantOpen, open)
			assert.Equal(t, tc.wantSuppressed, sup)
		})
	}
}

func vexWithAliases(st attest.VEXStatement, aliases ...string) attest.VEXStatement {
	st.Vulnerability.Aliases = aliases
	return st
}

func TestApplyVEXOrder(t *testing.T) {
	findings := []attest.Finding{
		{ID: "CVE-2026-0003", Package: "b", Severity: attest.SeverityLow},
		{ID: "CVE-2026-0002", Package: "b", Severity: attest.SeverityUnknown},
		{ID: "CVE-2026-0001", Package: "b", Severity: attest.SeverityLow},
		{ID: "CVE-2026-0001", Package: "a", Severity: attest.SeverityLow},
		{ID: "CVE-2026-0009", Package: "a", Severity: attest.SeverityCritical},
		{ID: "CVE-2026-0008", Package: "b", Severity: attest.SeverityMedium},
		{ID: "CVE-2026-0008", Package: "a", Severity: attest.SeverityHigh},
	}
	doc := vexDoc("a", "2026-03-01T10:00:00Z",
		vexNotAffected("CVE-2026-0008", vexProd("shop")),
		vexNotAffected("CVE-2026-0003", vexProd("shop")))
	open, sup := attest.ApplyVEX(findings, []*attest.VEX{doc}, []string{"shop"})
	var got []string
	for _, f := range open {
		got = append(got, f.ID+" "+f.Package)
	}
	assert.Equal(t, []string{"CVE-2026-0009 a", "CVE-2026-0001 a", "CVE-2026-0001 b", "CVE-2026-0002 b"}, got)
	got = nil
	for _, s := range sup {
		got = append(got, s.ID+" "+s.Package)
	}
	assert.Equal(t, []string{"CVE-2026-0003 b", "CVE-2026-0008 a", "CVE-2026-0008 b"}, got)
}

// TestApplyVEXInputs checks that ApplyVEX changes none of its arguments and
// that its results share no memory with them.
func TestApplyVEXInputs(t *testing.T) {
	shop, err := readVEXFixture(t, "shop.openvex.json")
	require.NoError(t, err)
	govulncheck, err := readVEXFixture(t, "govulncheck.openvex.json")
	require.NoError(t, err)
	findings := []attest.Finding{vexFindingYAML, vexFindingNet,
		{ID: "GO-2026-4001", Aliases: []string{"CVE-2026-4001"}, Package: "pkg:golang/golang.org/x/net@v0.1.0", Severity: attest.SeverityMedium}}
	docs := []*attest.VEX{shop, govulncheck}
	artifact := []string{vexShop}
	before := vexSnapshot(t, findings, docs, artifact)

	open, sup := attest.ApplyVEX(findings, docs, artifact)
	assert.Equal(t, before, vexSnapshot(t, findings, docs, artifact))
	require.Len(t, open, 1)
	require.Len(t, sup, 2)
	assert.Equal(t, vexFindingYAML, open[0])
	assert.Equal(t, vexSuppressed(vexFindingNet, attest.VEXNotAffected, string(attest.VEXVulnerableCodeNotInExecutePath), "Acme Shop Security <security@example.invalid>"), sup[0])
	assert.Equal(t, vexSuppressed(findings[2], attest.VEXNotAffected, string(attest.VEXVulnerableCodeNotInExecutePath), "Unknown Author"), sup[1])

	for i := range sup {
		for j := range sup[i].Aliases {
			sup[i].Aliases[j] = "changed"
		}
	}
	assert.Equal(t, before, vexSnapshot(t, findings, docs, artifact))
}

// vexSnapshot is the JSON of ApplyVEX's arguments.
func vexSnapshot(t *testing.T, findings []attest.Finding, docs []*attest.VEX, artifact []string) string {
	t.Helper()
	b, err := json.Marshal(struct {
		F []attest.Finding
		D []*attest.VEX
		A []string
	}{findings, docs, artifact})
	require.NoError(t, err)
	return string(b)
}

// TestApplyVEXDeterministic checks that the order of the findings does not
// change the results, and that two runs agree.
func TestApplyVEXDeterministic(t *testing.T) {
	shop, err := readVEXFixture(t, "shop.openvex.json")
	require.NoError(t, err)
	govulncheck, err := readVEXFixture(t, "govulncheck.openvex.json")
	require.NoError(t, err)
	findings := []attest.Finding{vexFindingNet, vexFindingYAML,
		{ID: "CVE-2026-1002", Package: "pkg:golang/example.com/shop@v1.4.0", Severity: attest.SeverityHigh},
		{ID: "CVE-2026-1004", Package: "pkg:golang/github.com/acme/log@v0.3.0", Severity: attest.SeverityMedium},
		{ID: "CVE-2026-4001", Package: "pkg:golang/golang.org/x/net@v0.1.0", Severity: attest.SeverityMedium},
		{ID: "GO-2026-4002", Package: "pkg:golang/stdlib@v1.26.0"},
	}
	docs := []*attest.VEX{shop, govulncheck}
	wantOpen, wantSup := attest.ApplyVEX(findings, docs, []string{vexShop})
	assert.Equal(t, []string{"CVE-2026-1003", "CVE-2026-1004", "GO-2026-4002"}, vexIDs(wantOpen))
	var supIDs []string
	for _, s := range wantSup {
		supIDs = append(supIDs, s.ID+" "+s.Status)
	}
	assert.Equal(t, []string{"CVE-2026-1001 not_affected", "CVE-2026-1002 fixed", "CVE-2026-4001 not_affected"}, supIDs)
	reversed := slices.Clone(findings)
	slices.Reverse(reversed)
	for range 2 {
		open, sup := attest.ApplyVEX(reversed, docs, []string{vexShop})
		assert.Equal(t, wantOpen, open)
		assert.Equal(t, wantSup, sup)
	}
}

func vexIDs(findings []attest.Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, f.ID)
	}
	return out
}
