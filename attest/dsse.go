package attest

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
)

// EnvelopeMediaType is the media type of a DSSE envelope stored as a blob
// (the layers of cosign's legacy .att manifests).
const EnvelopeMediaType = "application/vnd.dsse.envelope.v1+json"

// MaxEnvelopeSize is the largest DSSE envelope or bundle read: 48 MiB,
// room for a [MaxStatementSize] payload in base64.
const MaxEnvelopeSize = 48 << 20

// Envelope is a DSSE envelope: a payload of PayloadType and signatures
// over its pre-authentication encoding ([PAE]). Payload holds the exact
// bytes that were signed.
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signatures  []Signature
}

// Signature is one signature of an envelope. KeyID is the signer's
// [KeyID] as the signer wrote it: a hint, never trusted.
type Signature struct {
	KeyID string
	Sig   []byte
}

// PAE returns the DSSE pre-authentication encoding of payload: the bytes
// a DSSE signature signs, "DSSEv1 <len> <type> <len> <payload>".
func PAE(payloadType string, payload []byte) []byte {
	return dsse.PAE(payloadType, payload)
}

// SignEnvelope signs payload of payloadType with s and returns the
// envelope, whose signature carries no keyid. s may be any sigstore signer: a key file, a KMS key, a
// hardware token; ctx reaches it through options.WithContext.
func SignEnvelope(ctx context.Context, s signature.Signer, payloadType string, payload []byte) (*Envelope, error) {
	if s == nil {
		return nil, fmt.Errorf("attest: %w: no signer", ErrInvalidOptions)
	}
	if payloadType == "" || len(payload) == 0 {
		return nil, fmt.Errorf("attest: %w: empty payload or payload type", ErrInvalidOptions)
	}
	sig, err := s.SignMessage(bytes.NewReader(PAE(payloadType, payload)), options.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("attest: sign: %w", err)
	}
	// No keyid: cosign's DSSE verifier (go-securesystemslib) skips a
	// signature whose keyid is not its own SSH-style fingerprint of the
	// key. A bundle names the key in its hint instead.
	return &Envelope{PayloadType: payloadType, Payload: bytes.Clone(payload), Signatures: []Signature{{Sig: sig}}}, nil
}

// MarshalJSON encodes the envelope in the DSSE JSON form, payload and
// signatures in standard base64.
func (e *Envelope) MarshalJSON() ([]byte, error) {
	return json.Marshal(e.wire())
}

func (e *Envelope) wire() *dsse.Envelope {
	w := &dsse.Envelope{PayloadType: e.PayloadType, Payload: base64.StdEncoding.EncodeToString(e.Payload), Signatures: []dsse.Signature{}}
	for _, s := range e.Signatures {
		w.Signatures = append(w.Signatures, dsse.Signature{KeyID: s.KeyID, Sig: base64.StdEncoding.EncodeToString(s.Sig)})
	}
	return w
}

// ParseEnvelope reads a DSSE envelope in JSON form. Payload and signatures
// may be in standard or URL-safe base64. It checks form only: see
// [Envelope.Verify]. Unreadable input is [ErrMalformed].
func ParseEnvelope(raw []byte) (*Envelope, error) {
	if len(raw) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: envelope of %d bytes (limit %d)", ErrMalformed, len(raw), MaxEnvelopeSize)
	}
	var w dsse.Envelope
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: envelope: %w", ErrMalformed, err)
	}
	return fromWire(&w)
}

func fromWire(w *dsse.Envelope) (*Envelope, error) {
	if w.PayloadType == "" {
		return nil, fmt.Errorf("%w: envelope without payloadType", ErrMalformed)
	}
	payload, err := b64(w.Payload)
	if err != nil || len(payload) == 0 {
		return nil, fmt.Errorf("%w: envelope payload is empty or not base64", ErrMalformed)
	}
	e := &Envelope{PayloadType: w.PayloadType, Payload: payload}
	for i, s := range w.Signatures {
		sig, err := b64(s.Sig)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("%w: envelope signature %d is empty or not base64", ErrMalformed, i)
		}
		e.Signatures = append(e.Signatures, Signature{KeyID: s.KeyID, Sig: sig})
	}
	return e, nil
}

func b64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.URLEncoding.DecodeString(s)
	}
	return b, err
}

// Verify checks the envelope's signatures against the trusted keys and
// returns the [KeyID] of the first trusted key that verifies one of them.
// An envelope without signatures is [ErrNotSigned]; signatures that no
// trusted key verifies are [ErrUntrustedKey]. The key IDs written in the
// envelope are ignored: every signature is tried with every trusted key.
func (e *Envelope) Verify(ctx context.Context, trusted []signature.Verifier) (string, error) {
	keys, err := trustedKeys(ctx, trusted)
	if err != nil {
		return "", err
	}
	return e.verify(ctx, keys)
}

func (e *Envelope) verify(ctx context.Context, keys []trustedKey) (string, error) {
	if len(e.Signatures) == 0 {
		return "", fmt.Errorf("%w: envelope has no signatures", ErrNotSigned)
	}
	return verifyAny(ctx, keys, e.Signatures, PAE(e.PayloadType, e.Payload))
}

// VerifyStatement checks that the envelope carries an in-toto statement
// ([ErrUnknownFormat] otherwise), verifies its signatures as
// [Envelope.Verify] does, and returns the statement and the key ID that
// verified it.
func (e *Envelope) VerifyStatement(ctx context.Context, trusted []signature.Verifier) (*Statement, string, error) {
	keys, err := trustedKeys(ctx, trusted)
	if err != nil {
		return nil, "", err
	}
	return e.verifyStatement(ctx, keys)
}

func (e *Envelope) verifyStatement(ctx context.Context, keys []trustedKey) (*Statement, string, error) {
	if e.PayloadType != PayloadType {
		return nil, "", fmt.Errorf("%w: DSSE payloadType %q (want %q)", ErrUnknownFormat, e.PayloadType, PayloadType)
	}
	id, err := e.verify(ctx, keys)
	if err != nil {
		return nil, "", err
	}
	st, err := ParseStatement(e.Payload)
	if err != nil {
		return nil, "", err
	}
	return st, id, nil
}

// trustedKey is a verifier with its key ID, computed once.
type trustedKey struct {
	v  signature.Verifier
	id string
}

func trustedKeys(ctx context.Context, trusted []signature.Verifier) ([]trustedKey, error) {
	if len(trusted) == 0 {
		return nil, fmt.Errorf("attest: %w: no trusted keys", ErrInvalidOptions)
	}
	keys := make([]trustedKey, 0, len(trusted))
	for i, v := range trusted {
		if v == nil {
			return nil, fmt.Errorf("attest: %w: trusted key %d is nil", ErrInvalidOptions, i)
		}
		pub, err := v.PublicKey(options.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("attest: trusted key %d: %w", i, err)
		}
		id, err := KeyID(pub)
		if err != nil {
			return nil, fmt.Errorf("attest: %w: trusted key %d: %w", ErrInvalidOptions, i, err)
		}
		keys = append(keys, trustedKey{v: v, id: id})
	}
	return keys, nil
}

// verifyAny returns the ID of the first key that verifies one of sigs
// over message.
func verifyAny(ctx context.Context, keys []trustedKey, sigs []Signature, message []byte) (string, error) {
	for _, s := range sigs {
		for _, k := range keys {
			if k.v.VerifySignature(bytes.NewReader(s.Sig), bytes.NewReader(message), options.WithContext(ctx)) == nil {
				return k.id, nil
			}
		}
	}
	return "", fmt.Errorf("%w (%d signatures, %d trusted keys)", ErrUntrustedKey, len(sigs), len(keys))
}

func signerKeyID(ctx context.Context, s signature.Signer) (string, error) {
	pub, err := s.PublicKey(options.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("attest: signer's public key: %w", err)
	}
	id, err := KeyID(pub)
	if err != nil {
		return "", fmt.Errorf("attest: signer's public key: %w", err)
	}
	return id, nil
}

// KeyIDOf returns the [KeyID] of the public key of v, a signer or
// verifier.
func KeyIDOf(ctx context.Context, v interface {
	PublicKey(...signature.PublicKeyOption) (crypto.PublicKey, error)
}) (string, error) {
	pub, err := v.PublicKey(options.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("attest: public key: %w", err)
	}
	return KeyID(pub)
}
