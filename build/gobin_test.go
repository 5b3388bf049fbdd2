package build_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
)

// goBinary compiles a tiny main package committed to a fresh git repository
// and returns the binary and the commit. With dirty, the tree is modified
// after the commit.
func goBinary(t *testing.T, module string, dirty bool) (bin, commit string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is needed to stamp a Go binary with its revision: %v", err)
	}
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "go.mod"), []byte("module "+module+"\n\ngo 1.26\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() { println(\"hi\") }\n"), 0o644))
	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid", "GOFLAGS=-buildvcs=true", "GOTOOLCHAIN=local")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v: %s", name, args, out)
		return strings.TrimSpace(string(out))
	}
	run("git", "init", "-q")
	run("git", "add", ".")
	run("git", "commit", "-qm", "init")
	commit = run("git", "rev-parse", "HEAD")
	if dirty {
		require.NoError(t, os.WriteFile(filepath.Join(src, "extra.go"), []byte("package main\n"), 0o644))
	}
	bin = filepath.Join(t.TempDir(), "app")
	run("go", "build", "-buildvcs=true", "-trimpath", "-o", bin, ".")
	return bin, commit
}

func TestGoBinaryFillsSource(t *testing.T) {
	bin, commit := goBinary(t, "example.invalid/shop", false)
	files := []build.File{{Name: "bin/shop", Path: bin}, {Name: "README", Reader: strings.NewReader("hi")}}

	b, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Files: files}, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, commit, b.Source().Revision, "revision from the binary")
	assert.False(t, b.Source().Dirty)
	assert.Equal(t, "example.invalid/shop", b.Module())
	assert.True(t, strings.HasPrefix(b.Toolchain(), "go1."), b.Toolchain())
	bins := b.Binaries()
	require.Len(t, bins, 1)
	assert.Equal(t, "bin/shop", bins[0].Path)
	assert.Equal(t, commit, bins[0].Revision)

	t.Run("abbreviated revision agrees", func(t *testing.T) {
		b, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Files: files, Source: build.Source{Revision: commit[:12]}}, build.Options{})
		require.NoError(t, err)
		assert.Equal(t, commit[:12], b.Source().Revision, "the caller's revision is kept")
	})
	t.Run("contradicting revision", func(t *testing.T) {
		other := strings.Repeat("f", 40)
		_, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Files: files, Source: build.Source{Revision: other}}, build.Options{})
		assert.ErrorIs(t, err, build.ErrRevisionMismatch)
		var fe *build.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "bin/shop", fe.Path)
		assert.ErrorContains(t, err, commit)
		assert.ErrorContains(t, err, other)
	})
	t.Run("from a directory", func(t *testing.T) {
		dir := t.TempDir()
		data, err := os.ReadFile(bin)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "bin", "shop"), data, 0o755))
		b, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Dir: dir}, build.Options{})
		require.NoError(t, err)
		assert.Equal(t, commit, b.Source().Revision)
	})
}

func TestDirtyGoBinaryMakesBuildDirty(t *testing.T) {
	bin, commit := goBinary(t, "example.invalid/shop", true)
	b, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Files: []build.File{{Name: "shop", Path: bin}}}, build.Options{})
	require.NoError(t, err)
	assert.True(t, b.Source().Dirty)
	assert.Equal(t, commit, b.Source().Revision)
}

func TestGoBinariesThatDisagree(t *testing.T) {
	a, _ := goBinary(t, "example.invalid/a", false)
	b, _ := goBinary(t, "example.invalid/b", false) // another repository, another commit
	_, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Files: []build.File{{Name: "a", Path: a}, {Name: "b", Path: b}}}, build.Options{})
	assert.ErrorIs(t, err, build.ErrRevisionMismatch)
}
