package attest_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/slipway-dev/slipway/attest"
)

// bigTrivy is a Trivy report with n findings over n/10 packages, about
// 300 bytes a finding.
func bigTrivy(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"SchemaVersion":2,"ArtifactName":"bin/shop","Results":[{"Target":"bin/shop","Class":"lang-pkgs","Type":"gobinary","Vulnerabilities":[`)
	sev := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"VulnerabilityID":"CVE-2026-%d","PkgName":"example.com/m%d","PkgIdentifier":{"PURL":"pkg:golang/example.com/m%d@v1.0.%d"},"InstalledVersion":"v1.0.%d","FixedVersion":"1.0.%d","Status":"fixed","Severity":"%s","Title":"benchmark finding %d"}`,
			10000+i, i/10, i/10, i%7, i%7, i%7+1, sev[i%len(sev)], i)
	}
	b.WriteString(`]}]}`)
	return b.Bytes()
}

// BenchmarkParseScan reads a Trivy report of 10,000 findings (about 3 MB):
// MB/s of report read, and findings per second.
func BenchmarkParseScan(b *testing.B) {
	report := bigTrivy(10000)
	b.SetBytes(int64(len(report)))
	b.ReportAllocs()
	var n int
	for b.Loop() {
		scan, err := attest.ParseScan(report, "trivy.json")
		if err != nil {
			b.Fatal(err)
		}
		n = len(scan.Findings)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "findings/s")
}

// BenchmarkSummarize computes a summary from a scan of 10,000 findings
// and a VEX document suppressing 1,000 of them, as release verification
// does for every release it checks.
func BenchmarkSummarize(b *testing.B) {
	report := bigTrivy(10000)
	scan, err := attest.ParseScan(report, "trivy.json")
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	vuln, err := attest.NewVulnPredicate(report, scan, at, at)
	if err != nil {
		b.Fatal(err)
	}
	var vex bytes.Buffer
	vex.WriteString(`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/1","author":"sec@example.com","timestamp":"2026-01-02T00:00:00Z","version":1,"statements":[`)
	for i := range 1000 {
		if i > 0 {
			vex.WriteByte(',')
		}
		fmt.Fprintf(&vex, `{"vulnerability":{"name":"CVE-2026-%d"},"products":[{"@id":"shop"}],"status":"not_affected","justification":"vulnerable_code_not_present"}`, 10000+i*10)
	}
	vex.WriteString(`]}`)
	preds := []attest.Predicate{{Type: attest.PredicateVuln, Data: vuln}, {Type: attest.PredicateOpenVEX, Data: vex.Bytes()}}
	b.SetBytes(int64(len(vuln) + vex.Len()))
	b.ReportAllocs()
	for b.Loop() {
		s, err := attest.Summarize(preds, []string{"shop"})
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Vulnerabilities.Suppressed) != 1000 {
			b.Fatalf("suppressed %d, want 1000", len(s.Vulnerabilities.Suppressed))
		}
	}
}
