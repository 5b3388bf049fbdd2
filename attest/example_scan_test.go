package attest_test

import (
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/slipway-dev/slipway/attest"
)

func ExampleParseScan() {
	// govulncheck -json writes a stream of messages. At scan level symbol
	// only vulnerabilities whose code is called are findings; the Go
	// vulnerability database gives no severity.
	report := `{"config":{"protocol_version":"v1.0.0","scanner_name":"govulncheck","scanner_version":"v1.1.4","go_version":"go1.26.5","scan_level":"symbol"}}
{"osv":{"id":"GO-2026-4101","aliases":["CVE-2026-30101","GHSA-7wq2-9c4h-m3xv"]}}
{"osv":{"id":"GO-2026-4188","aliases":["GHSA-5m8r-q6vc-h2fw"]}}
{"finding":{"osv":"GO-2026-4188","fixed_version":"v0.26.0","trace":[{"module":"golang.org/x/text","version":"v0.25.0","package":"golang.org/x/text/language"}]}}
{"finding":{"osv":"GO-2026-4101","fixed_version":"v0.42.0","trace":[{"module":"golang.org/x/net","version":"v0.40.0","package":"golang.org/x/net/http2","function":"ConfigureServer"}]}}
`
	scan, err := attest.ReadScan(strings.NewReader(report), "govulncheck.json")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(scan.Format, scan.Scanner.URI)
	for _, f := range scan.Findings {
		fmt.Println(f.ID, f.Aliases, f.Package, f.Severity, "fixed in", f.Fixed)
	}
	// Output:
	// govulncheck pkg:golang/golang.org/x/vuln@v1.1.4
	// CVE-2026-30101 [GHSA-7wq2-9c4h-m3xv GO-2026-4101] pkg:golang/golang.org/x/net@v0.40.0 unknown fixed in v0.42.0
}

func ExampleMergeFindings() {
	// Trivy names the CVE, Grype the GitHub advisory with the CVE as a
	// related vulnerability: one vulnerability in one package.
	trivy, err := attest.ParseScan([]byte(`{"SchemaVersion":2,"ArtifactName":"bin/shop","Results":[{"Target":"bin/shop","Vulnerabilities":[
		{"VulnerabilityID":"CVE-2026-30101","PkgName":"golang.org/x/net","PkgIdentifier":{"PURL":"pkg:golang/golang.org/x/net@v0.40.0"},
		 "InstalledVersion":"v0.40.0","FixedVersion":"0.42.0","Severity":"MEDIUM"}]}]}`), "trivy.json")
	if err != nil {
		log.Fatal(err)
	}
	grype, err := attest.ParseScan([]byte(`{"descriptor":{"name":"grype","version":"0.92.2"},"matches":[
		{"vulnerability":{"id":"GHSA-7wq2-9c4h-m3xv","severity":"High","fix":{"versions":["0.42.0"]}},
		 "relatedVulnerabilities":[{"id":"CVE-2026-30101"}],
		 "artifact":{"name":"golang.org/x/net","version":"v0.40.0","purl":"pkg:golang/golang.org/x/net@v0.40.0"}}]}`), "grype.json")
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range attest.MergeFindings(trivy, grype) {
		fmt.Println(f.ID, f.Aliases, f.Package, f.Severity)
	}
	// Output:
	// CVE-2026-30101 [GHSA-7wq2-9c4h-m3xv] pkg:golang/golang.org/x/net@v0.40.0 high
}

func ExampleNewVulnPredicate() {
	report := []byte(`{"SchemaVersion":2,"Trivy":{"Version":"0.64.1"},"CreatedAt":"2026-11-20T09:00:41Z","ArtifactName":"bin/shop","Results":[]}`)
	scan, err := attest.ParseScan(report, "trivy.json")
	if err != nil {
		log.Fatal(err)
	}
	started := time.Date(2026, 11, 20, 8, 59, 30, 0, time.UTC)
	pred, err := attest.NewVulnPredicate(report, scan, started, time.Time{}) // finished: the report's CreatedAt
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(pred))

	// Reading it back gives the scan and the predicate's fields.
	back, vp, err := attest.ParseVulnPredicate(pred, "predicate")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Scanner.URI, back.Time.Format(time.RFC3339), vp.Metadata.ScanStartedOn)
	// Output:
	// {"invocation":{"parameters":[],"uri":"","event_id":"","builder.id":""},"scanner":{"uri":"pkg:github/aquasecurity/trivy@0.64.1","version":"0.64.1","db":{"uri":"","version":""},"result":{"SchemaVersion":2,"Trivy":{"Version":"0.64.1"},"CreatedAt":"2026-11-20T09:00:41Z","ArtifactName":"bin/shop","Results":[]}},"metadata":{"scanStartedOn":"2026-11-20T08:59:30Z","scanFinishedOn":"2026-11-20T09:00:41Z"}}
	// pkg:github/aquasecurity/trivy@0.64.1 2026-11-20T09:00:41Z 2026-11-20T08:59:30Z
}
