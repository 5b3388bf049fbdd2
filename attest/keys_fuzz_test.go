package attest_test

import (
	"bytes"
	"crypto/elliptic"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// fuzzPassword is what the PassFunc of FuzzLoadPrivateKey returns; no error
// may contain it.
const fuzzPassword = "fuzz-canary-password-3e8b"

func seedKeys(f *testing.F) []testKey {
	p256 := newECDSA(f, elliptic.P256())
	rsaKey := newRSA(f, 2048)
	return []testKey{
		pkcs8Key(f, p256),
		pkcs8Key(f, newECDSA(f, elliptic.P384())),
		pkcs8Key(f, newECDSA(f, elliptic.P521())),
		pkcs8Key(f, newEd25519(f)),
		pkcs8Key(f, rsaKey),
		sec1Key(f, p256),
		pkcs1Key(f, rsaKey),
		pkcs8Key(f, newECDSA(f, elliptic.P224())), // refused
	}
}

// FuzzLoadPrivateKey: no panic; a failure wraps ErrInvalidKey or
// ErrKeyPassword and never shows the password; a key that loads signs, and
// its public key, through PublicKeyPEM and LoadPublicKey, has the same ID
// and verifies the signature.
func FuzzLoadPrivateKey(f *testing.F) {
	seeds := seedKeys(f)
	for _, k := range seeds {
		f.Add(k.privPEM)
		f.Add(k.pubPEM)
	}
	enc, err := attest.EncryptPrivateKey(seeds[0].privPEM, []byte(fuzzPassword))
	require.NoError(f, err)
	f.Add(enc)
	cosignKey, err := os.ReadFile(cosignKeyFile) // another password: ErrKeyPassword
	require.NoError(f, err)
	f.Add(cosignKey)
	f.Add([]byte("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\ne30=\n-----END ENCRYPTED COSIGN PRIVATE KEY-----\n"))

	f.Fuzz(func(t *testing.T, in []byte) {
		sv, err := attest.LoadPrivateKey(in, func() ([]byte, error) { return []byte(fuzzPassword), nil })
		if err != nil {
			if !errors.Is(err, attest.ErrInvalidKey) && !errors.Is(err, attest.ErrKeyPassword) {
				t.Fatalf("error of no known kind: %v", err)
			}
			if strings.Contains(err.Error(), fuzzPassword) {
				t.Fatal("error contains the password")
			}
			return
		}
		pubPEM, err := attest.PublicKeyPEM(sv)
		require.NoError(t, err)
		v, err := attest.LoadPublicKey(pubPEM)
		require.NoError(t, err)
		assertSameKeyID(t, sv, v)

		sig, err := sv.SignMessage(bytes.NewReader(message))
		require.NoError(t, err)
		assert.NoError(t, v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(message)))
	})
}

// FuzzLoadPublicKey: no panic; a failure wraps ErrInvalidKey; a key that
// loads comes back from PublicKeyPEM with the same ID, and that PEM is a
// fixed point.
func FuzzLoadPublicKey(f *testing.F) {
	for _, k := range seedKeys(f) {
		f.Add(k.pubPEM)
		f.Add(k.privPEM)
	}
	cosignPub, err := os.ReadFile(cosignPubFile)
	require.NoError(f, err)
	f.Add(cosignPub)

	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := attest.LoadPublicKey(in)
		if err != nil {
			if !errors.Is(err, attest.ErrInvalidKey) {
				t.Fatalf("error of no known kind: %v", err)
			}
			return
		}
		pubPEM, err := attest.PublicKeyPEM(v)
		require.NoError(t, err)
		again, err := attest.LoadPublicKey(pubPEM)
		require.NoError(t, err)
		assertSameKeyID(t, v, again)
		pubPEM2, err := attest.PublicKeyPEM(again)
		require.NoError(t, err)
		assert.Equal(t, pubPEM, pubPEM2)
	})
}

func assertSameKeyID(t *testing.T, a, b signature.PublicKeyProvider) {
	t.Helper()
	ids := make([]string, 2)
	for i, k := range []signature.PublicKeyProvider{a, b} {
		pub, err := k.PublicKey()
		require.NoError(t, err)
		ids[i], err = attest.KeyID(pub)
		require.NoError(t, err)
	}
	assert.Equal(t, ids[0], ids[1])
}
