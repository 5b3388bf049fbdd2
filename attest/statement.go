package attest

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/opencontainers/go-digest"
)

// Statement types, predicate types and payload types slipway writes and
// reads (docs/format.md, "Signatures and attestations").
const (
	// StatementType is the in-toto Statement v1 type slipway writes.
	StatementType = "https://in-toto.io/Statement/v1"
	// StatementTypeV01 is the earlier in-toto statement type, still
	// written by some producers; it is read, never written.
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// PredicateSign is the predicate type of a plain signature in
	// sigstore bundle form: cosign's statement with an empty predicate
	// whose subject is the signed manifest.
	PredicateSign = "https://sigstore.dev/cosign/sign/v1"
	// PredicateSLSAProvenance is SLSA provenance v1 (cosign --type
	// slsaprovenance1).
	PredicateSLSAProvenance = "https://slsa.dev/provenance/v1"
)

// MaxStatementSize is the largest statement payload read: 32 MiB.
const MaxStatementSize = 32 << 20

// Statement is an in-toto statement: what a signer says (the predicate,
// of PredicateType) about the artifacts in Subject. Predicate holds the
// predicate's JSON as it was signed.
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate,omitempty"`
}

// Subject is one artifact a statement is about: a name and its digests by
// algorithm ("sha256" → lowercase hex).
type Subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// NewStatement returns the v1 statement that says predicate (JSON, or nil
// for an empty object) of predicateType about the artifact name with
// digest d. The predicate is kept in normalized form ([NormalizeJSON]), so
// [PredicateDigest] of the predicate given equals the digest of the
// predicate bytes a verifier reads back.
func NewStatement(name string, d digest.Digest, predicateType string, predicate any) (*Statement, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("attest: %w: subject digest: %w", ErrInvalidOptions, err)
	}
	if predicateType == "" {
		return nil, fmt.Errorf("attest: %w: empty predicate type", ErrInvalidOptions)
	}
	raw := []byte("{}")
	switch p := predicate.(type) {
	case nil:
	case json.RawMessage:
		raw = p
	case []byte:
		raw = p
	default:
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("attest: %w: predicate: %w", ErrInvalidOptions, err)
		}
		raw = b
	}
	norm, err := NormalizeJSON(raw)
	if err != nil || len(norm) == 0 || norm[0] != '{' {
		return nil, fmt.Errorf("attest: %w: predicate is not a JSON object", ErrInvalidOptions)
	}
	return &Statement{
		Type:          StatementType,
		Subject:       []Subject{{Name: name, Digest: map[string]string{string(d.Algorithm()): d.Encoded()}}},
		PredicateType: predicateType,
		Predicate:     norm,
	}, nil
}

// Bytes returns the statement's JSON: the payload a signer signs. The
// same statement gives the same bytes.
func (s *Statement) Bytes() ([]byte, error) {
	return json.Marshal(s)
}

// About reports whether d is one of the statement's subjects. Subjects
// match by digest only, and only by an algorithm d uses.
func (s *Statement) About(d digest.Digest) bool {
	for _, sub := range s.Subject {
		if v, ok := sub.Digest[string(d.Algorithm())]; ok && v == d.Encoded() {
			return true
		}
	}
	return false
}

var hexRE = regexp.MustCompile(`^[0-9a-f]+$`)

// ParseStatement reads a statement from payload, the bytes a DSSE
// envelope carries. It accepts in-toto v1 and v0.1 statements; another
// _type is [ErrUnknownFormat], unreadable JSON or a subject without a
// digest [ErrMalformed]. Nothing is re-encoded: keep payload if the signed
// bytes are needed.
func ParseStatement(payload []byte) (*Statement, error) {
	if len(payload) > MaxStatementSize {
		return nil, fmt.Errorf("%w: statement of %d bytes (limit %d)", ErrMalformed, len(payload), MaxStatementSize)
	}
	var s Statement
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("%w: statement: %w", ErrMalformed, err)
	}
	switch s.Type {
	case StatementType, StatementTypeV01:
	default:
		return nil, fmt.Errorf("%w: statement _type %q", ErrUnknownFormat, s.Type)
	}
	if s.PredicateType == "" {
		return nil, fmt.Errorf("%w: statement without predicateType", ErrMalformed)
	}
	if len(s.Subject) == 0 {
		return nil, fmt.Errorf("%w: statement without subject", ErrMalformed)
	}
	for i, sub := range s.Subject {
		if len(sub.Digest) == 0 {
			return nil, fmt.Errorf("%w: statement subject %d has no digest", ErrMalformed, i)
		}
		for alg, v := range sub.Digest {
			if alg == "" || v == "" {
				return nil, fmt.Errorf("%w: statement subject %d: empty digest entry", ErrMalformed, i)
			}
			if (alg == "sha256" || alg == "sha512") && !hexRE.MatchString(v) {
				return nil, fmt.Errorf("%w: statement subject %d: %s digest is not lowercase hex", ErrMalformed, i, alg)
			}
		}
	}
	return &s, nil
}
