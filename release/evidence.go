package release

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/attest"
)

// AttestEvidence signs evidence found after r was released (a new scan,
// a VEX statement) as an attestation about r and stores it in dst beside
// r, as [SignOptions] selects. predicateType is [attest.PredicateVuln]
// (data is a vuln predicate, such as [attest.NewVulnPredicate] writes) or
// an OpenVEX type (data is an OpenVEX document); data is checked and
// normalized ([attest.NormalizeJSON]) first, and a malformed document is
// refused with an [*attest.ParseError] before anything is stored.
//
// The release and its signed summary do not change. [Verify] recomputes
// the summary with every such attestation by a trusted key
// ([Verified.Summary]) and judges that by its policy, so that a release
// that was go turns no-go when a new critical vulnerability is attested,
// and go again after a VEX statement marks it not_affected. It returns
// what the summary will name the evidence by.
func AttestEvidence(ctx context.Context, dst oras.Target, r *Release, predicateType string, data []byte, s signature.Signer, opts SignOptions) (attest.EvidenceRef, error) {
	if r == nil {
		return attest.EvidenceRef{}, fmt.Errorf("release: attest evidence: %w: no release", ErrInvalidOptions)
	}
	kind := attest.PredicateKind(predicateType)
	source := "evidence (" + predicateType + ")"
	norm, err := attest.NormalizeJSON(data)
	if err != nil {
		return attest.EvidenceRef{}, fmt.Errorf("release: attest %s: %w: %w", source, attest.ErrMalformed, err)
	}
	switch kind {
	case attest.PredicateVuln:
		_, _, err = attest.ParseVulnPredicate(norm, source)
	case attest.PredicateOpenVEX:
		_, err = attest.ParseVEX(norm, source)
	default:
		return attest.EvidenceRef{}, fmt.Errorf("release: attest evidence: %w: predicate type %q: want a vuln predicate or an OpenVEX document", ErrInvalidOptions, predicateType)
	}
	if err != nil {
		return attest.EvidenceRef{}, fmt.Errorf("release: attest %s: %w", source, err)
	}
	if _, err := attest.Attest(ctx, dst, r.Descriptor(), predicateType, json.RawMessage(norm), s, attestOptions(dst, r, opts)); err != nil {
		return attest.EvidenceRef{}, fmt.Errorf("release: attest %s about %s: %w", source, r.Digest(), err)
	}
	return attest.EvidenceRef{PredicateType: kind, Digest: digest.FromBytes(norm).String()}, nil
}
