package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/registrytest"
)

func TestBuildRegistry(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials of the machine's user
	dir := appTree(t)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			code, stdout, stderr := slipway(t, "build", "--plain-http", "--dir", dir, "--app", "shop",
				"--process", "web=bin/server --port 8080", "--admin", "migrate=bin/migrate up",
				reg.Ref("shop:v1"))
			require.Equal(t, exitOK, code, "stderr: %s", stderr)
			assert.Empty(t, stderr, "no progress bar off a terminal")

			b, err := build.Load(t.Context(), reg.Repository(t, "shop"), "v1")
			require.NoError(t, err)
			assert.Equal(t, reg.Ref("shop")+"@"+b.Digest().String(), lastLine(t, stdout))
			assert.Equal(t, []build.Process{
				{Name: "web", Command: "bin/server --port 8080"},
				{Name: "migrate", Command: "bin/migrate up", Admin: true},
			}, b.Processes())
			assert.Contains(t, stdout, "Built shop: 3 files, 0 links")
			assert.Contains(t, stdout, "Processes: web, migrate (admin)")
		})
	}
}

func TestBuildLayout(t *testing.T) {
	dir := appTree(t)
	layout := filepath.Join(t.TempDir(), "layout")
	args := []string{"build", "--oci-layout", "--dir", dir, "--app", "shop", "--process", "web=bin/server", layout + ":v1"}

	code, stdout, stderr := slipway(t, args...)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Empty(t, stderr)
	last := lastLine(t, stdout)
	assert.True(t, strings.HasPrefix(last, layout+"@sha256:"), last)

	l, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	b, err := build.Load(t.Context(), l, "v1")
	require.NoError(t, err)
	assert.Equal(t, layout+"@"+b.Digest().String(), last)
	assert.Equal(t, "shop", b.App())

	code, again, stderr := slipway(t, args...)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Equal(t, last, lastLine(t, again), "the same inputs give the same digest")
}

// TestBuildFlags checks that every flag reaches the stored build.
func TestBuildFlags(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	dir := writeTree(t, map[string]file{
		"bin/server":         {[]byte("server"), 0o755},
		"assets/css/app.css": {[]byte("body{}"), 0o644},
		"assets/app.js":      {[]byte("1"), 0o644},
	})
	procfile := filepath.Join(t.TempDir(), "Procfile")
	writeFile(t, procfile, "web: bin/server\nworker: bin/server work\n")
	layout := filepath.Join(t.TempDir(), "layout")
	const rev = "0123456789abcdef0123456789abcdef01234567"

	code, stdout, stderr := slipway(t, "build", "--oci-layout", "--dir", dir, "--app", "shop",
		"--procfile", procfile,
		"--admin", "console=bin/server console",
		"--process", "clock=bin/server clock",
		"--admin", "migrate=bin/server migrate",
		"--source", "https://github.com/acme/shop", "--revision", rev, "--dirty",
		"--builder", "https://ci.example/jobs/42", "--tar", "assets", "--concurrency", "2", "--no-progress",
		layout+":v2")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)

	l, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	b, err := build.Load(t.Context(), l, "v2")
	require.NoError(t, err)
	assert.Equal(t, layout+"@"+b.Digest().String(), lastLine(t, stdout))
	assert.Equal(t, []build.Process{
		{Name: "web", Command: "bin/server"},
		{Name: "worker", Command: "bin/server work"},
		{Name: "console", Command: "bin/server console", Admin: true},
		{Name: "clock", Command: "bin/server clock"},
		{Name: "migrate", Command: "bin/server migrate", Admin: true},
	}, b.Processes())
	assert.Equal(t, build.Source{Repository: "https://github.com/acme/shop", Revision: rev, Dirty: true}, b.Source())
	assert.Equal(t, "https://ci.example/jobs/42", b.Builder())
	assert.Equal(t, time.Unix(1700000000, 0).UTC(), b.Created())
	var types []build.EntryType
	for _, e := range b.Entries() {
		types = append(types, e.Type)
	}
	assert.Equal(t, []build.EntryType{build.TypeTar, build.TypeFile}, types)
	assert.Contains(t, stdout, "Source: https://github.com/acme/shop "+rev+" (dirty)\n")
	assert.Contains(t, stdout, "Tags: v2\n")
}

func TestBuildAdoptImage(t *testing.T) {
	layout := filepath.Join(t.TempDir(), "layout")
	l, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	img, err := oras.PackManifest(t.Context(), l, oras.PackManifestVersion1_1, "application/vnd.example.image", oras.PackManifestOptions{
		ManifestAnnotations: map[string]string{"org.opencontainers.image.created": "2000-01-01T00:00:00Z"},
	})
	require.NoError(t, err)

	code, stdout, stderr := slipway(t, "build", "--oci-layout", "--dir", appTree(t), "--app", "shop",
		"--image", img.Digest.String(), layout)
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	l, err = build.OpenLayout(t.Context(), layout) // again: the command wrote to it
	require.NoError(t, err)
	b, err := build.Load(t.Context(), l, strings.TrimPrefix(lastLine(t, stdout), layout+"@"))
	require.NoError(t, err)
	got, ok := b.Image()
	require.True(t, ok)
	assert.Equal(t, img.Digest, got.Digest)
	assert.Contains(t, stdout, "Image: "+img.Digest.String()+"\n")
	assert.NotContains(t, stdout, "Tags:")
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	require.NoError(t, os.WriteFile(name, []byte(data), 0o644))
}
