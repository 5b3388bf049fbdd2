package release_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"time"

	"oras.land/oras-go/v2/content/memory"

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
