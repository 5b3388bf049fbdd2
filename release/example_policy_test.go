package release_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// ExampleVerify_policy verifies a release and decides go / no-go in one
// call: its scan holds a critical finding, so it is no-go, until a VEX
// statement attested about the release marks the finding not_affected.
func ExampleVerify_policy() {
	ctx := context.Background()
	repo := memory.New()
	key := exampleKey()
	b, err := build.New(ctx, repo, "shop", build.Spec{
		Files:   []build.File{{Name: "bin/shop", Reader: strings.NewReader("shop"), Mode: 0o755}},
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Scans:   []build.Scan{{Path: "testdata/trivy.json"}},
	}, build.Options{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"PORT": "8080"}}, config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r, err := release.New(ctx, repo, b, c, release.Options{Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Signer: key})
	if err != nil {
		log.Fatal(err)
	}
	pol, err := release.ParsePolicy([]byte(`{"maxOpen": {"critical": 0}, "environments": ["prod"]}`), "policy.json")
	if err != nil {
		log.Fatal(err)
	}
	opts := release.VerifyOptions{Policy: pol, Now: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)}
	trusted := []signature.Verifier{key}

	v, err := release.Verify(ctx, repo, "prod", trusted, opts)
	fmt.Println(errors.Is(err, release.ErrNoGo), v.Decision.Verdict)
	for _, f := range v.Decision.Blocking() {
		fmt.Printf("  [%s] %s\n", f.Rule, f.Message)
	}

	vex := `{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1", "author": "security@example.com",
	  "timestamp": "2026-01-02T12:00:00Z", "version": 1,
	  "statements": [{"vulnerability": {"name": "CVE-2026-1111"}, "products": [{"@id": "shop"}],
	    "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}`
	if _, err := release.AttestEvidence(ctx, repo, r, attest.PredicateOpenVEX, []byte(vex), key, release.SignOptions{}); err != nil {
		log.Fatal(err)
	}
	v, err = release.Verify(ctx, repo, "prod", trusted, opts)
	fmt.Println(err, v.Decision.Verdict, v.Summary.Vulnerabilities.Open.Critical)
	// Output:
	// true no-go
	//   [maxOpen] 1 open critical vulnerability, at most 0 allowed: CVE-2026-1111
	// <nil> go 0
}

// ExamplePolicy_Evaluate judges a release already read, with no I/O, and
// prints the decision as the predicate of a decision attestation.
func ExamplePolicy_Evaluate() {
	ctx := context.Background()
	repo := memory.New()
	b, err := build.New(ctx, repo, "shop", build.Spec{
		Files:   []build.File{{Name: "bin/shop", Reader: strings.NewReader("shop"), Mode: 0o755}},
		Source:  build.Source{Repository: "https://example.com/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567", Dirty: true},
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, build.Options{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := config.New("shop", "staging", config.Spec{Env: map[string]string{"DEBUG": "1"}}, config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r, err := release.New(ctx, repo, b, c, release.Options{Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		log.Fatal(err)
	}
	pol, err := release.NewPolicy(release.PolicySpec{
		RequireClean: true,
		Rules:        []release.Rule{{Name: "no-debug", Expr: "!('DEBUG' in release.vars)", Message: "DEBUG is set"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	d := pol.Evaluate(release.Input{Release: r, Summary: r.Summary(), Now: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)})
	out, err := json.MarshalIndent(d.Findings, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Verdict)
	fmt.Println(string(out))
	// Output:
	// no-go
	// [
	//   {
	//     "rule": "requireClean",
	//     "message": "the build was made from a source tree with uncommitted changes",
	//     "evidence": [
	//       "0123456789abcdef0123456789abcdef01234567"
	//     ],
	//     "blocking": true
	//   },
	//   {
	//     "rule": "no-debug",
	//     "message": "DEBUG is set",
	//     "blocking": true
	//   }
	// ]
}
