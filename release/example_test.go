package release_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// Example_flow makes a build, releases it twice with two configs, rolls
// back to the first release and prints the ledger, newest first.
func Example_flow() {
	ctx := context.Background()
	repo := memory.New() // a registry repository or an OCI layout works the same
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }

	b, err := build.New(ctx, repo, "shop", build.Spec{
		Files:     []build.File{{Name: "bin/shop", Reader: strings.NewReader("#!/bin/sh\necho shop\n"), Mode: 0o755}},
		Processes: []build.Process{{Name: "web", Command: "bin/shop"}},
		Created:   day(1),
	}, build.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for i, level := range []string{"info", "debug"} {
		c, err := config.New("shop", "prod", config.Spec{
			Env:     map[string]string{"LOG_LEVEL": level},
			Secrets: map[string]string{"DB_PASSWORD": "vault://kv/shop/prod#db_password"},
		}, config.Options{})
		if err != nil {
			log.Fatal(err)
		}
		if _, err := release.New(ctx, repo, b, c, release.Options{Created: day(2 + i)}); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := release.Rollback(ctx, repo, "prod", 1, release.Options{Created: day(4)}); err != nil {
		log.Fatal(err)
	}
	entries, err := release.History(ctx, repo, "prod", release.HistoryOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		note := ""
		if e.Rollback > 0 {
			note = fmt.Sprintf(" (rollback to v%d)", e.Rollback)
		}
		fmt.Printf("v%d %s config %s%s\n", e.Version, e.Created.Format(time.DateOnly), e.Config.Digest.Encoded()[:12], note)
	}
	// Output:
	// v3 2026-01-04 config f8796d56dd7c (rollback to v1)
	// v2 2026-01-03 config 3ec626edd9e9
	// v1 2026-01-02 config f8796d56dd7c
}

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

// exampleRelease stores a build of shop in repo and releases it to prod,
// signed by signer unless it is nil.
func exampleRelease(ctx context.Context, repo oras.Target, signer signature.Signer) *release.Release {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b, err := build.New(ctx, repo, "shop", build.Spec{
		Files:     []build.File{{Name: "bin/shop", Reader: strings.NewReader("#!/bin/sh\necho shop\n"), Mode: 0o755}},
		Processes: []build.Process{{Name: "web", Command: "bin/shop"}},
		Created:   created,
	}, build.Options{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"LOG_LEVEL": "info"}}, config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	r, err := release.New(ctx, repo, b, c, release.Options{Created: created, Signer: signer})
	if err != nil {
		log.Fatal(err)
	}
	return r
}

// ExampleVerify releases a build signed, then verifies the head of prod:
// its signature and provenance, every blob of the release and its build,
// and its place on the ledger.
func ExampleVerify() {
	ctx := context.Background()
	repo := memory.New()
	key := exampleKey()
	exampleRelease(ctx, repo, key) // Options.Signer signs it before it is tagged

	v, err := release.Verify(ctx, repo, "prod", []signature.Verifier{key}, release.VerifyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("version", v.Release.Version())
	fmt.Println("signatures", len(v.Signatures)) // a sigstore bundle and a legacy cosign signature
	fmt.Println(v.Attestations[0].Statement.PredicateType)
	// Output:
	// version 1
	// signatures 2
	// https://slsa.dev/provenance/v1
}

// ExampleVerify_failure verifies a release nobody signed and one signed by
// another key, and prints what each error matches: a caller branches with
// errors.Is, and reads the failed check from the VerifyError. Without a
// trusted signature there is no trusted provenance either, so the
// required attestation is missing too.
func ExampleVerify_failure() {
	ctx := context.Background()
	trusted := []signature.Verifier{exampleKey()}
	kinds := []struct {
		name string
		err  error
	}{
		{"ErrNotSigned", release.ErrNotSigned},
		{"ErrUntrustedKey", release.ErrUntrustedKey},
		{"ErrMissingAttestation", release.ErrMissingAttestation},
		{"ErrMalformed", attest.ErrMalformed}, // evidence that cannot be read: attest's, not re-exported
	}
	for _, signer := range []signature.Signer{nil, exampleKey()} {
		repo := memory.New()
		exampleRelease(ctx, repo, signer)
		_, err := release.Verify(ctx, repo, "prod", trusted, release.VerifyOptions{})
		var ve *release.VerifyError
		if !errors.As(err, &ve) {
			log.Fatal(err)
		}
		for _, k := range kinds {
			if errors.Is(err, k.err) {
				fmt.Println(ve.Check, k.name)
			}
		}
	}
	// Output:
	// signature ErrNotSigned
	// signature ErrMissingAttestation
	// signature ErrUntrustedKey
	// signature ErrMissingAttestation
}

// ExampleVerifier decides the head of prod twice: the first time verifies
// the release, the second answers from memory.
func ExampleVerifier() {
	ctx := context.Background()
	repo := memory.New()
	key := exampleKey()
	exampleRelease(ctx, repo, key)
	policy, err := release.ParsePolicy([]byte(`{"environments":["prod"]}`), "policy.json")
	if err != nil {
		log.Fatal(err)
	}
	v, err := release.NewVerifier(repo, []signature.Verifier{key}, release.VerifierOptions{Policy: policy, TTL: time.Minute})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		d, err := v.Decide(ctx, "prod")
		if err != nil {
			log.Fatal(err) // a no-go, a failed verification or an unreadable store
		}
		fmt.Println(d.Release.App, d.Release.Environment, d.Release.Version, d.Verdict)
	}
	st := v.Stats()
	fmt.Println("verified", st.Misses, "from memory", st.Hits)
	// Output:
	// shop prod 1 go
	// shop prod 1 go
	// verified 1 from memory 1
}
