package release

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/attest"
)

// PredicateAdminRun is the predicate type of an audit record: an in-toto
// statement about a release manifest whose predicate is an [AuditRecord],
// one per admin one-off run against the release. docs/format.md describes
// it.
const PredicateAdminRun = "https://slipway.dev/admin-run/v1"

// maxAudit bounds an audit predicate read back.
const maxAudit = 1 << 20

// AuditRecord is what an admin one-off run against a release leaves: who
// ran which declared process with which arguments, where, when, and how
// it ended. It holds digests of the process's output, never the output
// and never a value of its environment.
type AuditRecord struct {
	Release DecisionSubject `json:"release"`
	// Process is the declared admin process; Command its command line as
	// the signed release record declares it.
	Process string `json:"process"`
	Command string `json:"command"`
	// Args are the arguments the operator gave.
	Args []string `json:"args"`
	// Operator is who ran it, as the caller named them.
	Operator string `json:"operator"`
	// Host is the machine it ran on.
	Host string `json:"host"`
	// StartedOn and FinishedOn bound the run, UTC.
	StartedOn  time.Time `json:"startedOn"`
	FinishedOn time.Time `json:"finishedOn"`
	// ExitCode is the process's exit status; -1 when it did not exit
	// normally (it could not start, or a signal ended it).
	ExitCode int `json:"exitCode"`
	// Error says why the run did not exit normally; empty when it did.
	Error string `json:"error,omitempty"`
	// Stdout and Stderr name what the process wrote, by digest and size.
	Stdout OutputDigest `json:"stdout"`
	Stderr OutputDigest `json:"stderr"`
	// Policy is the digest of the go / no-go policy the release was
	// judged go by before the run; empty when none was given.
	Policy digest.Digest `json:"policy,omitempty"`
}

// OutputDigest is the SHA-256 and byte count of one output stream.
type OutputDigest struct {
	Digest digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
}

// Audit is one audit record read back, with the key that signed it.
type Audit struct {
	AuditRecord
	// KeyID is the [attest.KeyID] of the key that signed the record.
	KeyID string
}

// ParseAuditRecord reads an audit predicate. It checks the form only, not
// who signed it: unknown fields, a missing release digest, process or
// start time, or an end before the start are [ErrMalformed].
func ParseAuditRecord(data []byte) (*AuditRecord, error) {
	var a AuditRecord
	if err := decodePredicate(data, maxAudit, "record", &a); err != nil {
		return nil, fmt.Errorf("release: audit record: %w", err)
	}
	switch {
	case a.Release.Digest.Validate() != nil:
		return nil, fmt.Errorf("release: audit record: %w: release digest %q", ErrMalformed, a.Release.Digest)
	case a.Process == "":
		return nil, fmt.Errorf("release: audit record: %w: no process", ErrMalformed)
	case a.StartedOn.IsZero() || a.FinishedOn.Before(a.StartedOn):
		return nil, fmt.Errorf("release: audit record: %w: times %s to %s", ErrMalformed, a.StartedOn.Format(time.RFC3339), a.FinishedOn.Format(time.RFC3339))
	case a.Stdout.Digest.Validate() != nil || a.Stderr.Digest.Validate() != nil:
		return nil, fmt.Errorf("release: audit record: %w: output digest", ErrMalformed)
	case a.Policy != "" && a.Policy.Validate() != nil:
		return nil, fmt.Errorf("release: audit record: %w: policy digest %q", ErrMalformed, a.Policy)
	}
	return &a, nil
}

// recordAudit signs a as an audit record about r and stores it in dst.
func recordAudit(ctx context.Context, dst oras.Target, r *Release, a *AuditRecord, s signature.Signer, opts SignOptions) error {
	if _, err := attest.Attest(ctx, dst, r.Descriptor(), PredicateAdminRun, a, s, attestOptions(dst, r, opts)); err != nil {
		return fmt.Errorf("release: record the audit of %s against %s: %w", a.Process, r.Digest(), err)
	}
	return nil
}

// Audits returns the audit records about the release r in src that one of
// keys signed, newest first (by start time). A record stored in both
// forms counts once. A record that does not parse, or names another
// release than the one it is attested about, fails the call
// ([ErrMalformed], [ErrSubjectMismatch]): an audit trail is read whole or
// not at all. Records by other keys are left out.
func Audits(ctx context.Context, src oras.ReadOnlyGraphTarget, r *Release, keys []signature.Verifier) ([]Audit, error) {
	if r == nil {
		return nil, fmt.Errorf("release: audits: %w: no release", ErrInvalidOptions)
	}
	res, err := attest.Find(ctx, src, r.Descriptor(), keys)
	if err != nil {
		return nil, fmt.Errorf("release: audits of %s: %w", r.Digest(), err)
	}
	seen := map[digest.Digest]bool{}
	var out []Audit
	var errs []error
	for _, e := range res.Attestations {
		st := e.Statement
		if st == nil || st.PredicateType != PredicateAdminRun {
			continue
		}
		d := digest.FromBytes(st.Predicate)
		if seen[d] {
			continue
		}
		seen[d] = true
		a, err := ParseAuditRecord(st.Predicate)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if a.Release.Digest != r.Digest() {
			errs = append(errs, fmt.Errorf("release: audit record: %w: signed about %s, names %s", ErrSubjectMismatch, r.Digest(), a.Release.Digest))
			continue
		}
		out = append(out, Audit{AuditRecord: *a, KeyID: e.KeyID})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.SortStableFunc(out, func(a, b Audit) int {
		if c := b.StartedOn.Compare(a.StartedOn); c != 0 {
			return c
		}
		return cmp.Compare(a.Process, b.Process)
	})
	return out, nil
}
