package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/build"
)

func TestQuickstart(t *testing.T) {
	layout := filepath.Join(t.TempDir(), "slipway-demo")
	var first, second bytes.Buffer
	require.NoError(t, run(t.Context(), layout, &first))
	require.NoError(t, run(t.Context(), layout, &second))

	lines := strings.Split(strings.TrimSpace(first.String()), "\n")
	last := lines[len(lines)-1]
	assert.True(t, strings.HasPrefix(last, layout+"@sha256:"), last)
	assert.Equal(t, first.String(), second.String(), "a second run makes the same build")

	store, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	b, err := build.Load(t.Context(), store, "build")
	require.NoError(t, err)
	assert.Equal(t, layout+"@"+b.Digest().String(), last)
	assert.Equal(t, "example.invalid/shop", b.Module())
	p, ok := b.Process("migrate")
	require.True(t, ok)
	assert.True(t, p.Admin)
	assert.Contains(t, first.String(), "admin one-off migrate: bin/shop migrate")
}
