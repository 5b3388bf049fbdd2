package build_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
)

// A build that breaks its policy is refused with every finding and leaves
// nothing in the store; once fixed, it passes and records the result.
func ExampleParsePolicy() {
	ctx := context.Background()
	p, err := build.ParsePolicy([]byte(`{
  "requireRevision": true,
  "forbiddenFiles": [".env", "*.pem"],
  "maxFileSize": 1048576,
  "rules": [
    {"name": "no-shell", "expr": "!build.files.exists(f, f.path.endsWith('.sh'))", "message": "shell scripts are not shipped"}
  ]
}`), "policy.json")
	if err != nil {
		log.Fatal(err)
	}
	files := []build.File{
		{Name: "bin/server", Reader: strings.NewReader("\x7fELF…"), Mode: 0o755},
		{Name: "config/.env", Reader: strings.NewReader("TOKEN=…\n")},
		{Name: "tls/server.pem", Reader: strings.NewReader("-----BEGIN PRIVATE KEY-----\n")},
		{Name: "run.sh", Reader: strings.NewReader("#!/bin/sh\nexec bin/server\n")},
	}
	spec := build.Spec{Files: files, Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := memory.New()

	_, err = build.New(ctx, store, "shop", spec, build.Options{Policy: p, Tags: []string{"v1"}})
	var pe *build.PolicyError
	if errors.As(err, &pe) {
		fmt.Println(errors.Is(err, build.ErrPolicy), pe.Policy == p.Digest())
		for _, f := range pe.Findings {
			fmt.Printf("[%s] %s\n", f.Rule, f.Message)
		}
	}
	_, err = store.Resolve(ctx, "v1")
	fmt.Println("tagged:", err == nil)

	spec.Files = files[:1]
	spec.Source = build.Source{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9"}
	b, err := build.New(ctx, store, "shop", spec, build.Options{Policy: p, Tags: []string{"v1"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(b.Summary().Policy.Pass, b.Summary().Policy.Digest)
	// Output:
	// true true
	// [requireRevision] the build records no source revision
	// [forbiddenFiles] "config/.env" matches ".env"
	// [forbiddenFiles] "tls/server.pem" matches "*.pem"
	// [no-shell] shell scripts are not shipped
	// tagged: false
	// true sha256:0f9cf0f1db00b75be7334d877dc6209bebbbe75b8c5bf7713f759f709fbf3ab8
}
