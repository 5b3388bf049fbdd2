package release_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// ExampleOpen verifies a signed release, extracts its build into a new
// directory, resolves its secret reference and runs its web process with
// an argument; the environment prints with the secret redacted.
func ExampleOpen() {
	ctx := context.Background()
	repo := memory.New()
	key := exampleKey()
	b, err := build.New(ctx, repo, "shop", build.Spec{
		Files:     []build.File{{Name: "bin/shop", Reader: strings.NewReader("#!/bin/sh\necho \"shop on port $PORT: $1\"\n"), Mode: 0o755}},
		Processes: []build.Process{{Name: "web", Command: "bin/shop"}},
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, build.Options{})
	if err != nil {
		log.Fatal(err)
	}
	c, err := config.New("shop", "prod", config.Spec{
		Env:     map[string]string{"PORT": "8080"},
		Secrets: map[string]string{"DB_PASSWORD": "vault://kv/shop/prod#db_password"},
	}, config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := release.New(ctx, repo, b, c, release.Options{Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), Signer: key}); err != nil {
		log.Fatal(err)
	}

	dir, err := os.MkdirTemp("", "shop-run-*")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	vault := config.ResolverFunc(func(ctx context.Context, ref string) (string, error) {
		return "correct horse battery staple", nil // a vault client would look ref up
	})
	o, err := release.Open(ctx, repo, "prod", dir, []signature.Verifier{key}, release.OpenOptions{Resolver: vault})
	if err != nil {
		log.Fatal(err) // not signed by key, tampered with, or unsafe to extract: nothing runs
	}
	fmt.Println(o.Release().Tag(), o.Env())
	cmd, err := o.Command(ctx, "web", "ready")
	if err != nil {
		log.Fatal(err)
	}
	out, err := cmd.Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	// Output:
	// prod-v1 DB_PASSWORD=[redacted] PORT=8080
	// shop on port 8080: ready
}
