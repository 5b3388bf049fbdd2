package attest_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// fuzzKey is the same key in every fuzzing process, so that a seed signed
// by one worker verifies in another. Never use a fixed key outside tests.
func fuzzKey(t testing.TB) signature.SignerVerifier {
	t.Helper()
	raw := bytes.Repeat([]byte{0x5a}, 32)
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), raw)
	require.NoError(t, err)
	sv, err := signature.LoadECDSASignerVerifier(k, cryptoHash)
	require.NoError(t, err)
	return sv
}

// fuzzStatements returns the payloads of valid statements: a signature, a
// provenance, and a v0.1 statement as other producers write it.
func fuzzStatements(t testing.TB) [][]byte {
	t.Helper()
	d := digest.FromString("release manifest")
	var out [][]byte
	for _, p := range []struct {
		typ  string
		pred any
	}{
		{attest.PredicateSign, nil},
		{attest.PredicateSLSAProvenance, &attest.Provenance{
			BuildDefinition: attest.BuildDefinition{
				BuildType:          attest.BuildTypeSlipway,
				ExternalParameters: map[string]any{"app": "shop", "version": 2, "note": "<&>"},
				ResolvedDependencies: []attest.ResourceDescriptor{
					{URI: "git+https://example.com/acme/shop", Digest: map[string]string{"gitCommit": "0123456789abcdef0123456789abcdef01234567"}},
				},
			},
			RunDetails: attest.RunDetails{Builder: attest.Builder{ID: "https://example.com/ci", Version: map[string]string{"go": "go1.26.8"}}},
		}},
	} {
		st, err := attest.NewStatement("registry.example/acme/shop", d, p.typ, p.pred)
		require.NoError(t, err)
		raw, err := st.Bytes()
		require.NoError(t, err)
		out = append(out, raw)
	}
	out = append(out, []byte(`{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"a","digest":{"sha256":"`+d.Encoded()+`","sha512":"ab"}},{"digest":{"gitCommit":"x"}}],"predicateType":"https://example.com/p","predicate":null}`))
	return out
}

// fuzzEnvelopes returns the signed envelopes of fuzzStatements, and a
// record of what fuzzKey signed: payload type and payload.
func fuzzEnvelopes(t testing.TB) ([]*attest.Envelope, map[string]bool) {
	t.Helper()
	key := fuzzKey(t)
	signed := map[string]bool{}
	var out []*attest.Envelope
	payloads := fuzzStatements(t)
	for i, p := range payloads {
		typ := attest.PayloadType
		if i == len(payloads)-1 {
			typ = "application/vnd.in-toto.provenance+json" // another type in-toto permits
		}
		env, err := attest.SignEnvelope(context.Background(), key, typ, p)
		require.NoError(t, err)
		signed[string(attest.PAE(typ, p))] = true
		out = append(out, env)
	}
	return out, signed
}

// parseErr checks that a parser's error says which kind of bad input it
// was: malformed or of an unknown format.
func parseErr(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, attest.ErrMalformed) && !errors.Is(err, attest.ErrUnknownFormat) {
		t.Fatalf("error wraps neither ErrMalformed nor ErrUnknownFormat: %v", err)
	}
}

// checkEnvelope checks what holds for every envelope a parser returns, and
// that one that verifies with fuzzKey carries bytes fuzzKey signed.
func checkEnvelope(t *testing.T, env *attest.Envelope, key signature.Verifier, signed map[string]bool) {
	t.Helper()
	require.NotNil(t, env)
	assert.NotEmpty(t, env.PayloadType)
	assert.NotEmpty(t, env.Payload)
	for _, s := range env.Signatures {
		assert.NotEmpty(t, s.Sig)
	}
	_, err := env.Verify(context.Background(), []signature.Verifier{key})
	switch {
	case err == nil:
		assert.True(t, signed[string(attest.PAE(env.PayloadType, env.Payload))], "an envelope verifies whose payload the key never signed")
	case len(env.Signatures) == 0:
		assert.ErrorIs(t, err, attest.ErrNotSigned)
	default:
		assert.ErrorIs(t, err, attest.ErrUntrustedKey)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	envs, signed := fuzzEnvelopes(f)
	for _, env := range envs {
		raw, err := json.Marshal(env)
		require.NoError(f, err)
		f.Add(raw)
	}
	f.Add([]byte(`{"payloadType":"text/plain","payload":"aGk_","signatures":[]}`)) // URL-safe base64
	f.Add([]byte(`{"payloadType":"text/plain","payload":"aGk=","signatures":[{"keyid":"k","sig":"AA=="}]}`))
	key := fuzzKey(f)

	f.Fuzz(func(t *testing.T, raw []byte) {
		env, err := attest.ParseEnvelope(raw)
		if err != nil {
			parseErr(t, err)
			return
		}
		checkEnvelope(t, env, key, signed)

		// Encoded again, it parses to an equal envelope, and encoding is
		// then a fixed point.
		enc, err := json.Marshal(env)
		require.NoError(t, err)
		again, err := attest.ParseEnvelope(enc)
		require.NoError(t, err, "the encoding of a parsed envelope does not parse: %s", enc)
		assert.Equal(t, env.PayloadType, again.PayloadType)
		assert.Equal(t, env.Payload, again.Payload)
		assert.Equal(t, env.Signatures, again.Signatures)
		enc2, err := json.Marshal(again)
		require.NoError(t, err)
		assert.Equal(t, string(enc), string(enc2))
	})
}

func FuzzParseBundle(f *testing.F) {
	envs, signed := fuzzEnvelopes(f)
	key := fuzzKey(f)
	id, err := attest.KeyIDOf(context.Background(), key)
	require.NoError(f, err)
	for _, env := range envs {
		raw, err := json.Marshal(&attest.Bundle{KeyHint: id, Envelope: env})
		require.NoError(f, err)
		f.Add(raw)
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle+json;version=0.3","dsseEnvelope":{"payloadType":"t","payload":"aGk=","signatures":[]}}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","messageSignature":{"signature":"AA=="}}`))
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.2+json","dsseEnvelope":{}}`))

	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := attest.ParseBundle(raw)
		if err != nil {
			parseErr(t, err)
			return
		}
		checkEnvelope(t, b.Envelope, key, signed)

		enc, err := json.Marshal(b)
		require.NoError(t, err)
		again, err := attest.ParseBundle(enc)
		require.NoError(t, err, "the encoding of a parsed bundle does not parse: %s", enc)
		assert.Equal(t, b.KeyHint, again.KeyHint)
		assert.Equal(t, b.Envelope.PayloadType, again.Envelope.PayloadType)
		assert.Equal(t, b.Envelope.Payload, again.Envelope.Payload)
		assert.Equal(t, b.Envelope.Signatures, again.Envelope.Signatures)
		enc2, err := json.Marshal(again)
		require.NoError(t, err)
		assert.Equal(t, string(enc), string(enc2))
	})
}

func FuzzParseStatement(f *testing.F) {
	for _, p := range fuzzStatements(f) {
		f.Add(p)
	}
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"AB"}}],"predicateType":"p"}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v2","subject":[{"digest":{"sha256":"ab"}}],"predicateType":"p"}`))

	f.Fuzz(func(t *testing.T, payload []byte) {
		st, err := attest.ParseStatement(payload)
		if err != nil {
			parseErr(t, err)
			return
		}
		assert.Contains(t, []string{attest.StatementType, attest.StatementTypeV01}, st.Type)
		assert.NotEmpty(t, st.PredicateType)
		require.NotEmpty(t, st.Subject)
		for _, sub := range st.Subject {
			assert.NotEmpty(t, sub.Digest)
			// A subject with a well-formed SHA-256 is what About matches.
			if d := digest.NewDigestFromEncoded(digest.SHA256, sub.Digest["sha256"]); d.Validate() == nil {
				assert.True(t, st.About(d))
			}
		}

		// Bytes parses again to an equal statement, and is then a fixed
		// point. The predicate is kept as parsed, so its bytes may change
		// once (space removed, <, > and & escaped); its meaning may not.
		enc, err := st.Bytes()
		require.NoError(t, err)
		again, err := attest.ParseStatement(enc)
		require.NoError(t, err, "the bytes of a parsed statement do not parse: %s", enc)
		assert.Equal(t, st.Type, again.Type)
		assert.Equal(t, st.PredicateType, again.PredicateType)
		assert.Equal(t, st.Subject, again.Subject)
		assert.Equal(t, canonical(t, st.Predicate), canonical(t, again.Predicate))
		enc2, err := again.Bytes()
		require.NoError(t, err)
		assert.Equal(t, string(enc), string(enc2))
	})
}

// canonical returns raw as encoding/json writes a json.RawMessage: no
// insignificant space, HTML characters escaped.
func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if raw == nil {
		return ""
	}
	out, err := json.Marshal(raw)
	require.NoError(t, err)
	return string(out)
}
