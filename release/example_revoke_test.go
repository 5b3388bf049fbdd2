package release_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/release"
)

// ExampleRevoke revokes the head of prod. From then on Verify refuses it
// with a RevokedError, whatever the policy says; a caller branches on
// ErrRevoked and reads who revoked it, when and why.
func ExampleRevoke() {
	ctx := context.Background()
	repo := memory.New()
	key := exampleKey()
	r := exampleRelease(ctx, repo, key)

	_, err := release.Revoke(ctx, repo, r, key, release.RevokeOptions{
		Reason:    "CVE-2026-0001 is exploited: roll back to v1",
		RevokedBy: "security@example.com",
		Time:      time.Date(2026, 1, 2, 9, 30, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}

	policy, err := release.ParsePolicy([]byte(`{}`), "policy.json") // a policy that finds nothing to block
	if err != nil {
		log.Fatal(err)
	}
	v, err := release.Verify(ctx, repo, "prod", []signature.Verifier{key}, release.VerifyOptions{Policy: policy})
	var ve *release.VerifyError
	var re *release.RevokedError
	if errors.Is(err, release.ErrRevoked) && errors.As(err, &ve) && errors.As(err, &re) {
		rev := re.Revocation
		fmt.Println("check:", ve.Check)
		fmt.Printf("revoked: %s v%d in %s\n", rev.Release.App, rev.Release.Version, rev.Release.Environment)
		fmt.Println("reason:", rev.Reason)
		fmt.Println("by:", rev.RevokedBy, "at", rev.Time.Format(time.RFC3339))
		fmt.Println("verified:", v != nil)
	}
	// Output:
	// check: revocation
	// revoked: shop v1 in prod
	// reason: CVE-2026-0001 is exploited: roll back to v1
	// by: security@example.com at 2026-01-02T09:30:00Z
	// verified: false
}
