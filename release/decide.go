package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/attest"
)

// PredicateDecision is the predicate type of a decision attestation: an
// in-toto statement about a release manifest whose predicate is a
// [Decision]. docs/format.md describes it.
const PredicateDecision = "https://slipway.dev/decision/v1"

// maxDecision bounds a decision predicate read back.
const maxDecision = 4 << 20

// DecisionOptions are the optional settings of [RecordDecision].
type DecisionOptions struct {
	// DecidedBy names who decided (a person, a pipeline); it is stored
	// in the decision. The signing key is known from the signature.
	DecidedBy string
	// Sign are the settings of the attestation: the forms written and
	// the subject name.
	Sign SignOptions
}

// RecordDecision signs d as a decision attestation about r and stores it
// in dst next to r, as a sigstore bundle referrer and in cosign's legacy
// .att tag (as [SignOptions] selects). d must be about r. It returns the
// decision as recorded, with DecidedBy set. A no-go is recorded as well:
// a later go by the same key supersedes it, being newer.
func RecordDecision(ctx context.Context, dst oras.Target, r *Release, d *Decision, s signature.Signer, opts DecisionOptions) (*Decision, error) {
	switch {
	case r == nil || d == nil:
		return nil, fmt.Errorf("release: record decision: %w: no release or no decision", ErrInvalidOptions)
	case d.Release.Digest != r.Digest():
		return nil, fmt.Errorf("release: record decision: %w: the decision is about %s, not %s", ErrInvalidOptions, d.Release.Digest, r.Digest())
	case d.Verdict != VerdictGo && d.Verdict != VerdictNoGo:
		return nil, fmt.Errorf("release: record decision: %w: verdict %q", ErrInvalidOptions, d.Verdict)
	}
	rec := *d
	rec.DecidedBy = opts.DecidedBy
	rec.Findings = slices.Clone(d.Findings)
	_, err := attest.Attest(ctx, dst, r.Descriptor(), PredicateDecision, &rec, s, attestOptions(dst, r, opts.Sign))
	if err != nil {
		return nil, fmt.Errorf("release: record decision about %s: %w", r.Digest(), err)
	}
	return &rec, nil
}

// ParseDecision reads a decision predicate. It checks the form only, not
// who signed it.
func ParseDecision(data []byte) (*Decision, error) {
	var d Decision
	if err := decodePredicate(data, maxDecision, "decision", &d); err != nil {
		return nil, fmt.Errorf("release: decision: %w", err)
	}
	switch {
	case d.Verdict != VerdictGo && d.Verdict != VerdictNoGo:
		return nil, fmt.Errorf("release: decision: %w: verdict %q", ErrMalformed, d.Verdict)
	case d.Release.Digest.Validate() != nil:
		return nil, fmt.Errorf("release: decision: %w: release digest %q", ErrMalformed, d.Release.Digest)
	case d.Policy != "" && d.Policy.Validate() != nil:
		return nil, fmt.Errorf("release: decision: %w: policy digest %q", ErrMalformed, d.Policy)
	case d.Time.IsZero():
		return nil, fmt.Errorf("release: decision: %w: no time", ErrMalformed)
	}
	if d.Verdict == VerdictGo && len(d.Blocking()) > 0 {
		return nil, fmt.Errorf("release: decision: %w: a go with blocking findings", ErrMalformed)
	}
	return &d, nil
}

// latestDecision returns the newest decision about r among atts that one
// of keys signed; when two are equally new, a no-go wins. It fails with
// [ErrNoDecision] when there is none, and with a [*NoGoError] when the
// newest is no-go.
func latestDecision(ctx context.Context, r *Release, atts []attest.Evidence, keys []signature.Verifier) (*Decision, error) {
	ids := map[string]bool{}
	for i, k := range keys {
		if k == nil {
			return nil, fmt.Errorf("%w: decision key %d is nil", ErrInvalidOptions, i)
		}
		id, err := attest.KeyIDOf(ctx, k)
		if err != nil {
			return nil, fmt.Errorf("%w: decision key %d: %w", ErrInvalidOptions, i, err)
		}
		ids[id] = true
	}
	var best *Decision
	var errs []error
	for _, a := range atts {
		if a.Statement == nil || a.Statement.PredicateType != PredicateDecision || !ids[a.KeyID] {
			continue
		}
		d, err := ParseDecision(a.Statement.Predicate)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if d.Release.Digest != r.Digest() {
			errs = append(errs, fmt.Errorf("%w: a decision signed about %s names release %s", ErrSubjectMismatch, r.Digest(), d.Release.Digest))
			continue
		}
		if best == nil || d.Time.After(best.Time) || (d.Time.Equal(best.Time) && !d.Go()) {
			best = d
		}
	}
	switch {
	case best == nil && len(errs) > 0:
		return nil, fmt.Errorf("%w: %w", ErrNoDecision, errors.Join(errs...))
	case best == nil:
		return nil, ErrNoDecision
	case !best.Go():
		return best, &NoGoError{Decision: best}
	}
	return best, nil
}

// decodePredicate reads data, a predicate of at most max bytes, into v:
// one JSON object, unknown fields refused. Its errors wrap [ErrMalformed]
// and name what only for data after the object.
func decodePredicate(data []byte, max int, what string, v any) error {
	if len(data) > max {
		return fmt.Errorf("%w: larger than %d bytes", ErrMalformed, max)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the %s", ErrMalformed, what)
	}
	return nil
}
