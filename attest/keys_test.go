package attest_test

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
)

// Fixtures made by cosign v3.1.3 (see testdata/keys/README.md).
const (
	cosignKeyFile  = "testdata/keys/cosign.key"
	cosignPubFile  = "testdata/keys/cosign.pub"
	cosignPassword = "fixture-password"
	cosignBlobFile = "testdata/keys/blob.txt"
	cosignSigFile  = "testdata/keys/blob.txt.sig"
	cosignBundle   = "testdata/keys/blob.txt.bundle.json"
)

var message = []byte("slipway release v42")

// testKey is one private key in PEM form with its PKIX public PEM.
type testKey struct {
	priv    crypto.Signer
	privPEM []byte
	pubPEM  []byte
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func publicPEM(t testing.TB, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return pemOf("PUBLIC KEY", der)
}

func pkcs8Key(t testing.TB, priv crypto.Signer) testKey {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	return testKey{priv: priv, privPEM: pemOf("PRIVATE KEY", der), pubPEM: publicPEM(t, priv.Public())}
}

func sec1Key(t testing.TB, priv *ecdsa.PrivateKey) testKey {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(priv)
	require.NoError(t, err)
	return testKey{priv: priv, privPEM: pemOf("EC PRIVATE KEY", der), pubPEM: publicPEM(t, priv.Public())}
}

func pkcs1Key(t testing.TB, priv *rsa.PrivateKey) testKey {
	t.Helper()
	return testKey{priv: priv, privPEM: pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(priv)), pubPEM: publicPEM(t, priv.Public())}
}

func newECDSA(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	require.NoError(t, err)
	return k
}

func newRSA(t testing.TB, bits int) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(t, err)
	return k
}

func newEd25519(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	return k
}

func static(password string) attest.PassFunc {
	return func() ([]byte, error) { return []byte(password), nil }
}

// noPass fails the test if it is called.
func noPass(t *testing.T) attest.PassFunc {
	return func() ([]byte, error) {
		t.Error("PassFunc called for an unencrypted key")
		return nil, errors.New("unexpected")
	}
}

func sign(t *testing.T, s signature.Signer, msg []byte) []byte {
	t.Helper()
	sig, err := s.SignMessage(bytes.NewReader(msg))
	require.NoError(t, err)
	return sig
}

func verify(v signature.Verifier, sig, msg []byte) error {
	return v.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg))
}

// Stdlib checks of the algorithm and hash each key kind signs with.
func ecdsaWith(h func([]byte) []byte) func(crypto.PublicKey, []byte, []byte) bool {
	return func(pub crypto.PublicKey, msg, sig []byte) bool {
		return ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), h(msg), sig)
	}
}

func sum256(b []byte) []byte { s := sha256.Sum256(b); return s[:] }
func sum384(b []byte) []byte { s := sha512.Sum384(b); return s[:] }
func sum512(b []byte) []byte { s := sha512.Sum512(b); return s[:] }

func rsaPKCS1SHA256(pub crypto.PublicKey, msg, sig []byte) bool {
	return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, sum256(msg), sig) == nil
}

func pureEd25519(pub crypto.PublicKey, msg, sig []byte) bool {
	return ed25519.Verify(pub.(ed25519.PublicKey), msg, sig)
}

func TestLoadPrivateKeySignsAndPublicKeyVerifies(t *testing.T) {
	t.Parallel()
	rsaKey := newRSA(t, 2048)
	p256 := newECDSA(t, elliptic.P256())
	p384 := newECDSA(t, elliptic.P384())
	p521 := newECDSA(t, elliptic.P521())
	edKey := newEd25519(t)
	encrypted := pkcs8Key(t, newECDSA(t, elliptic.P256()))
	var err error
	encrypted.privPEM, err = attest.EncryptPrivateKey(encrypted.privPEM, []byte("pw"))
	require.NoError(t, err)

	cases := []struct {
		name  string
		key   testKey
		pass  attest.PassFunc
		check func(pub crypto.PublicKey, msg, sig []byte) bool
	}{
		{"PKCS8 ECDSA P-256 SHA-256", pkcs8Key(t, p256), nil, ecdsaWith(sum256)},
		{"PKCS8 ECDSA P-384 SHA-384", pkcs8Key(t, p384), nil, ecdsaWith(sum384)},
		{"PKCS8 ECDSA P-521 SHA-512", pkcs8Key(t, p521), nil, ecdsaWith(sum512)},
		{"PKCS8 Ed25519 pure", pkcs8Key(t, edKey), nil, pureEd25519},
		{"PKCS8 RSA 2048 PKCS1v15 SHA-256", pkcs8Key(t, rsaKey), nil, rsaPKCS1SHA256},
		{"SEC1 ECDSA P-256", sec1Key(t, p256), nil, ecdsaWith(sum256)},
		{"SEC1 ECDSA P-384", sec1Key(t, p384), nil, ecdsaWith(sum384)},
		{"PKCS1 RSA 2048", pkcs1Key(t, rsaKey), nil, rsaPKCS1SHA256},
		{"encrypted ECDSA P-256", encrypted, static("pw"), ecdsaWith(sum256)},
	}
	other, err := attest.LoadPublicKey(pkcs8Key(t, newECDSA(t, elliptic.P256())).pubPEM)
	require.NoError(t, err)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pass := tc.pass
			if pass == nil {
				pass = noPass(t)
			}
			sv, err := attest.LoadPrivateKey(tc.key.privPEM, pass)
			require.NoError(t, err)
			v, err := attest.LoadPublicKey(tc.key.pubPEM)
			require.NoError(t, err)

			sig := sign(t, sv, message)
			assert.NoError(t, verify(v, sig, message), "public verifier")
			assert.NoError(t, verify(sv, sig, message), "signer's own verifier")
			assert.True(t, tc.check(tc.key.priv.Public(), message, sig), "algorithm or hash differs from cosign's default")
			assert.Error(t, verify(v, sig, []byte("slipway release v43")), "changed message")
			assert.Error(t, verify(other, sig, message), "another key's verifier")

			pub, err := sv.PublicKey()
			require.NoError(t, err)
			assert.True(t, tc.key.priv.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(pub))
		})
	}
}

func TestEncryptPrivateKeyRoundTrip(t *testing.T) {
	t.Parallel()
	key := pkcs8Key(t, newECDSA(t, elliptic.P256()))
	enc, err := attest.EncryptPrivateKey(key.privPEM, []byte("s3cret"))
	require.NoError(t, err)

	block, rest := pem.Decode(enc)
	require.NotNil(t, block)
	assert.Empty(t, rest)
	assert.Equal(t, "ENCRYPTED SIGSTORE PRIVATE KEY", block.Type)
	var body struct {
		KDF struct {
			Name   string         `json:"name"`
			Params map[string]int `json:"params"`
		} `json:"kdf"`
		Cipher struct {
			Name string `json:"name"`
		} `json:"cipher"`
	}
	require.NoError(t, json.Unmarshal(block.Bytes, &body))
	assert.Equal(t, "scrypt", body.KDF.Name)
	assert.Equal(t, map[string]int{"N": 1 << 16, "r": 8, "p": 1}, body.KDF.Params)
	assert.Equal(t, "nacl/secretbox", body.Cipher.Name)

	calls := 0
	sv, err := attest.LoadPrivateKey(enc, func() ([]byte, error) { calls++; return []byte("s3cret"), nil })
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assertSameKey(t, key.priv.Public(), sv)

	again, err := attest.EncryptPrivateKey(key.privPEM, []byte("s3cret"))
	require.NoError(t, err)
	assert.NotEqual(t, enc, again, "fresh salt and nonce each time")

	t.Run("legacy COSIGN PEM type", func(t *testing.T) {
		t.Parallel()
		legacy := pemOf("ENCRYPTED COSIGN PRIVATE KEY", block.Bytes)
		sv, err := attest.LoadPrivateKey(legacy, static("s3cret"))
		require.NoError(t, err)
		assertSameKey(t, key.priv.Public(), sv)
	})
	t.Run("SEC1 and PKCS1 inputs", func(t *testing.T) {
		t.Parallel()
		for _, k := range []testKey{sec1Key(t, newECDSA(t, elliptic.P384())), pkcs1Key(t, newRSA(t, 2048))} {
			enc, err := attest.EncryptPrivateKey(k.privPEM, []byte("x"))
			require.NoError(t, err)
			sv, err := attest.LoadPrivateKey(enc, static("x"))
			require.NoError(t, err)
			assertSameKey(t, k.priv.Public(), sv)
		}
	})
	t.Run("already encrypted", func(t *testing.T) {
		t.Parallel()
		_, err := attest.EncryptPrivateKey(enc, []byte("s3cret"))
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
	})
	t.Run("public key", func(t *testing.T) {
		t.Parallel()
		_, err := attest.EncryptPrivateKey(key.pubPEM, []byte("s3cret"))
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
	})
	t.Run("unsupported key", func(t *testing.T) {
		t.Parallel()
		_, err := attest.EncryptPrivateKey(pkcs8Key(t, newECDSA(t, elliptic.P224())).privPEM, []byte("s3cret"))
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
	})
}

func assertSameKey(t *testing.T, want crypto.PublicKey, k signature.PublicKeyProvider) {
	t.Helper()
	got, err := k.PublicKey()
	require.NoError(t, err)
	wantID, err := attest.KeyID(want)
	require.NoError(t, err)
	gotID, err := attest.KeyID(got)
	require.NoError(t, err)
	assert.Equal(t, wantID, gotID)
}

func TestLoadPrivateKeyPassword(t *testing.T) {
	t.Parallel()
	key := pkcs8Key(t, newECDSA(t, elliptic.P256()))
	enc, err := attest.EncryptPrivateKey(key.privPEM, []byte("right"))
	require.NoError(t, err)

	t.Run("wrong password", func(t *testing.T) {
		t.Parallel()
		_, err := attest.LoadPrivateKey(enc, static("wrong"))
		assert.ErrorIs(t, err, attest.ErrKeyPassword)
		assert.NotErrorIs(t, err, attest.ErrInvalidKey)
	})
	t.Run("no PassFunc", func(t *testing.T) {
		t.Parallel()
		_, err := attest.LoadPrivateKey(enc, nil)
		assert.ErrorIs(t, err, attest.ErrKeyPassword)
	})
	t.Run("PassFunc error is wrapped", func(t *testing.T) {
		t.Parallel()
		errTTY := errors.New("no terminal to ask for the password")
		_, err := attest.LoadPrivateKey(enc, func() ([]byte, error) { return nil, errTTY })
		assert.ErrorIs(t, err, attest.ErrKeyPassword)
		assert.ErrorIs(t, err, errTTY)
	})
	t.Run("empty password", func(t *testing.T) {
		t.Parallel()
		fromNil, err := attest.EncryptPrivateKey(key.privPEM, nil)
		require.NoError(t, err)
		fromEmpty, err := attest.EncryptPrivateKey(key.privPEM, []byte{})
		require.NoError(t, err)
		for _, tc := range []struct {
			enc  []byte
			pass attest.PassFunc
		}{
			{fromNil, static("")},
			{fromEmpty, func() ([]byte, error) { return nil, nil }},
		} {
			sv, err := attest.LoadPrivateKey(tc.enc, tc.pass)
			require.NoError(t, err)
			assertSameKey(t, key.priv.Public(), sv)
		}
	})
	t.Run("PassFunc not called for unencrypted keys", func(t *testing.T) {
		t.Parallel()
		for _, k := range []testKey{key, sec1Key(t, key.priv.(*ecdsa.PrivateKey))} {
			_, err := attest.LoadPrivateKey(k.privPEM, noPass(t))
			require.NoError(t, err)
		}
	})
	t.Run("PassFunc not called for a malformed encrypted key", func(t *testing.T) {
		t.Parallel()
		block, _ := pem.Decode(enc)
		bad := bytes.Replace(block.Bytes, []byte(`"N":65536`), []byte(`"N":1024`), 1)
		require.NotEqual(t, block.Bytes, bad)
		_, err := attest.LoadPrivateKey(pemOf(block.Type, bad), noPass(t))
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
	})
}

func TestLoadKeyRefused(t *testing.T) {
	t.Parallel()
	p256 := pkcs8Key(t, newECDSA(t, elliptic.P256()))
	p224 := newECDSA(t, elliptic.P224())
	rsa1024 := newRSA(t, 1024)
	x25519, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	x25519DER, err := x509.MarshalPKCS8PrivateKey(x25519)
	require.NoError(t, err)
	x25519PubDER, err := x509.MarshalPKIXPublicKey(x25519.PublicKey())
	require.NoError(t, err)
	enc, err := attest.EncryptPrivateKey(p256.privPEM, []byte("pw"))
	require.NoError(t, err)
	encBlock, _ := pem.Decode(enc)
	withHeader := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1, 2, 3}})
	truncated := pemOf("PRIVATE KEY", p256DER(t, p256)[:40])

	private := []struct {
		name string
		in   []byte
	}{
		{"RSA 1024 PKCS8", pkcs8Key(t, rsa1024).privPEM},
		{"RSA 1024 PKCS1", pkcs1Key(t, rsa1024).privPEM},
		{"ECDSA P-224 PKCS8", pkcs8Key(t, p224).privPEM},
		{"ECDSA P-224 SEC1", sec1Key(t, p224).privPEM},
		{"X25519", pemOf("PRIVATE KEY", x25519DER)},
		{"two PEM blocks", append(append([]byte{}, p256.privPEM...), p256.privPEM...)},
		{"private and public block", append(append([]byte{}, p256.privPEM...), p256.pubPEM...)},
		{"text after", append(append([]byte{}, p256.privPEM...), "trailing"...)},
		{"text before", append([]byte("comment\n"), p256.privPEM...)},
		{"empty", nil},
		{"not PEM", []byte("not a key")},
		{"BEGIN without END", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n")},
		{"public key", p256.pubPEM},
		{"PKCS1 public key", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa1024.PublicKey))},
		{"certificate", pemOf("CERTIFICATE", []byte{0x30, 0x00})},
		{"PKCS8 encrypted", pemOf("ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00})},
		{"legacy PEM encryption", withHeader},
		{"truncated DER", truncated},
		{"SEC1 type with PKCS8 DER", pemOf("EC PRIVATE KEY", p256DER(t, p256))},
		{"encrypted, not JSON", pemOf("ENCRYPTED SIGSTORE PRIVATE KEY", []byte("{not json"))},
		{"encrypted, JSON of another shape", pemOf("ENCRYPTED SIGSTORE PRIVATE KEY", []byte(`{"kdf":"scrypt"}`))},
		{"encrypted, other KDF", pemOf(encBlock.Type, bytes.Replace(encBlock.Bytes, []byte(`"scrypt"`), []byte(`"pbkdf2"`), 1))},
		{"encrypted, other cipher", pemOf(encBlock.Type, bytes.Replace(encBlock.Bytes, []byte(`"nacl/secretbox"`), []byte(`"aes"`), 1))},
		{"encrypted, scrypt N too large", pemOf(encBlock.Type, bytes.Replace(encBlock.Bytes, []byte(`"N":65536`), []byte(`"N":1073741824`), 1))},
		{"too large", bytes.Repeat([]byte(" "), attest.MaxKeySize+1)},
	}
	for _, tc := range private {
		t.Run("private/"+tc.name, func(t *testing.T) {
			sv, err := attest.LoadPrivateKey(tc.in, noPass(t))
			assert.Nil(t, sv)
			assert.ErrorIs(t, err, attest.ErrInvalidKey)
			assert.NotErrorIs(t, err, attest.ErrKeyPassword)
		})
	}

	public := []struct {
		name string
		in   []byte
	}{
		{"RSA 1024", publicPEM(t, &rsa1024.PublicKey)},
		{"ECDSA P-224", publicPEM(t, p224.Public())},
		{"X25519", pemOf("PUBLIC KEY", x25519PubDER)},
		{"PKCS8 private key", p256.privPEM},
		{"SEC1 private key", sec1Key(t, p256.priv.(*ecdsa.PrivateKey)).privPEM},
		{"encrypted private key", enc},
		{"PKCS1 public key", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsa1024.PublicKey))},
		{"two PEM blocks", append(append([]byte{}, p256.pubPEM...), p256.pubPEM...)},
		{"text after", append(append([]byte{}, p256.pubPEM...), "x"...)},
		{"empty", nil},
		{"garbage DER", pemOf("PUBLIC KEY", []byte("garbage"))},
		{"too large", append(append([]byte{}, p256.pubPEM...), bytes.Repeat([]byte("\n"), attest.MaxKeySize)...)},
	}
	for _, tc := range public {
		t.Run("public/"+tc.name, func(t *testing.T) {
			v, err := attest.LoadPublicKey(tc.in)
			assert.Nil(t, v)
			assert.ErrorIs(t, err, attest.ErrInvalidKey)
		})
	}
}

func p256DER(t *testing.T, k testKey) []byte {
	t.Helper()
	b, _ := pem.Decode(k.privPEM)
	return b.Bytes
}

func TestLoadKeyFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := pkcs8Key(t, newECDSA(t, elliptic.P256()))
	privPath := filepath.Join(dir, "release.key")
	pubPath := filepath.Join(dir, "release.pub")
	require.NoError(t, os.WriteFile(privPath, key.privPEM, 0o600))
	require.NoError(t, os.WriteFile(pubPath, key.pubPEM, 0o644))

	sv, err := attest.LoadPrivateKeyFile(privPath, noPass(t))
	require.NoError(t, err)
	v, err := attest.LoadPublicKeyFile(pubPath)
	require.NoError(t, err)
	assert.NoError(t, verify(v, sign(t, sv, message), message))

	t.Run("missing", func(t *testing.T) {
		missing := filepath.Join(dir, "missing.key")
		_, err := attest.LoadPrivateKeyFile(missing, nil)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), missing)
		assert.Equal(t, 1, strings.Count(err.Error(), missing), "path named once")
		_, err = attest.LoadPublicKeyFile(missing)
		assert.ErrorIs(t, err, fs.ErrNotExist)
		assert.Contains(t, err.Error(), missing)
	})
	t.Run("too large", func(t *testing.T) {
		big := filepath.Join(dir, "big.key")
		// A valid key followed by blank lines: only the size is wrong.
		require.NoError(t, os.WriteFile(big, append(append([]byte{}, key.privPEM...), bytes.Repeat([]byte("\n"), attest.MaxKeySize)...), 0o600))
		_, err := attest.LoadPrivateKeyFile(big, nil)
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
		assert.Contains(t, err.Error(), big)
		_, err = attest.LoadPublicKeyFile(big)
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
		assert.Contains(t, err.Error(), big)
	})
	t.Run("exactly MaxKeySize", func(t *testing.T) {
		edge := filepath.Join(dir, "edge.pub")
		padded := append(append([]byte{}, key.pubPEM...), bytes.Repeat([]byte("\n"), attest.MaxKeySize-len(key.pubPEM))...)
		require.Len(t, padded, attest.MaxKeySize)
		require.NoError(t, os.WriteFile(edge, padded, 0o644))
		_, err := attest.LoadPublicKeyFile(edge)
		assert.NoError(t, err)
	})
	t.Run("swapped", func(t *testing.T) {
		_, err := attest.LoadPrivateKeyFile(pubPath, nil)
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
		assert.Contains(t, err.Error(), pubPath)
		_, err = attest.LoadPublicKeyFile(privPath)
		assert.ErrorIs(t, err, attest.ErrInvalidKey)
		assert.Contains(t, err.Error(), privPath)
	})
}

// TestKeyErrorsKeepSecrets is the canary: no error text, in any format,
// holds the password, the PEM or the key bytes.
func TestKeyErrorsKeepSecrets(t *testing.T) {
	t.Parallel()
	const (
		password = "canary-pw-9d41c7e2b8"
		tried    = "canary-tried-5a0e3f"
	)
	p256 := pkcs8Key(t, newECDSA(t, elliptic.P256()))
	p224 := pkcs8Key(t, newECDSA(t, elliptic.P224()))
	rsa1024 := pkcs1Key(t, newRSA(t, 1024))
	enc, err := attest.EncryptPrivateKey(p256.privPEM, []byte(password))
	require.NoError(t, err)
	encBlock, _ := pem.Decode(enc)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "p224.key")
	require.NoError(t, os.WriteFile(keyFile, p224.privPEM, 0o600))

	secrets := []testKey{p256, p224, rsa1024}
	errs := map[string]error{}
	collect := func(name string) func(any, error) {
		return func(_ any, err error) {
			require.Error(t, err, name)
			errs[name] = err
		}
	}
	collect("wrong password")(attest.LoadPrivateKey(enc, static(tried)))
	collect("PassFunc error")(attest.LoadPrivateKey(enc, func() ([]byte, error) { return nil, errors.New("prompt closed") }))
	collect("malformed encrypted JSON")(attest.LoadPrivateKey(pemOf(encBlock.Type, encBlock.Bytes[:len(encBlock.Bytes)-5]), static(password)))
	collect("encrypted key as public")(attest.LoadPublicKey(enc))
	collect("private key as public")(attest.LoadPublicKey(p256.privPEM))
	collect("P-224")(attest.LoadPrivateKey(p224.privPEM, static(password)))
	collect("P-224 file")(attest.LoadPrivateKeyFile(keyFile, static(password)))
	collect("RSA 1024")(attest.LoadPrivateKey(rsa1024.privPEM, nil))
	collect("two blocks")(attest.LoadPrivateKey(append(append([]byte{}, p256.privPEM...), p224.privPEM...), nil))
	collect("trailing")(attest.LoadPrivateKey(append(append([]byte{}, p256.privPEM...), "junk"...), nil))
	collect("truncated DER")(attest.LoadPrivateKey(pemOf("PRIVATE KEY", p256DER(t, p256)[:60]), nil))
	collect("wrong type label")(attest.LoadPrivateKey(pemOf("RSA PRIVATE KEY", p256DER(t, p256)), nil))
	collect("encrypt P-224")(attest.EncryptPrivateKey(p224.privPEM, []byte(password)))

	for name, err := range errs {
		for _, text := range []string{fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, text, password, name)
			assert.NotContains(t, text, tried, name)
			for _, k := range append(secrets, testKey{privPEM: enc}) {
				block, _ := pem.Decode(k.privPEM)
				assert.NotContains(t, text, string(k.privPEM), name)
				for _, line := range strings.Split(string(k.privPEM), "\n") {
					if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
						assert.NotContains(t, text, line, name)
					}
				}
				for _, enc := range []string{hex.EncodeToString(block.Bytes[len(block.Bytes)-16:]), base64.StdEncoding.EncodeToString(block.Bytes[len(block.Bytes)-12:])} {
					assert.NotContains(t, text, enc, name)
				}
			}
		}
		t.Logf("%s: %v", name, err) // the messages themselves, for review
	}
}

func TestKeyID(t *testing.T) {
	t.Parallel()
	key := pkcs8Key(t, newECDSA(t, elliptic.P256()))
	sv, err := attest.LoadPrivateKey(key.privPEM, nil)
	require.NoError(t, err)
	v, err := attest.LoadPublicKey(key.pubPEM)
	require.NoError(t, err)
	signerPub, err := sv.PublicKey()
	require.NoError(t, err)
	verifierPub, err := v.PublicKey()
	require.NoError(t, err)

	id, err := attest.KeyID(signerPub)
	require.NoError(t, err)
	again, err := attest.KeyID(signerPub)
	require.NoError(t, err)
	fromVerifier, err := attest.KeyID(verifierPub)
	require.NoError(t, err)
	assert.Equal(t, id, again)
	assert.Equal(t, id, fromVerifier)

	der, err := x509.MarshalPKIXPublicKey(key.priv.Public())
	require.NoError(t, err)
	want := sha256.Sum256(der)
	assert.Equal(t, base64.StdEncoding.EncodeToString(want[:]), id)
	assert.Len(t, id, 44)

	otherID, err := attest.KeyID(newEd25519(t).Public())
	require.NoError(t, err)
	assert.NotEqual(t, id, otherID)

	for name, bad := range map[string]crypto.PublicKey{"nil": nil, "verifier": v, "private key": key.priv, "bytes": []byte("x")} {
		_, err := attest.KeyID(bad)
		assert.ErrorIs(t, err, attest.ErrInvalidKey, name)
	}
}

func TestPublicKeyPEM(t *testing.T) {
	t.Parallel()
	for name, priv := range map[string]crypto.Signer{
		"ECDSA P-384": newECDSA(t, elliptic.P384()),
		"Ed25519":     newEd25519(t),
	} {
		t.Run(name, func(t *testing.T) {
			key := pkcs8Key(t, priv)
			sv, err := attest.LoadPrivateKey(key.privPEM, nil)
			require.NoError(t, err)
			fromSigner, err := attest.PublicKeyPEM(sv)
			require.NoError(t, err)
			assert.Equal(t, key.pubPEM, fromSigner)

			v, err := attest.LoadPublicKey(fromSigner)
			require.NoError(t, err)
			fromVerifier, err := attest.PublicKeyPEM(v)
			require.NoError(t, err)
			assert.Equal(t, fromSigner, fromVerifier)
		})
	}
	_, err := attest.PublicKeyPEM(nil)
	assert.ErrorIs(t, err, attest.ErrInvalidKey)
}

func TestGenerateKey(t *testing.T) {
	t.Parallel()
	privPEM, pubPEM, err := attest.GenerateKey()
	require.NoError(t, err)

	block, rest := pem.Decode(privPEM)
	require.NotNil(t, block)
	assert.Empty(t, rest)
	assert.Equal(t, "PRIVATE KEY", block.Type)
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	require.NoError(t, err)
	require.IsType(t, &ecdsa.PrivateKey{}, priv)
	assert.Equal(t, elliptic.P256(), priv.(*ecdsa.PrivateKey).Curve)
	assert.Equal(t, publicPEM(t, priv.(*ecdsa.PrivateKey).Public()), pubPEM)

	sv, err := attest.LoadPrivateKey(privPEM, nil)
	require.NoError(t, err)
	v, err := attest.LoadPublicKey(pubPEM)
	require.NoError(t, err)
	assert.NoError(t, verify(v, sign(t, sv, message), message))

	privPEM2, _, err := attest.GenerateKey()
	require.NoError(t, err)
	assert.NotEqual(t, privPEM, privPEM2)
}

// TestCosignKeyFixture loads a key pair written by cosign v3.1.3
// generate-key-pair, and checks a signature cosign sign-blob made with it.
func TestCosignKeyFixture(t *testing.T) {
	t.Parallel()
	pubPEM, err := os.ReadFile(cosignPubFile)
	require.NoError(t, err)
	keyPEM, err := os.ReadFile(cosignKeyFile)
	require.NoError(t, err)
	block, _ := pem.Decode(keyPEM)
	require.NotNil(t, block)
	require.Equal(t, "ENCRYPTED SIGSTORE PRIVATE KEY", block.Type)

	sv, err := attest.LoadPrivateKeyFile(cosignKeyFile, static(cosignPassword))
	require.NoError(t, err)
	v, err := attest.LoadPublicKeyFile(cosignPubFile)
	require.NoError(t, err)

	got, err := attest.PublicKeyPEM(sv)
	require.NoError(t, err)
	assert.Equal(t, pubPEM, got, "the signer's public key is cosign.pub, byte for byte")
	signerPub, err := sv.PublicKey()
	require.NoError(t, err)
	verifierPub, err := v.PublicKey()
	require.NoError(t, err)
	signerID, err := attest.KeyID(signerPub)
	require.NoError(t, err)
	verifierID, err := attest.KeyID(verifierPub)
	require.NoError(t, err)
	assert.Equal(t, signerID, verifierID)

	assert.NoError(t, verify(v, sign(t, sv, message), message))

	_, err = attest.LoadPrivateKeyFile(cosignKeyFile, static("wrong"))
	assert.ErrorIs(t, err, attest.ErrKeyPassword)
	assert.Contains(t, err.Error(), cosignKeyFile)

	t.Run("cosign sign-blob signature", func(t *testing.T) {
		blob, err := os.ReadFile(cosignBlobFile)
		require.NoError(t, err)
		sigB64, err := os.ReadFile(cosignSigFile)
		require.NoError(t, err)
		sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigB64)))
		require.NoError(t, err)
		assert.NoError(t, verify(v, sig, blob))
		assert.Error(t, verify(v, sig, append(blob, '!')))
	})
	t.Run("cosign sign-blob bundle", func(t *testing.T) {
		blob, err := os.ReadFile(cosignBlobFile)
		require.NoError(t, err)
		raw, err := os.ReadFile(cosignBundle)
		require.NoError(t, err)
		var bundle struct {
			VerificationMaterial struct {
				PublicKey struct {
					Hint string `json:"hint"`
				} `json:"publicKey"`
			} `json:"verificationMaterial"`
			MessageSignature struct {
				Signature []byte `json:"signature"`
			} `json:"messageSignature"`
		}
		require.NoError(t, json.Unmarshal(raw, &bundle))
		assert.Equal(t, bundle.VerificationMaterial.PublicKey.Hint, verifierID, "KeyID is cosign's bundle hint")
		assert.NoError(t, verify(v, bundle.MessageSignature.Signature, blob))
	})
}
