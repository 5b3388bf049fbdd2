package attest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/registrytest"
)

func newKey(t testing.TB) signature.SignerVerifier {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	sv, err := signature.LoadECDSASignerVerifier(k, cryptoHash)
	require.NoError(t, err)
	return sv
}

// pushArtifact stores a small artifact manifest and returns its descriptor.
func pushArtifact(t testing.TB, dst oras.Target, text string) ocispec.Descriptor {
	t.Helper()
	ctx := context.Background()
	blob := []byte(text)
	layer := ocispec.Descriptor{MediaType: "text/plain", Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	require.NoError(t, dst.Push(ctx, layer, bytesReader(blob)))
	desc, err := oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, "application/vnd.example+type", oras.PackManifestOptions{
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"},
	})
	require.NoError(t, err)
	return desc
}

type store interface {
	oras.Target
	oras.ReadOnlyGraphTarget
}

func stores(t *testing.T) map[string]func(t *testing.T) store {
	out := map[string]func(t *testing.T) store{
		"memory": func(t *testing.T) store { return memory.New() },
	}
	for _, reg := range registrytest.All(t) {
		out[reg.Name] = func(t *testing.T) store { return reg.Repository(t, "acme/shop") }
	}
	return out
}

func TestSignVerifyEveryStore(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			dst := open(t)
			subject := pushArtifact(t, dst, "hello")
			key, other := newKey(t), newKey(t)

			_, err := attest.Verify(ctx, dst, subject, []signature.Verifier{key}, attest.VerifyOptions{})
			assert.ErrorIs(t, err, attest.ErrNotSigned, "nothing signed yet")

			require.NoError(t, attest.Sign(ctx, dst, subject, key, attest.SignOptions{}))
			_, err = attest.Attest(ctx, dst, subject, attest.PredicateSLSAProvenance, map[string]any{"buildDefinition": map[string]any{"buildType": "x"}}, key, attest.SignOptions{})
			require.NoError(t, err)

			res, err := attest.Verify(ctx, dst, subject, []signature.Verifier{key}, attest.VerifyOptions{Require: []string{attest.PredicateSLSAProvenance}})
			require.NoError(t, err)
			forms := map[string]int{}
			for _, s := range res.Signatures {
				forms[s.Form]++
			}
			assert.Equal(t, map[string]int{attest.FormBundle: 1, attest.FormLegacy: 1}, forms, "a bundle and a legacy signature")
			assert.Len(t, res.Attestations, 2, "the provenance in both forms")
			assert.Len(t, res.Statements(attest.PredicateSLSAProvenance), 2)

			_, err = attest.Verify(ctx, dst, subject, []signature.Verifier{other}, attest.VerifyOptions{})
			assert.ErrorIs(t, err, attest.ErrUntrustedKey)
			assert.NotErrorIs(t, err, attest.ErrNotSigned)

			_, err = attest.Verify(ctx, dst, subject, []signature.Verifier{key}, attest.VerifyOptions{Require: []string{"https://example.com/other/v1"}})
			assert.ErrorIs(t, err, attest.ErrMissingAttestation)

			// Another artifact in the same repository is not signed by these.
			unsigned := pushArtifact(t, dst, "other")
			_, err = attest.Verify(ctx, dst, unsigned, []signature.Verifier{key}, attest.VerifyOptions{})
			assert.ErrorIs(t, err, attest.ErrNotSigned)
		})
	}
}

func TestSignOneForm(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts attest.SignOptions
		form string
	}{
		{"bundle only", attest.SignOptions{SkipLegacyTags: true}, attest.FormBundle},
		{"legacy only", attest.SignOptions{SkipBundle: true}, attest.FormLegacy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			dst := memory.New()
			subject := pushArtifact(t, dst, "hello")
			key := newKey(t)
			require.NoError(t, attest.Sign(ctx, dst, subject, key, tc.opts))
			res, err := attest.Verify(ctx, dst, subject, []signature.Verifier{key}, attest.VerifyOptions{})
			require.NoError(t, err)
			require.Len(t, res.Signatures, 1)
			assert.Equal(t, tc.form, res.Signatures[0].Form)
			id, err := attest.KeyIDOf(ctx, key)
			require.NoError(t, err)
			assert.Equal(t, id, res.Signatures[0].KeyID)

			_, legacyErr := dst.Resolve(ctx, attest.LegacyTag(subject.Digest, ".sig"))
			assert.Equal(t, tc.form == attest.FormLegacy, legacyErr == nil, "legacy tag written only when asked")
		})
	}
	err := attest.Sign(t.Context(), memory.New(), ocispec.Descriptor{}, newKey(t), attest.SignOptions{})
	assert.ErrorIs(t, err, attest.ErrInvalidOptions)
}

func TestSignTwiceAppendsLegacy(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	subject := pushArtifact(t, dst, "hello")
	a, b := newKey(t), newKey(t)
	require.NoError(t, attest.Sign(ctx, dst, subject, a, attest.SignOptions{SkipBundle: true}))
	require.NoError(t, attest.Sign(ctx, dst, subject, b, attest.SignOptions{SkipBundle: true}))
	for _, k := range []signature.Verifier{a, b} {
		_, err := attest.Verify(ctx, dst, subject, []signature.Verifier{k}, attest.VerifyOptions{})
		assert.NoError(t, err, "both signers' legacy signatures are kept")
	}
}

func TestStatementBytesDeterministic(t *testing.T) {
	d := digest.FromString("x")
	a, err := attest.NewStatement("shop", d, attest.PredicateSLSAProvenance, json.RawMessage(`{ "b": 1, "a": 2 }`))
	require.NoError(t, err)
	b, err := attest.NewStatement("shop", d, attest.PredicateSLSAProvenance, json.RawMessage(`{"b":1,"a":2}`))
	require.NoError(t, err)
	ab, err := a.Bytes()
	require.NoError(t, err)
	bb, err := b.Bytes()
	require.NoError(t, err)
	assert.Equal(t, ab, bb)
	assert.JSONEq(t, `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"shop","digest":{"sha256":"`+d.Encoded()+`"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"b":1,"a":2}}`, string(ab))
	assert.True(t, a.About(d))
	assert.False(t, a.About(digest.FromString("y")))

	_, err = attest.NewStatement("shop", d, attest.PredicateSLSAProvenance, json.RawMessage(`[1]`))
	assert.ErrorIs(t, err, attest.ErrInvalidOptions)
}

func TestPAEVector(t *testing.T) {
	// secure-systems-lab/dsse protocol.md
	assert.Equal(t, "DSSEv1 29 http://example.com/HelloWorld 11 hello world", string(attest.PAE("http://example.com/HelloWorld", []byte("hello world"))))
}
