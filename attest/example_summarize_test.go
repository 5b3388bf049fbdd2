package attest_test

import (
	"fmt"
	"log"
	"time"

	"github.com/slipway-dev/slipway/attest"
)

// A scan and a VEX document add up to a summary: the VEX statement takes
// one finding out of the open counts and keeps it listed as suppressed.
func ExampleSummarize() {
	report := []byte(`{"SchemaVersion": 2, "ArtifactName": "bin/shop", "Results": [{"Target": "bin/shop", "Type": "gobinary",
  "Vulnerabilities": [
    {"VulnerabilityID": "CVE-2026-0001", "PkgIdentifier": {"PURL": "pkg:golang/golang.org/x/net@v0.30.0"}, "InstalledVersion": "v0.30.0", "Severity": "HIGH"},
    {"VulnerabilityID": "CVE-2026-0002", "PkgIdentifier": {"PURL": "pkg:golang/golang.org/x/text@v0.19.0"}, "InstalledVersion": "v0.19.0", "Severity": "CRITICAL"}]}]}`)
	scan, err := attest.ParseScan(report, "trivy.json")
	if err != nil {
		log.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vuln, err := attest.NewVulnPredicate(report, scan, at, at)
	if err != nil {
		log.Fatal(err)
	}
	vex := []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "security@example.com",
  "timestamp": "2026-01-02T00:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": "CVE-2026-0002"}, "products": [{"@id": "shop"}],
    "status": "not_affected", "justification": "vulnerable_code_not_present"}]}`)

	s, err := attest.Summarize([]attest.Predicate{
		{Type: attest.PredicateVuln, Data: vuln},
		{Type: attest.PredicateOpenVEX, Data: vex},
	}, []string{"shop"})
	if err != nil {
		log.Fatal(err)
	}
	v := s.Vulnerabilities
	fmt.Printf("open: %+v\n", v.Open)
	for _, f := range v.Findings {
		fmt.Println("open", f.ID, f.Severity, f.Package)
	}
	for _, x := range v.Suppressed {
		fmt.Println("suppressed", x.ID, x.Severity, x.Status, x.Justification, "by", x.Author)
	}
	fmt.Println(len(s.Evidence), "pieces of evidence")
	// Output:
	// open: {Critical:0 High:1 Medium:0 Low:0 Unknown:0}
	// open CVE-2026-0001 high pkg:golang/golang.org/x/net@v0.30.0
	// suppressed CVE-2026-0002 critical not_affected vulnerable_code_not_present by security@example.com
	// 2 pieces of evidence
}
