package main

import (
	"bytes"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/internal/registrytest"
)

// orasCLI returns the path of the oras CLI. Without it the test is skipped,
// or fails under CI, where .ci/run installs it.
func orasCLI(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("oras")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("oras CLI not on PATH (%v); .ci/run installs it", err)
		}
		t.Skipf("oras CLI not on PATH (%v); install it with GOBIN=$HOME/.cache/slipway-ci/bin go install oras.land/oras/cmd/oras@v1.3.6 and put that directory on PATH", err)
	}
	return path
}

// TestOrasPull checks that `oras pull` of a stored build writes back the
// build's tree, byte for byte, with a file per layer and with a directory
// packed as one layer.
func TestOrasPull(t *testing.T) {
	orasPath := orasCLI(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // for slipway and oras alike
	src := writeTree(t, map[string]file{
		"bin/server":                {randomBytes(t, 1<<20+17), 0o755},
		"lib/x/y/z/data.bin":        {randomBytes(t, 300<<10), 0o644},
		"etc/shop/config.toml":      {[]byte("port = 8080\n"), 0o644},
		"share/doc/README":          {[]byte("shop\n"), 0o444},
		"share/doc/empty":           {nil, 0o644},
		"a name with spaces/é.json": {[]byte(`{"k":"v"}`), 0o600},
	})
	want := readTree(t, src)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			for _, tc := range []struct {
				repo  string
				flags []string
			}{
				{repo: "shop"},
				{repo: "shop-packed", flags: []string{"--tar", "lib/x"}}, // one tar+gzip layer, unpacked by oras
			} {
				args := append([]string{"build", "--plain-http", "--dir", src, "--app", "shop"}, tc.flags...)
				code, _, stderr := slipway(t, append(args, reg.Ref(tc.repo+":v1"))...)
				require.Equal(t, exitOK, code, "stderr: %s", stderr)

				out := t.TempDir()
				pull := exec.CommandContext(t.Context(), orasPath, "pull", "--plain-http", "-o", out, reg.Ref(tc.repo+":v1"))
				output, err := pull.CombinedOutput()
				require.NoError(t, err, "oras pull: %s", output)

				got := readTree(t, out)
				assert.ElementsMatch(t, slices.Collect(maps.Keys(want)), slices.Collect(maps.Keys(got)), "%s: files pulled", tc.repo)
				for name, data := range want {
					assert.True(t, bytes.Equal(data, got[name]), "%s: %s: pulled bytes differ from the source", tc.repo, name)
				}
			}
		})
	}
}

// readTree returns the contents of every regular file under dir by
// slash-separated path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := make(map[string][]byte)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	require.NoError(t, err)
	return files
}
