package attest_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"

	"github.com/slipway-dev/slipway/attest"
)

// A new key pair signs a message; the public key alone verifies it.
func ExampleGenerateKey() {
	privPEM, pubPEM, err := attest.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	signer, err := attest.LoadPrivateKey(privPEM, nil) // not encrypted: no PassFunc needed
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := attest.LoadPublicKey(pubPEM)
	if err != nil {
		log.Fatal(err)
	}

	msg := []byte("release v42")
	sig, err := signer.SignMessage(bytes.NewReader(msg))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verifies:", verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader(msg)) == nil)
	fmt.Println("other message verifies:", verifier.VerifySignature(bytes.NewReader(sig), bytes.NewReader([]byte("release v43"))) == nil)

	signerPub, err := signer.PublicKey()
	if err != nil {
		log.Fatal(err)
	}
	verifierPub, err := verifier.PublicKey()
	if err != nil {
		log.Fatal(err)
	}
	id1, err := attest.KeyID(signerPub)
	if err != nil {
		log.Fatal(err)
	}
	id2, err := attest.KeyID(verifierPub)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same key ID:", id1 == id2)
	// Output:
	// verifies: true
	// other message verifies: false
	// same key ID: true
}

// An encrypted key, as cosign generate-key-pair writes it, opens only with
// its password; the PassFunc is where a CLI would prompt or read
// COSIGN_PASSWORD.
func ExampleLoadPrivateKey() {
	privPEM, _, err := attest.GenerateKey()
	if err != nil {
		log.Fatal(err)
	}
	encPEM, err := attest.EncryptPrivateKey(privPEM, []byte("correct horse"))
	if err != nil {
		log.Fatal(err)
	}

	_, err = attest.LoadPrivateKey(encPEM, func() ([]byte, error) { return []byte("battery staple"), nil })
	fmt.Println("wrong password:", errors.Is(err, attest.ErrKeyPassword))

	signer, err := attest.LoadPrivateKey(encPEM, func() ([]byte, error) { return []byte("correct horse"), nil })
	if err != nil {
		log.Fatal(err)
	}
	pubPEM, err := attest.PublicKeyPEM(signer)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", pubPEM[:26])
	// Output:
	// wrong password: true
	// -----BEGIN PUBLIC KEY-----
}
