package release_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/doctest"
	"github.com/slipway-dev/slipway/release"
)

// TestFormatDoc checks that the config and release examples in
// docs/format.md are what config.New and release.New write, byte for byte:
// the build is the one of the build section, the config the one of the
// config section.
func TestFormatDoc(t *testing.T) {
	raw, err := os.ReadFile("../docs/format.md")
	require.NoError(t, err)
	doc := string(raw)
	ctx := t.Context()
	repo := memory.New()
	b, err := build.New(ctx, repo, "shop", build.Spec{
		Files: []build.File{
			{Name: "bin/shop", Reader: strings.NewReader("#!/bin/sh\necho shop\n"), Mode: 0o755},
			{Name: "bin/current", Linkname: "shop"},
			{Name: "Procfile", Reader: strings.NewReader("web: bin/shop\n")},
		},
		Source:    build.Source{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9d0b8a7c6e5f4d3c2b1a09f8e7d6c5b4a3"},
		Builder:   "https://example.invalid/ci/runs/7",
		Processes: []build.Process{{Name: "web", Command: "bin/shop"}, {Name: "migrate", Command: "bin/shop migrate", Admin: true}},
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, build.Options{})
	require.NoError(t, err)
	c, err := config.Parse(doctest.JSONBlock(t, doc, "config"), config.Options{})
	require.NoError(t, err)
	assert.Equal(t, string(doctest.JSONBlock(t, doc, "config")), string(c.Bytes()))

	v1, err := release.New(ctx, repo, b, c, release.Options{Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	c2, err := c.WithVar("LOG_LEVEL", "debug")
	require.NoError(t, err)
	v2, err := release.New(ctx, repo, b, c2, release.Options{Created: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)

	rec, _ := v2.Record()
	if os.Getenv("SLIPWAY_PRINT_DOC") != "" {
		var p bytes.Buffer
		json.Indent(&p, rec, "", "  ")
		t.Logf("record:\n%s", p.String())
		p.Reset()
		json.Indent(&p, v2.Manifest(), "", "  ")
		t.Logf("manifest:\n%s\nv1 %s v2 %s", p.String(), v1.Digest(), v2.Digest())
	}
	assert.Equal(t, string(rec), string(doctest.JSONBlock(t, doc, "release-record")))
	assert.Equal(t, string(v2.Manifest()), string(doctest.JSONBlock(t, doc, "release-manifest")))
	assert.Contains(t, doc, "`"+v1.Digest().String()+"`")
	assert.Contains(t, doc, "`"+v2.Digest().String()+"`")
	for _, s := range []string{config.MediaType, release.MediaType, release.LockMediaType, release.ClaimMediaType,
		release.AnnotationRound, release.AnnotationRelease, release.ConfigTitle} {
		assert.Contains(t, doc, "`"+s+"`")
	}
}
