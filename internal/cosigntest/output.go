package cosigntest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrNoPayload reports output holding no verified payload, such as the
// output of a failed verification.
var ErrNoPayload = errors.New("cosigntest: no verified payload in cosign output")

// Signature is one entry of the JSON array `cosign verify` prints on
// success: the simple-signing payload of a legacy .sig signature, or the
// same shape cosign derives from a bundle's in-toto statement.
type Signature struct {
	// DockerReference is critical.identity.docker-reference: the repository
	// for a legacy signature, the reference verified ("repo@sha256:…") for
	// a bundle.
	DockerReference string
	// ManifestDigest is critical.image.docker-manifest-digest, the signed
	// manifest's digest ("sha256:…").
	ManifestDigest string
	// Type is critical.type: "cosign container image signature" for a
	// legacy signature, the statement's predicate type for a bundle
	// ("https://sigstore.dev/cosign/sign/v1" for `cosign sign`).
	Type string
}

// Signatures returns the signatures in the output of [Cosign.Verify]: the
// lines that start with "[" are decoded as JSON arrays, other lines (cosign's
// messages on stderr) are skipped. It returns [ErrNoPayload] when there is
// no such line, or a decoding error.
func Signatures(out string) ([]Signature, error) {
	var sigs []Signature
	found := false
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "[") {
			continue
		}
		found = true
		var raw []struct {
			Critical struct {
				Identity struct {
					DockerReference string `json:"docker-reference"`
				} `json:"identity"`
				Image struct {
					DockerManifestDigest string `json:"docker-manifest-digest"`
				} `json:"image"`
				Type string `json:"type"`
			} `json:"critical"`
		}
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			return nil, fmt.Errorf("cosigntest: decode cosign verify output: %w", err)
		}
		for _, r := range raw {
			sigs = append(sigs, Signature{
				DockerReference: r.Critical.Identity.DockerReference,
				ManifestDigest:  r.Critical.Image.DockerManifestDigest,
				Type:            r.Critical.Type,
			})
		}
	}
	if !found {
		return nil, ErrNoPayload
	}
	return sigs, nil
}

// Attestation is one DSSE envelope `cosign verify-attestation` prints on
// success, with the in-toto statement it carries decoded.
type Attestation struct {
	// PayloadType is the envelope's payloadType
	// ("application/vnd.in-toto+json").
	PayloadType string
	// StatementType is the statement's _type: cosign v3.1.3 attest writes
	// "https://in-toto.io/Statement/v0.1".
	StatementType string
	// PredicateType is the statement's predicateType URI.
	PredicateType string
	// Subject is the statement's subject list.
	Subject []Subject
	// Predicate is the statement's predicate, as cosign wrote it.
	Predicate json.RawMessage
}

// Subject is one in-toto subject.
type Subject struct {
	// Name is the subject name: the repository, for cosign attest.
	Name string `json:"name"`
	// Digest maps algorithm to lowercase hex ("sha256": "…").
	Digest map[string]string `json:"digest"`
}

// Attestations returns the attestations in the output of
// [Cosign.VerifyAttestation]: each line that starts with "{" is decoded as a
// DSSE envelope and its base64 payload as an in-toto statement; other lines
// are skipped. It returns [ErrNoPayload] when there is no such line, or a
// decoding error.
func Attestations(out string) ([]Attestation, error) {
	var atts []Attestation
	for line := range strings.Lines(out) {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var env struct {
			PayloadType string `json:"payloadType"`
			Payload     string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &env); err != nil {
			return nil, fmt.Errorf("cosigntest: decode cosign verify-attestation output: %w", err)
		}
		payload, err := base64.StdEncoding.DecodeString(env.Payload)
		if err != nil {
			return nil, fmt.Errorf("cosigntest: decode envelope payload: %w", err)
		}
		var st struct {
			Type          string          `json:"_type"`
			PredicateType string          `json:"predicateType"`
			Subject       []Subject       `json:"subject"`
			Predicate     json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(payload, &st); err != nil {
			return nil, fmt.Errorf("cosigntest: decode in-toto statement: %w", err)
		}
		atts = append(atts, Attestation{
			PayloadType:   env.PayloadType,
			StatementType: st.Type,
			PredicateType: st.PredicateType,
			Subject:       st.Subject,
			Predicate:     st.Predicate,
		})
	}
	if len(atts) == 0 {
		return nil, ErrNoPayload
	}
	return atts, nil
}
