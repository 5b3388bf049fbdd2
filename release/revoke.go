package release

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/attest"
)

// PredicateRevocation is the predicate type of a revocation attestation:
// an in-toto statement about a release manifest whose predicate is a
// [Revocation]. docs/format.md describes it.
const PredicateRevocation = "https://slipway.dev/revocation/v1"

// Limits of a revocation: its reason, who revoked, and the predicate read
// back whole.
const (
	maxReason     = 4 << 10 // bytes of Revocation.Reason
	maxRevokedBy  = 1 << 10 // bytes of Revocation.RevokedBy
	maxRevocation = 64 << 10
)

// Revocation says that a release must no longer be deployed or run, and
// why. Its JSON is the predicate of a revocation attestation
// ([PredicateRevocation]). A revocation is final: nothing recorded later,
// such as a go decision, undoes it.
type Revocation struct {
	// Release names the revoked release: app, environment, version and
	// the digest of its manifest, which the statement's subject must be.
	Release DecisionSubject `json:"release"`
	// Reason says why, for the people who read it when a deploy is
	// refused: not blank, at most 4 KiB of UTF-8,
	// no control characters but newline and tab.
	Reason string `json:"reason"`
	// RevokedBy names who revoked it (a person, a pipeline), as the
	// caller of [Revoke] named them: at most 1 KiB of
	// UTF-8, no control characters. The signing key is known from the
	// signature.
	RevokedBy string `json:"revokedBy,omitempty"`
	// Time is when it was revoked, UTC.
	Time time.Time `json:"time"`
}

// RevokeOptions are the optional settings of [Revoke]. Reason, though a
// field, is required: a revocation without a reason is refused.
type RevokeOptions struct {
	// Reason says why the release is revoked; required, see
	// [Revocation.Reason].
	Reason string
	// RevokedBy names who revokes it; see [Revocation.RevokedBy].
	RevokedBy string
	// Time is when it is revoked; if zero, time.Now().
	Time time.Time
	// Sign are the settings of the attestation: the forms written and
	// the subject name.
	Sign SignOptions
}

// Revoke signs a revocation of r with s and stores it in dst next to r,
// as a sigstore bundle referrer and in cosign's legacy .att tag (as
// [SignOptions] selects). From then on [Verify], and a [Verifier] at its
// next check, refuse r with a [*RevokedError] wrapping [ErrRevoked] when
// s's key is one of the trusted keys, whatever a policy or a recorded
// decision says. It verifies nothing about r: revoking a release that no
// longer verifies is allowed.
//
// Revoke fails, wrapping [ErrInvalidOptions], before anything is stored
// when r or s is nil, the reason is blank, too long or holds control
// characters, or RevokedBy is too long or holds control characters. It
// returns the revocation as recorded.
func Revoke(ctx context.Context, dst oras.Target, r *Release, s signature.Signer, opts RevokeOptions) (*Revocation, error) {
	switch {
	case r == nil:
		return nil, fmt.Errorf("release: revoke: %w: no release", ErrInvalidOptions)
	case s == nil:
		return nil, fmt.Errorf("release: revoke %s: %w: no signer", r.Digest(), ErrInvalidOptions)
	}
	if err := checkReason(opts.Reason); err != nil {
		return nil, fmt.Errorf("release: revoke %s: RevokeOptions.Reason: %w: %w", r.Digest(), ErrInvalidOptions, err)
	}
	if err := checkRevokedBy(opts.RevokedBy); err != nil {
		return nil, fmt.Errorf("release: revoke %s: RevokeOptions.RevokedBy: %w: %w", r.Digest(), ErrInvalidOptions, err)
	}
	when := opts.Time
	if when.IsZero() {
		when = time.Now()
	}
	rev := Revocation{
		Release:   DecisionSubject{App: r.App(), Environment: r.Environment(), Version: r.Version(), Digest: r.Digest()},
		Reason:    opts.Reason,
		RevokedBy: opts.RevokedBy,
		Time:      when.UTC(), // also drops the monotonic clock reading
	}
	if _, err := attest.Attest(ctx, dst, r.Descriptor(), PredicateRevocation, &rev, s, attestOptions(dst, r, opts.Sign)); err != nil {
		return nil, fmt.Errorf("release: revoke %s: %w", r.Digest(), err)
	}
	return &rev, nil
}

// ParseRevocation reads a revocation predicate strictly: at most 64 KiB,
// one JSON object with no unknown fields, a well-formed release (app,
// environment, version from 1, digest), a reason and RevokedBy as
// [Revocation] describes them, and a time. It checks the form only, not
// who signed it nor which release it is attached to. Every refusal wraps
// [ErrMalformed].
func ParseRevocation(data []byte) (*Revocation, error) {
	rev, err := parseRevocation(data)
	if err != nil {
		return nil, fmt.Errorf("release: revocation: %w", err)
	}
	return rev, nil
}

// parseRevocation is [ParseRevocation] with errors that do not name the
// package, for callers that say where the predicate was.
func parseRevocation(data []byte) (*Revocation, error) {
	var rev Revocation
	if err := decodePredicate(data, maxRevocation, "revocation", &rev); err != nil {
		return nil, err
	}
	s := rev.Release
	if err := checkName("app", s.App); err != nil {
		return nil, fmt.Errorf("%w: release: %w", ErrMalformed, err)
	}
	if err := checkEnvironment(s.Environment); err != nil {
		return nil, fmt.Errorf("%w: release: %w", ErrMalformed, err)
	}
	switch {
	case s.Version < 1:
		return nil, fmt.Errorf("%w: release: version %d", ErrMalformed, s.Version)
	case s.Digest.Validate() != nil:
		return nil, fmt.Errorf("%w: release: digest %q", ErrMalformed, s.Digest)
	case rev.Time.IsZero():
		return nil, fmt.Errorf("%w: no time", ErrMalformed)
	}
	if err := checkReason(rev.Reason); err != nil {
		return nil, fmt.Errorf("%w: reason: %w", ErrMalformed, err)
	}
	if err := checkRevokedBy(rev.RevokedBy); err != nil {
		return nil, fmt.Errorf("%w: revokedBy: %w", ErrMalformed, err)
	}
	return &rev, nil
}

// checkReason checks a revocation's reason.
func checkReason(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("empty: say why the release is revoked")
	}
	return checkText(s, maxReason, "\n\t")
}

// checkRevokedBy checks who revoked.
func checkRevokedBy(s string) error { return checkText(s, maxRevokedBy, "") }

// checkText checks that s is UTF-8 of at most limit bytes without control
// characters other than those in allowed.
func checkText(s string, limit int, allowed string) error {
	switch {
	case len(s) > limit:
		return fmt.Errorf("%d bytes, at most %d allowed", len(s), limit)
	case !utf8.ValidString(s):
		return errors.New("not UTF-8")
	}
	for i, c := range s {
		if unicode.IsControl(c) && !strings.ContainsRune(allowed, c) {
			return fmt.Errorf("control character %U at byte %d", c, i)
		}
	}
	return nil
}

// RevokedError is a revocation as an error: the release was revoked by a
// trusted key. It wraps [ErrRevoked].
type RevokedError struct {
	// Revocation is the signed revocation, as read.
	Revocation *Revocation
	// KeyID is the [attest.KeyID] of the trusted key that signed it.
	KeyID string
}

func (e *RevokedError) Error() string {
	r := e.Revocation
	if r == nil {
		return ErrRevoked.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v at %s", ErrRevoked, r.Time.UTC().Format(time.RFC3339))
	if r.RevokedBy != "" {
		fmt.Fprintf(&b, " by %q", r.RevokedBy)
	}
	fmt.Fprintf(&b, " (key %s): %q", e.KeyID, r.Reason)
	return b.String()
}

// Unwrap returns [ErrRevoked].
func (e *RevokedError) Unwrap() error { return ErrRevoked }

// checkRevocations looks among the attestations trusted keys signed about
// r for revocations. It returns a [*RevokedError] for the earliest one
// that names r; else, when a revocation does not parse or names another
// release, every such fault (fail closed: a trusted key meant to say
// something about r); else nil.
func checkRevocations(r *Release, atts []attest.Evidence) error {
	want := DecisionSubject{App: r.App(), Environment: r.Environment(), Version: r.Version(), Digest: r.Digest()}
	var found *RevokedError
	var errs []error
	for _, a := range atts {
		if a.Statement == nil || a.Statement.PredicateType != PredicateRevocation {
			continue
		}
		where := fmt.Sprintf("revocation %s (%s) by key %s", a.Source.Digest, a.Form, a.KeyID)
		rev, err := parseRevocation(a.Statement.Predicate)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		if rev.Release != want {
			errs = append(errs, fmt.Errorf("%w: %s, signed about %s, names %s v%d in %s (%s)", ErrSubjectMismatch, where, r.Digest(),
				rev.Release.App, rev.Release.Version, rev.Release.Environment, rev.Release.Digest))
			continue
		}
		if found == nil || rev.Time.Before(found.Revocation.Time) {
			found = &RevokedError{Revocation: rev, KeyID: a.KeyID}
		}
	}
	switch {
	case found != nil:
		return found
	case len(errs) > 0:
		return errors.Join(errs...)
	}
	return nil
}
