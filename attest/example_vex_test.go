package attest_test

import (
	"fmt"
	"log"

	"github.com/slipway-dev/slipway/attest"
)

// ExampleApplyVEX applies the shop team's VEX document to two findings of
// a scan of shop v1.4.0: the statement about golang.org/x/net suppresses
// one; the other stays open.
func ExampleApplyVEX() {
	doc, err := attest.ParseVEX([]byte(`{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.invalid/vex/shop-1",
  "author": "security@example.invalid",
  "timestamp": "2026-03-01T10:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "GO-2026-1001", "aliases": ["CVE-2026-1001"]},
    "products": [{
      "@id": "pkg:golang/example.com/shop@v1.4.0",
      "subcomponents": [{"@id": "pkg:golang/golang.org/x/net@v0.30.0"}]
    }],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path"
  }]
}`), "shop.openvex.json")
	if err != nil {
		log.Fatal(err)
	}
	findings := []attest.Finding{
		{ID: "CVE-2026-1001", Package: "pkg:golang/golang.org/x/net@v0.30.0", Severity: attest.SeverityHigh},
		{ID: "CVE-2026-1003", Package: "pkg:golang/github.com/acme/yaml@v1.0.0", Severity: attest.SeverityCritical},
	}
	open, suppressed := attest.ApplyVEX(findings, []*attest.VEX{doc}, []string{"pkg:golang/example.com/shop@v1.4.0"})
	for _, f := range open {
		fmt.Println("open:", f.ID, f.Package, f.Severity)
	}
	for _, s := range suppressed {
		fmt.Println("suppressed:", s.ID, s.Package, s.Status, s.Justification, "by", s.Author)
	}
	// Output:
	// open: CVE-2026-1003 pkg:golang/github.com/acme/yaml@v1.0.0 critical
	// suppressed: CVE-2026-1001 pkg:golang/golang.org/x/net@v0.30.0 not_affected vulnerable_code_not_in_execute_path by security@example.invalid
}
