package attest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
)

// exampleKey returns a new ECDSA P-256 key: a sigstore signer and
// verifier, as a key file, a KMS key or a hardware token would give.
func exampleKey() signature.SignerVerifier {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	sv, err := signature.LoadECDSASignerVerifier(k, crypto.SHA256)
	if err != nil {
		log.Fatal(err)
	}
	return sv
}

// exampleArtifact stores a small artifact in dst and returns its manifest's
// descriptor: what Sign and Verify take as the subject.
func exampleArtifact(ctx context.Context, dst oras.Target) ocispec.Descriptor {
	blob := []byte("hello\n")
	layer := ocispec.Descriptor{MediaType: "text/plain", Digest: digest.FromBytes(blob), Size: int64(len(blob))}
	if err := dst.Push(ctx, layer, bytes.NewReader(blob)); err != nil {
		log.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, "application/vnd.example.greeting", oras.PackManifestOptions{
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"},
	})
	if err != nil {
		log.Fatal(err)
	}
	return desc
}

// ExampleSign signs an artifact in both forms cosign reads and verifies
// it: each form holds a signature the trusted key verifies.
func ExampleSign() {
	ctx := context.Background()
	store := memory.New() // a registry repository or an OCI layout works the same
	subject := exampleArtifact(ctx, store)
	key := exampleKey()

	if err := attest.Sign(ctx, store, subject, key, attest.SignOptions{}); err != nil {
		log.Fatal(err)
	}
	res, err := attest.Verify(ctx, store, subject, []signature.Verifier{key}, attest.VerifyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range res.Signatures {
		fmt.Println(s.Form, s.Statement != nil)
	}
	// Output:
	// bundle true
	// legacy false
}

// ExampleAttest signs a predicate about an artifact and requires it when
// verifying.
func ExampleAttest() {
	ctx := context.Background()
	store := memory.New()
	subject := exampleArtifact(ctx, store)
	key := exampleKey()

	prov := &attest.Provenance{
		BuildDefinition: attest.BuildDefinition{BuildType: "https://example.com/build/v1", ExternalParameters: map[string]any{"target": "greeting"}},
		RunDetails:      attest.RunDetails{Builder: attest.Builder{ID: "https://example.com/ci"}},
	}
	if err := attest.Sign(ctx, store, subject, key, attest.SignOptions{}); err != nil {
		log.Fatal(err)
	}
	if _, err := attest.Attest(ctx, store, subject, attest.PredicateSLSAProvenance, prov, key, attest.SignOptions{}); err != nil {
		log.Fatal(err)
	}
	res, err := attest.Verify(ctx, store, subject, []signature.Verifier{key}, attest.VerifyOptions{
		Require: []string{attest.PredicateSLSAProvenance},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range res.Attestations {
		fmt.Println(a.Form, a.Statement.PredicateType)
	}
	// Output:
	// bundle https://slsa.dev/provenance/v1
	// legacy https://slsa.dev/provenance/v1
}

// ExampleVerify_untrusted verifies a signed artifact with a key that did
// not sign it: the error says so, and is not the one of an unsigned
// artifact.
func ExampleVerify_untrusted() {
	ctx := context.Background()
	store := memory.New()
	subject := exampleArtifact(ctx, store)
	signer, stranger := exampleKey(), exampleKey()

	if err := attest.Sign(ctx, store, subject, signer, attest.SignOptions{}); err != nil {
		log.Fatal(err)
	}
	_, err := attest.Verify(ctx, store, subject, []signature.Verifier{stranger}, attest.VerifyOptions{})
	fmt.Println(errors.Is(err, attest.ErrUntrustedKey), errors.Is(err, attest.ErrNotSigned))
	// Output: true false
}

// ExamplePAE prints the test vector of the DSSE specification: the bytes
// a signature of an envelope signs.
func ExamplePAE() {
	fmt.Printf("%s\n", attest.PAE("http://example.com/HelloWorld", []byte("hello world")))
	// Output: DSSEv1 29 http://example.com/HelloWorld 11 hello world
}

// ExampleNewStatement prints the payload a signer signs. It is the same
// bytes for the same statement, wherever it is made.
func ExampleNewStatement() {
	d := digest.FromString("hello\n")
	st, err := attest.NewStatement("registry.example/acme/greeting", d, attest.PredicateSign, nil)
	if err != nil {
		log.Fatal(err)
	}
	payload, err := st.Bytes()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", payload)
	// Output:
	// {"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"registry.example/acme/greeting","digest":{"sha256":"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}
}

func ExampleSummary_Validate() {
	s := attest.Summary{Config: []attest.ConfigFinding{{Name: "BUILD_SHA", Rule: "high-entropy"}}}
	fmt.Println(s.Validate())
	s.Config = append(s.Config, attest.ConfigFinding{Name: "API_KEY", Rule: "name-key"})
	fmt.Println(s.Validate())
	// Output:
	// <nil>
	// attest: summary: config findings not sorted by name, or a name repeats
}
