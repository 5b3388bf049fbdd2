package build_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/doctest"
)

// TestFormatDoc checks that the example in docs/format.md is what New
// writes for it, byte for byte.
func TestFormatDoc(t *testing.T) {
	raw, err := os.ReadFile("../docs/format.md")
	require.NoError(t, err)
	doc := string(raw)

	b, err := build.New(t.Context(), memory.New(), "shop", build.Spec{
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

	rec, _ := b.Record()
	assert.Equal(t, string(rec), string(doctest.JSONBlock(t, doc, "record")))
	assert.Equal(t, string(b.Manifest()), string(doctest.JSONBlock(t, doc, "manifest")))
	assert.Contains(t, doc, "`"+b.Digest().String()+"`")
	for _, mt := range []string{build.MediaType, build.FileMediaType, build.TarMediaType, build.AnnotationTarDigest, build.AnnotationUnpack} {
		assert.Contains(t, doc, "`"+mt+"`")
	}
}
