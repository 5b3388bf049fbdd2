package attest

import (
	"errors"
	"fmt"
)

// Errors that verification returns wrapped. Each names one way evidence
// fails; a caller branches on them with [errors.Is], never on text.
// Verification fails closed: every one of them means "not verified".
var (
	// ErrNotSigned: no signature at all, or an envelope with an empty
	// signature list.
	ErrNotSigned = errors.New("not signed")
	// ErrUntrustedKey: signatures are present, but none verifies with a
	// trusted key (another signer, or signature bytes that were altered).
	ErrUntrustedKey = errors.New("no trusted key verifies the signature")
	// ErrSubjectMismatch: a validly signed statement or payload is about
	// another digest than the artifact being verified.
	ErrSubjectMismatch = errors.New("signed statement is about another subject")
	// ErrDigestMismatch: stored bytes do not hash to the digest that names
	// them.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrMalformed: evidence that cannot be read: not JSON, truncated, bad
	// base64, missing fields, or over a size limit.
	ErrMalformed = errors.New("malformed evidence")
	// ErrUnknownFormat: evidence of a kind or version this reader does not
	// know: a DSSE payloadType, a bundle media type or version, a
	// statement type, a signature payload type.
	ErrUnknownFormat = errors.New("unknown evidence format")
	// ErrMissingAttestation: no attestation of a required predicate type
	// verifies.
	ErrMissingAttestation = errors.New("required attestation missing")
	// ErrSummaryMismatch: a security summary says other than the attested
	// evidence it names: counts, findings, SBOM or provenance differ from
	// what the evidence gives when recomputed.
	ErrSummaryMismatch = errors.New("summary does not match the attested evidence")
	// ErrInvalidOptions: arguments or options that cannot work, reported
	// before any I/O.
	ErrInvalidOptions = errors.New("invalid options")
)

// EvidenceError says which piece of evidence failed and why. Source names
// it as stored: "bundle sha256:…" for a bundle referrer, "tag
// sha256-….sig layer 0" for a legacy signature.
type EvidenceError struct {
	Source string
	Err    error // wraps one of the Err values of this package
}

func (e *EvidenceError) Error() string { return fmt.Sprintf("%s: %v", e.Source, e.Err) }

// Unwrap returns the cause.
func (e *EvidenceError) Unwrap() error { return e.Err }
