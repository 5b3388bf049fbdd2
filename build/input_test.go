package build_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
)

// TestBadInput: each kind of bad input gets its own error, naming the thing
// and where it is.
func TestBadInput(t *testing.T) {
	empty := t.TempDir()
	good := t.TempDir()
	tree{"f": "x"}.write(t, good, false)
	notDir := filepath.Join(good, "f")
	missing := filepath.Join(good, "missing")
	cases := []struct {
		name    string
		app     string
		spec    build.Spec
		opts    build.Options
		is      error
		path    string // FileError.Path, if any
		mention string // text the message must hold
	}{
		{name: "missing directory", spec: build.Spec{Dir: missing}, is: fs.ErrNotExist, path: missing},
		{name: "empty directory", spec: build.Spec{Dir: empty}, is: build.ErrEmpty, path: empty},
		{name: "not a directory", spec: build.Spec{Dir: notDir}, is: build.ErrInvalidSpec, path: notDir},
		{name: "nothing at all", is: build.ErrEmpty, mention: "Spec.Dir"},
		{name: "dir and files", spec: build.Spec{Dir: good, Files: []build.File{{Name: "a", Linkname: "b"}}}, is: build.ErrInvalidSpec, mention: "not both"},
		{name: "invalid app name", app: "Shop!", spec: build.Spec{Dir: good}, is: build.ErrInvalidName, mention: `"Shop!"`},
		{name: "empty app name", app: "-", spec: build.Spec{Dir: good}, is: build.ErrInvalidName, mention: `app "-"`},
		{name: "invalid process name", spec: build.Spec{Dir: good, Processes: []build.Process{{Name: "web server", Command: "x"}}}, is: build.ErrInvalidName, mention: `"web server"`},
		{name: "duplicate process", spec: build.Spec{Dir: good, Processes: []build.Process{{Name: "web", Command: "x"}, {Name: "web", Command: "y"}}}, is: build.ErrInvalidName, mention: "twice"},
		{name: "empty command", spec: build.Spec{Dir: good, Processes: []build.Process{{Name: "web", Command: " "}}}, is: build.ErrInvalidSpec, mention: `"web"`},
		{name: "dot-dot path", spec: build.Spec{Files: []build.File{{Name: "../etc/passwd", Reader: strings.NewReader("x")}}}, is: build.ErrInvalidPath, path: "../etc/passwd", mention: "Spec.Files[0]"},
		{name: "inner dot-dot path", spec: build.Spec{Files: []build.File{{Name: "a/../../b", Reader: strings.NewReader("x")}}}, is: build.ErrInvalidPath, path: "a/../../b"},
		{name: "absolute path", spec: build.Spec{Files: []build.File{{Name: "ok", Reader: strings.NewReader("x")}, {Name: "/etc/passwd", Reader: strings.NewReader("x")}}}, is: build.ErrInvalidPath, path: "/etc/passwd", mention: "Spec.Files[1]"},
		{name: "backslash path", spec: build.Spec{Files: []build.File{{Name: `a\b`, Reader: strings.NewReader("x")}}}, is: build.ErrInvalidPath, path: `a\b`},
		{name: "duplicate path", spec: build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("x")}, {Name: "b", Linkname: "a"}, {Name: "a", Reader: strings.NewReader("y")}}}, is: build.ErrDuplicatePath, path: "a"},
		{name: "file under a file", spec: build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("x")}, {Name: "a/b", Reader: strings.NewReader("y")}}}, is: build.ErrDuplicatePath, path: "a/b"},
		{name: "two sources", spec: build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("x"), Path: notDir}}}, is: build.ErrInvalidSpec, path: "a"},
		{name: "unreadable file", spec: build.Spec{Files: []build.File{{Name: "a", Path: missing}}}, is: fs.ErrNotExist, path: "a"},
		{name: "directory as file", spec: build.Spec{Files: []build.File{{Name: "a", Path: good}}}, is: build.ErrUnsupportedFile, path: "a"},
		{name: "mode with type bits", spec: build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("x"), Mode: fs.ModeDir | 0o755}}}, is: build.ErrUnsupportedFile, path: "a"},
		{name: "tar without dir", spec: build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("x")}}, Tar: []string{"a"}}, is: build.ErrInvalidSpec, mention: "Spec.Tar"},
		{name: "tar of a file", spec: build.Spec{Dir: good, Tar: []string{"f"}}, is: build.ErrInvalidSpec, path: "f", mention: "Spec.Tar"},
		{name: "tar of nothing", spec: build.Spec{Dir: good, Tar: []string{"nope"}}, is: build.ErrInvalidSpec, path: "nope"},
		{name: "bad image digest", spec: build.Spec{Image: "sha256:xyz"}, is: build.ErrInvalidSpec, mention: "Spec.Image"},
		{name: "token in repository", spec: build.Spec{Dir: good, Source: build.Source{Repository: "https://x-token:s3cr3t@example.invalid/shop"}}, is: build.ErrInvalidSpec, mention: "Spec.Source"},
		{name: "token user in repository", spec: build.Spec{Dir: good, Source: build.Source{Repository: "https://ghp_s3cr3t@example.invalid/shop"}}, is: build.ErrInvalidSpec, mention: "user information"},
		{name: "token query in repository", spec: build.Spec{Dir: good, Source: build.Source{Repository: "https://example.invalid/shop?token=s3cr3t"}}, is: build.ErrInvalidSpec, mention: "query"},
		{name: "negative concurrency", spec: build.Spec{Dir: good}, opts: build.Options{Concurrency: -1}, is: build.ErrInvalidSpec, mention: "Options.Concurrency"},
		{name: "bad tag", spec: build.Spec{Dir: good}, opts: build.Options{Tags: []string{"ok", "no/slash"}}, is: build.ErrInvalidSpec, mention: "Options.Tags[1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := tc.app
			if app == "" {
				app = "shop"
			}
			store := memory.New()
			_, err := build.New(t.Context(), store, app, tc.spec, tc.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.True(t, strings.HasPrefix(err.Error(), "build: "), "message %q starts with the package", err)
			if tc.path != "" {
				var fe *build.FileError
				require.ErrorAs(t, err, &fe)
				assert.Equal(t, tc.path, fe.Path)
			}
			if tc.mention != "" {
				assert.Contains(t, err.Error(), tc.mention)
			}
			assert.NotContains(t, err.Error(), "s3cr3t", "no secret in an error")
			tags, _ := store.Resolve(t.Context(), "latest")
			assert.Empty(t, tags.Digest, "nothing stored")
		})
	}
}

func TestReaderErrorNamesFile(t *testing.T) {
	boom := errors.New("read failed")
	_, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Files: []build.File{
		{Name: "ok", Reader: strings.NewReader("x")},
		{Name: "data/broken.bin", Reader: &failingReader{n: 10, err: boom}},
	}}, build.Options{})
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, `build: "data/broken.bin": read failed`)
}

func TestExplicitFiles(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "server")
	require.NoError(t, os.WriteFile(disk, []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.Chmod(disk, 0o755))
	store := memory.New()
	b, err := build.New(t.Context(), store, "shop", build.Spec{Files: []build.File{
		{Name: "bin/server", Path: disk},
		{Name: "etc/config.json", Reader: strings.NewReader(`{"port":8080}`), Mode: 0o600},
		{Name: "bin/current", Linkname: "server"},
		{Name: "README", Reader: strings.NewReader("")},
	}}, build.Options{})
	require.NoError(t, err)
	want := map[string]fs.FileMode{"README": 0o644, "bin/current": 0o777, "bin/server": 0o755, "etc/config.json": 0o600}
	got := map[string]fs.FileMode{}
	for _, e := range b.Entries() {
		got[e.Path] = e.Mode
	}
	assert.Equal(t, want, got)
	rc, err := b.Open(t.Context(), store, "etc/config.json")
	require.NoError(t, err)
	assert.Equal(t, `{"port":8080}`, string(readAll(t, rc)))

	// The same files from a directory make the same build.
	tree{"bin/server": "#!/bin/sh\n", "etc/config.json": `{"port":8080}`, "bin/current": "->server", "README": ""}.write(t, filepath.Join(dir, "tree"), false)
	require.NoError(t, os.Chmod(filepath.Join(dir, "tree", "etc", "config.json"), 0o600))
	fromDir, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Dir: filepath.Join(dir, "tree")}, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, b.Digest(), fromDir.Digest())
}

func TestParseProcfile(t *testing.T) {
	ps, err := build.ParseProcfile(strings.NewReader("# processes\nweb: bin/server --port $PORT\n\nworker:bin/worker -q  default\r\nrelease-phase: bin/migrate\n"))
	require.NoError(t, err)
	assert.Equal(t, []build.Process{
		{Name: "web", Command: "bin/server --port $PORT"},
		{Name: "worker", Command: "bin/worker -q  default"},
		{Name: "release-phase", Command: "bin/migrate"},
	}, ps)

	for input, want := range map[string]string{
		"web bin/server\n":         "line 1",
		"web: a\nweb: b\n":         "line 2",
		"ok: a\nbad name: x\n":     "line 2",
		"web:\n":                   "line 1",
		strings.Repeat("#", 2<<20): "longer than",
	} {
		_, err := build.ParseProcfile(strings.NewReader(input))
		assert.ErrorContains(t, err, want, "%.20q", input)
	}
}
