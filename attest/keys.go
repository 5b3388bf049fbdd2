package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Key errors. Errors from the loaders wrap one of them; test with [errors.Is].
// No error of this file contains key bytes, PEM content or a password.
var (
	// ErrInvalidKey means the input is not one key slipway can use: malformed or
	// empty PEM, more than one PEM block or other text around it, a PEM type or
	// algorithm slipway does not accept (see [LoadPrivateKey]), an ECDSA curve
	// other than P-256, P-384 and P-521, an RSA modulus other than 2048, 3072 or
	// 4096 bits, more than [MaxKeySize] bytes, or a public key where a private
	// key is expected and the reverse.
	ErrInvalidKey = errors.New("invalid key")

	// ErrKeyPassword means an encrypted private key could not be decrypted: the
	// password is wrong (or the ciphertext was changed, which looks the same),
	// no [PassFunc] was given, or the PassFunc failed, whose error is wrapped too.
	ErrKeyPassword = errors.New("cannot decrypt private key")
)

// PassFunc returns the password of an encrypted private key. It is called only
// for an encrypted key, at most once per load. An empty password is valid.
// The loaders neither keep nor change the returned slice.
type PassFunc func() ([]byte, error)

// MaxKeySize is the largest key input, in bytes, that the loaders accept:
// larger PEM input or key files are refused with [ErrInvalidKey]. A PEM RSA
// 4096 key, encrypted, is about 4.5 KiB.
const MaxKeySize = 64 << 10

// PEM block types read and written here. cosign writes
// pemEncryptedSigstore for new keys and reads pemEncryptedCosign too.
const (
	pemPrivatePKCS8      = "PRIVATE KEY"
	pemPrivateSEC1       = "EC PRIVATE KEY"
	pemPrivatePKCS1      = "RSA PRIVATE KEY"
	pemEncryptedSigstore = "ENCRYPTED SIGSTORE PRIVATE KEY"
	pemEncryptedCosign   = "ENCRYPTED COSIGN PRIVATE KEY"
	pemPublicPKIX        = "PUBLIC KEY"
)

// LoadPrivateKey reads one PEM private key and returns a signer for it, which
// also verifies its own signatures. The hash is the one cosign uses for the key
// (sigstore's [signature.LoadDefaultSignerVerifier]): ECDSA P-256 signs with
// SHA-256, P-384 with SHA-384, P-521 with SHA-512, RSA with PKCS #1 v1.5 and
// SHA-256, and Ed25519 is pure Ed25519. cosign v3.1.3 signs pure Ed25519
// too when it uploads to no transparency log, and its verify-blob --key checks
// pure Ed25519; with a transparency log it signs Ed25519ph, which this signer
// does not make. Its verify-blob --key hashes with SHA-256 for every key, so
// there P-384 and P-521 signatures, cosign's own included, do not verify.
//
// pemBytes must hold exactly one PEM block and nothing else but white space,
// at most [MaxKeySize] bytes. Accepted block types:
//
//   - "PRIVATE KEY": PKCS #8 holding ECDSA (P-256, P-384, P-521), Ed25519 or
//     RSA (2048, 3072 or 4096 bits);
//   - "EC PRIVATE KEY": SEC 1 ECDSA;
//   - "RSA PRIVATE KEY": PKCS #1 RSA;
//   - "ENCRYPTED SIGSTORE PRIVATE KEY" and the legacy "ENCRYPTED COSIGN
//     PRIVATE KEY": cosign's encrypted keys (scrypt and NaCl secretbox, as
//     written by cosign generate-key-pair and [EncryptPrivateKey]) around a
//     PKCS #8 key of the kinds above.
//
// pass is called once, only for an encrypted key; it may be nil when the key
// is not encrypted. Failures wrap [ErrInvalidKey] or [ErrKeyPassword] and name
// the PEM type found. LoadPrivateKey keeps no reference to pemBytes or to the
// password.
func LoadPrivateKey(pemBytes []byte, pass PassFunc) (signature.SignerVerifier, error) {
	sv, err := loadPrivateKey(pemBytes, pass)
	if err != nil {
		return nil, fmt.Errorf("attest: load private key: %w", err)
	}
	return sv, nil
}

// LoadPrivateKeyFile reads the file at path, of at most [MaxKeySize] bytes,
// and loads it as [LoadPrivateKey] does. Errors name the file.
func LoadPrivateKeyFile(path string, pass PassFunc) (signature.SignerVerifier, error) {
	b, err := readKeyFile(path)
	if err == nil {
		var sv signature.SignerVerifier
		if sv, err = loadPrivateKey(b, pass); err == nil {
			return sv, nil
		}
	}
	return nil, fmt.Errorf("attest: load private key %q: %w", path, err)
}

// LoadPublicKey reads one PEM "PUBLIC KEY" block (PKIX) and returns a verifier
// for it, with the hash [LoadPrivateKey] signs with for the same key
// (sigstore's [signature.LoadDefaultVerifier]): an Ed25519 key verifies pure
// Ed25519 signatures. The rules on the input and the accepted algorithms are
// those of LoadPrivateKey; a private key is refused with [ErrInvalidKey].
func LoadPublicKey(pemBytes []byte) (signature.Verifier, error) {
	v, err := loadPublicKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("attest: load public key: %w", err)
	}
	return v, nil
}

// LoadPublicKeyFile reads the file at path, of at most [MaxKeySize] bytes,
// and loads it as [LoadPublicKey] does. Errors name the file.
func LoadPublicKeyFile(path string) (signature.Verifier, error) {
	b, err := readKeyFile(path)
	if err == nil {
		var v signature.Verifier
		if v, err = loadPublicKey(b); err == nil {
			return v, nil
		}
	}
	return nil, fmt.Errorf("attest: load public key %q: %w", path, err)
}

// GenerateKey makes a new ECDSA P-256 key pair, cosign's default kind.
// privatePEM is an unencrypted PKCS #8 "PRIVATE KEY" block, publicPEM a PKIX
// "PUBLIC KEY" block; [EncryptPrivateKey] encrypts privatePEM for storage. The
// randomness is crypto/rand's (since Go 1.26 the standard library ignores
// any other source for key generation).
func GenerateKey() (privatePEM, publicPEM []byte, err error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("attest: generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("attest: generate key: %w", err)
	}
	defer clear(der)
	publicPEM, err = cryptoutils.MarshalPublicKeyToPEM(priv.Public())
	if err != nil {
		return nil, nil, fmt.Errorf("attest: generate key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivatePKCS8, Bytes: der}), publicPEM, nil
}

// EncryptPrivateKey returns privatePEM, an unencrypted private key of any kind
// [LoadPrivateKey] accepts, as a cosign "ENCRYPTED SIGSTORE PRIVATE KEY" PEM
// block: go-securesystemslib's encrypted.Encrypt of the PKCS #8 DER, with its
// default scrypt parameters (N = 2^16, r = 8, p = 1) and a fresh random salt
// and nonce, so two calls give different bytes. cosign and LoadPrivateKey
// read the result with the same password; a nil or empty password is valid
// and gives a key that opens with an empty password. An already encrypted or
// unsupported key is refused with [ErrInvalidKey].
func EncryptPrivateKey(privatePEM, password []byte) ([]byte, error) {
	block, err := decodeOne(privatePEM, "private")
	if err != nil {
		return nil, fmt.Errorf("attest: encrypt private key: %w", err)
	}
	if block.Type == pemEncryptedSigstore || block.Type == pemEncryptedCosign {
		return nil, fmt.Errorf("attest: encrypt private key: %w: PEM type %q: already encrypted", ErrInvalidKey, block.Type)
	}
	priv, err := parsePrivateBlock(block, nil)
	if err != nil {
		return nil, fmt.Errorf("attest: encrypt private key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("attest: encrypt private key: %w: PEM type %q: %w", ErrInvalidKey, block.Type, err)
	}
	defer clear(der)
	if password == nil {
		password = []byte{}
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, fmt.Errorf("attest: encrypt private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedSigstore, Bytes: enc}), nil
}

// KeyID returns the ID slipway and cosign use for a public key: the standard,
// padded base64 of the SHA-256 of its PKIX DER. It is the "hint" of a sigstore
// bundle's verificationMaterial.publicKey and names keys in slipway's errors
// and logs. pub is a public key such as a verifier's PublicKey() returns, not
// the verifier itself; other values are refused with [ErrInvalidKey].
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := marshalPublic(pub)
	if err != nil {
		return "", fmt.Errorf("attest: key ID: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// PublicKeyPEM returns the PKIX "PUBLIC KEY" PEM block of the public key of k,
// which may be a verifier or a signer ([signature.Verifier] and
// [signature.Signer] both provide PublicKey), for instance to print a trusted
// key. opts go to k.PublicKey: pass options.WithContext(ctx) for a KMS key.
// The result loads back with [LoadPublicKey].
func PublicKeyPEM(k signature.PublicKeyProvider, opts ...signature.PublicKeyOption) ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("attest: public key PEM: %w: no key", ErrInvalidKey)
	}
	pub, err := k.PublicKey(opts...)
	if err != nil {
		return nil, fmt.Errorf("attest: public key PEM: %w", err)
	}
	der, err := marshalPublic(pub)
	if err != nil {
		return nil, fmt.Errorf("attest: public key PEM: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPublicPKIX, Bytes: der}), nil
}

func marshalPublic(pub crypto.PublicKey) ([]byte, error) {
	switch pub.(type) {
	case nil:
		return nil, fmt.Errorf("%w: no key", ErrInvalidKey)
	case signature.PublicKeyProvider:
		return nil, fmt.Errorf("%w: got %T, which holds a key: pass its PublicKey()", ErrInvalidKey, pub)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return der, nil
}

func loadPrivateKey(pemBytes []byte, pass PassFunc) (signature.SignerVerifier, error) {
	block, err := decodeOne(pemBytes, "private")
	if err != nil {
		return nil, err
	}
	priv, err := parsePrivateBlock(block, pass)
	if err != nil {
		return nil, err
	}
	sv, err := signature.LoadDefaultSignerVerifier(priv)
	if err != nil { // unreachable after checkPublic; kept so a sigstore change fails closed
		return nil, fmt.Errorf("%w: PEM type %q: %w", ErrInvalidKey, block.Type, err)
	}
	return sv, nil
}

func loadPublicKey(pemBytes []byte) (signature.Verifier, error) {
	block, err := decodeOne(pemBytes, "public")
	if err != nil {
		return nil, err
	}
	if block.Type != pemPublicPKIX {
		if isPrivateType(block.Type) {
			return nil, fmt.Errorf("%w: PEM type %q: a private key, where a public key (%q) is expected", ErrInvalidKey, block.Type, pemPublicPKIX)
		}
		return nil, fmt.Errorf("%w: PEM type %q: not supported, want %q", ErrInvalidKey, block.Type, pemPublicPKIX)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: PEM type %q: %w", ErrInvalidKey, block.Type, err)
	}
	if err := checkPublic(pub); err != nil {
		return nil, fmt.Errorf("%w: PEM type %q: %w", ErrInvalidKey, block.Type, err)
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil { // unreachable after checkPublic; kept so a sigstore change fails closed
		return nil, fmt.Errorf("%w: PEM type %q: %w", ErrInvalidKey, block.Type, err)
	}
	return v, nil
}

// decodeOne returns the single PEM block of b. want ("private" or "public")
// only words the errors.
func decodeOne(b []byte, want string) (*pem.Block, error) {
	if len(b) > MaxKeySize {
		return nil, fmt.Errorf("%w: %d bytes, more than the %d a key may have", ErrInvalidKey, len(b), MaxKeySize)
	}
	trimmed := bytes.TrimSpace(b)
	begins := bytes.Count(trimmed, []byte("-----BEGIN"))
	block, rest := pem.Decode(trimmed)
	switch {
	case block == nil && begins == 0:
		return nil, fmt.Errorf("%w: no PEM block found, want a PEM %s key", ErrInvalidKey, want)
	case block == nil:
		return nil, fmt.Errorf("%w: malformed PEM block, want a PEM %s key", ErrInvalidKey, want)
	case begins > 1:
		return nil, fmt.Errorf("%w: PEM type %q: more than one PEM block, want one key", ErrInvalidKey, shortType(block.Type))
	case !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")):
		return nil, fmt.Errorf("%w: PEM type %q: text before the PEM block", ErrInvalidKey, shortType(block.Type))
	case len(bytes.TrimSpace(rest)) != 0:
		return nil, fmt.Errorf("%w: PEM type %q: text after the PEM block", ErrInvalidKey, shortType(block.Type))
	case block.Headers["Proc-Type"] != "":
		return nil, fmt.Errorf("%w: PEM type %q: legacy PEM encryption (Proc-Type header) is not supported", ErrInvalidKey, shortType(block.Type))
	}
	block.Type = shortType(block.Type)
	return block, nil
}

// shortType bounds a PEM type taken from the input before it goes into an
// error message.
func shortType(t string) string {
	const limit = 48
	if len(t) > limit {
		return t[:limit] + "..."
	}
	return t
}

func isPrivateType(t string) bool {
	switch t {
	case pemPrivatePKCS8, pemPrivateSEC1, pemPrivatePKCS1, pemEncryptedSigstore, pemEncryptedCosign, "ENCRYPTED PRIVATE KEY", "OPENSSH PRIVATE KEY":
		return true
	}
	return false
}

// parsePrivateBlock returns the private key of block, decrypting it with the
// password from pass if it is a cosign encrypted key, and checks its kind.
func parsePrivateBlock(block *pem.Block, pass PassFunc) (crypto.Signer, error) {
	der := block.Bytes
	defer clear(der)
	var (
		key any
		err error
	)
	switch block.Type {
	case pemPrivatePKCS8:
		key, err = x509.ParsePKCS8PrivateKey(der)
	case pemPrivateSEC1:
		key, err = x509.ParseECPrivateKey(der)
	case pemPrivatePKCS1:
		key, err = x509.ParsePKCS1PrivateKey(der)
	case pemEncryptedSigstore, pemEncryptedCosign:
		plain, derr := decrypt(block.Type, der, pass)
		if derr != nil {
			return nil, derr
		}
		defer clear(plain)
		key, err = x509.ParsePKCS8PrivateKey(plain)
	case pemPublicPKIX, "RSA PUBLIC KEY":
		return nil, fmt.Errorf("%w: PEM type %q: a public key, where a private key is expected", ErrInvalidKey, block.Type)
	default:
		return nil, fmt.Errorf("%w: PEM type %q: not supported, want %q, %q, %q or %q", ErrInvalidKey, block.Type,
			pemPrivatePKCS8, pemPrivateSEC1, pemPrivatePKCS1, pemEncryptedSigstore)
	}
	if err != nil {
		if other := actualPrivateType(der); other != "" && other != block.Type {
			return nil, fmt.Errorf("%w: PEM type %q: content is of PEM type %q", ErrInvalidKey, block.Type, other)
		}
		return nil, fmt.Errorf("%w: PEM type %q: %w", ErrInvalidKey, block.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: PEM type %q: %T keys are not supported", ErrInvalidKey, block.Type, key)
	}
	if err := checkPublic(signer.Public()); err != nil {
		return nil, fmt.Errorf("%w: PEM type %q: %w", ErrInvalidKey, block.Type, err)
	}
	return signer, nil
}

// actualPrivateType returns the PEM type matching the unencrypted private key
// DER der, or "" if it is none of them. It names the mistake when a key was
// labelled with the wrong PEM type, instead of the x509 hints meant for Go
// callers.
func actualPrivateType(der []byte) string {
	if _, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return pemPrivatePKCS8
	}
	if _, err := x509.ParseECPrivateKey(der); err == nil {
		return pemPrivateSEC1
	}
	if _, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return pemPrivatePKCS1
	}
	return ""
}

// checkPublic accepts the keys sigstore has a default algorithm for.
func checkPublic(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("ECDSA curve %s is not supported, want P-256, P-384 or P-521", k.Curve.Params().Name)
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); {
		case bits < 2048:
			return fmt.Errorf("RSA key of %d bits is too small, want 2048, 3072 or 4096 bits", bits)
		case bits != 2048 && bits != 3072 && bits != 4096:
			return fmt.Errorf("RSA key of %d bits is not supported, want 2048, 3072 or 4096 bits", bits)
		}
		return nil
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("%T keys are not supported, want ECDSA, RSA or Ed25519", pub)
}

// encryptedKey is the JSON of go-securesystemslib's encrypted package, read
// here only to tell a malformed key (ErrInvalidKey) from a wrong password
// (ErrKeyPassword) before encrypted.Decrypt does the work.
type encryptedKey struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N, R, P int
		} `json:"params"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// decrypt returns the PKCS #8 DER inside a cosign encrypted key.
func decrypt(typ string, body []byte, pass PassFunc) ([]byte, error) {
	var ek encryptedKey
	if err := json.Unmarshal(body, &ek); err != nil {
		// The JSON error may quote input; say only where it broke.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%w: PEM type %q: encrypted key is not valid JSON (at byte %d)", ErrInvalidKey, typ, se.Offset)
		}
		return nil, fmt.Errorf("%w: PEM type %q: encrypted key is not the expected JSON object", ErrInvalidKey, typ)
	}
	p := ek.KDF.Params
	switch {
	case ek.KDF.Name != "scrypt":
		return nil, fmt.Errorf("%w: PEM type %q: encrypted key: key derivation is not scrypt", ErrInvalidKey, typ)
	case ek.Cipher.Name != "nacl/secretbox":
		return nil, fmt.Errorf("%w: PEM type %q: encrypted key: cipher is not nacl/secretbox", ErrInvalidKey, typ)
	case p.R != 8 || p.P != 1 || (p.N != 1<<15 && p.N != 1<<16 && p.N != 1<<17):
		return nil, fmt.Errorf("%w: PEM type %q: encrypted key: scrypt parameters N=%d r=%d p=%d not supported, want N of 2^15, 2^16 or 2^17, r=8, p=1",
			ErrInvalidKey, typ, p.N, p.R, p.P)
	case len(ek.Cipher.Nonce) != 24:
		return nil, fmt.Errorf("%w: PEM type %q: encrypted key: nonce of %d bytes, want 24", ErrInvalidKey, typ, len(ek.Cipher.Nonce))
	}
	if pass == nil {
		return nil, fmt.Errorf("%w: PEM type %q: the key is encrypted and no password function was given", ErrKeyPassword, typ)
	}
	password, err := pass()
	if err != nil {
		return nil, fmt.Errorf("%w: PEM type %q: reading the password: %w", ErrKeyPassword, typ, err)
	}
	if password == nil {
		password = []byte{}
	}
	plain, err := encrypted.Decrypt(body, password)
	if err != nil {
		return nil, fmt.Errorf("%w: PEM type %q: wrong password or damaged key: %w", ErrKeyPassword, typ, err)
	}
	return plain, nil
}

// readKeyFile reads at most MaxKeySize bytes of path.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, unwrapPath(err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxKeySize+1))
	if err != nil {
		return nil, unwrapPath(err)
	}
	if len(b) > MaxKeySize {
		return nil, fmt.Errorf("%w: file is larger than %d bytes", ErrInvalidKey, MaxKeySize)
	}
	return b, nil
}

// unwrapPath drops the path of an *fs.PathError, which the caller's message
// already names, and keeps its cause for errors.Is.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
