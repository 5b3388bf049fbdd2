package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/slipway-dev/slipway/build"
)

// slipway runs a command line in-process, as main does, and returns its
// exit code, stdout and stderr.
func slipway(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// lastLine returns the last line of s, which must end in a newline.
func lastLine(t *testing.T, s string) string {
	t.Helper()
	require.True(t, strings.HasSuffix(s, "\n"), "output does not end in a newline: %q", s)
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// file is one regular file of a test tree.
type file struct {
	data []byte
	mode os.FileMode
}

// writeTree writes files (slash-separated paths) under a new directory and
// returns it.
func writeTree(t *testing.T, files map[string]file) string {
	t.Helper()
	dir := t.TempDir()
	for name, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, f.data, f.mode))
		require.NoError(t, os.Chmod(p, f.mode)) // past the umask
	}
	return dir
}

// appTree is a small app: a server, a migration tool, static files.
func appTree(t *testing.T) string {
	t.Helper()
	return writeTree(t, map[string]file{
		"bin/server":        {randomBytes(t, 64<<10), 0o755},
		"bin/migrate":       {randomBytes(t, 16<<10), 0o755},
		"public/index.html": {[]byte("<h1>shop</h1>\n"), 0o644},
	})
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestBadInput(t *testing.T) {
	app := appTree(t)
	empty := t.TempDir()
	fifo := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(fifo, "pipe"), 0o644))
	missing := filepath.Join(t.TempDir(), "missing")
	layout := filepath.Join(t.TempDir(), "layout")
	// Nothing listens on port 1: a case that got as far as the network
	// would fail with a different message.
	const ref = "127.0.0.1:1/shop:v1"
	const digestRef = "127.0.0.1:1/shop@sha256:0000000000000000000000000000000000000000000000000000000000000000"

	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		want  []string // substrings of the message
		usage bool     // an error in the command line: the usage follows
	}{
		{name: "missing dir", args: []string{"build", "--plain-http", "--app", "shop", ref},
			want: []string{`required flag(s) "dir" not set`}, usage: true},
		{name: "missing app", args: []string{"build", "--plain-http", "--dir", app, ref},
			want: []string{`required flag(s) "app" not set`}, usage: true},
		{name: "missing REF", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop"},
			want: []string{"REF"}, usage: true},
		{name: "nonexistent dir", args: []string{"build", "--plain-http", "--dir", missing, "--app", "shop", ref},
			want: []string{missing, "no such file or directory"}},
		{name: "empty dir", args: []string{"build", "--plain-http", "--dir", empty, "--app", "shop", ref},
			want: []string{empty, "nothing to build"}},
		{name: "fifo", args: []string{"build", "--plain-http", "--dir", fifo, "--app", "shop", ref},
			want: []string{`slipway: build: "pipe": unsupported file type: named pipe (FIFO)`}},
		{name: "invalid app", args: []string{"build", "--plain-http", "--dir", app, "--app", "Shop!", ref},
			want: []string{`app "Shop!"`, "invalid name"}},
		{name: "process without =", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", "--process", "noequals", ref},
			want: []string{`"noequals"`, "--process", "NAME=COMMAND"}, usage: true},
		{name: "invalid process name", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", "--admin", "db migrate=bin/migrate", ref},
			want: []string{`process "db migrate"`, "invalid name"}},
		{name: "duplicate process", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", "--process", "web=a", "--admin", "web=b", ref},
			want: []string{`process "web"`, "declared twice"}},
		{name: "missing procfile", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", "--procfile", missing, ref},
			want: []string{"--procfile", missing}},
		{name: "digest REF", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", digestRef},
			want: []string{digestRef, "digest"}},
		{name: "digest layout REF", args: []string{"build", "--oci-layout", "--dir", app, "--app", "shop", layout + "@sha256:abc"},
			want: []string{layout + "@sha256:abc", "digest"}},
		{name: "REF without repository", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", "shop:v1"},
			want: []string{`REF "shop:v1"`}},
		{name: "plain-http and oci-layout", args: []string{"build", "--plain-http", "--oci-layout", "--dir", app, "--app", "shop", layout},
			want: []string{"plain-http", "oci-layout"}, usage: true},
		{name: "unknown flag", args: []string{"build", "--frobnicate", "--dir", app, "--app", "shop", ref},
			want: []string{"unknown flag: --frobnicate"}, usage: true},
		{name: "unknown command", args: []string{"frobnicate"},
			want: []string{`unknown command "frobnicate"`}, usage: true},
		{name: "source with credentials", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop",
			"--source", "https://x-access-token:s3cr3t@github.com/acme/shop?token=t0k3n", ref},
			want: []string{"source repository", "user information", "credentials are never recorded"}},
		{name: "source not a URL", args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", "--source", "acme/shop", ref},
			want: []string{"--source", "absolute URL"}},
		{name: "bad SOURCE_DATE_EPOCH", env: map[string]string{"SOURCE_DATE_EPOCH": "yesterday"},
			args: []string{"build", "--plain-http", "--dir", app, "--app", "shop", ref},
			want: []string{`SOURCE_DATE_EPOCH="yesterday"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			stderr := assertRefused(t, tc.args, tc.want, tc.usage)
			assert.NotContains(t, stderr, "s3cr3t")
			assert.NotContains(t, stderr, "t0k3n")
		})
	}
}

// assertRefused runs the command line args and checks that it is refused
// with exitError: nothing on stdout, one message on stderr that holds each
// of want, followed by the command's usage if usage and by nothing else if
// not. It returns stderr.
func assertRefused(t *testing.T, args, want []string, usage bool) string {
	t.Helper()
	code, stdout, stderr := slipway(t, args...)
	assert.Equal(t, exitError, code)
	assert.Empty(t, stdout)
	msg, rest, _ := strings.Cut(stderr, "\n")
	assert.True(t, strings.HasPrefix(msg, "slipway: "), "message %q", msg)
	for _, w := range want {
		assert.Contains(t, msg, w)
	}
	if usage {
		assert.Contains(t, rest, "Usage:")
	} else {
		assert.Empty(t, rest, "more than one line on stderr")
	}
	return stderr
}

func TestHelp(t *testing.T) {
	code, stdout, stderr := slipway(t, "build", "--help")
	assert.Equal(t, exitOK, code)
	assert.Empty(t, stderr)
	for _, w := range []string{"slipway build --dir DIR --app NAME [flags] REF", "SOURCE_DATE_EPOCH", "--plain-http", "--oci-layout", "--no-progress"} {
		assert.Contains(t, stdout, w)
	}
}

func TestParseLayoutRef(t *testing.T) {
	const zeros = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	tests := []struct {
		ref, dir, tag string
		digest        digest.Digest
		bad           bool
	}{
		{ref: "builds", dir: "builds"},
		{ref: "builds:v1", dir: "builds", tag: "v1"},
		{ref: "/tmp/a:b/builds:v1.2_x-y", dir: "/tmp/a:b/builds", tag: "v1.2_x-y"},
		{ref: "/tmp/a:b/builds", dir: "/tmp/a:b/builds"}, // "b/builds" is no tag
		{ref: "builds:", dir: "builds:"},
		{ref: "builds:-x", dir: "builds:-x"},
		{ref: "builds@" + zeros, dir: "builds", digest: zeros},
		{ref: "a@b/builds@" + zeros, dir: "a@b/builds", digest: zeros},
		{ref: "a@b", dir: "a@b"}, // "b" is no digest
		{ref: ":v1", bad: true},
		{ref: "@" + zeros, bad: true},
		{ref: "builds@sha256:abc", bad: true},
	}
	for _, tc := range tests {
		dir, tag, dgst, err := parseLayoutRef(tc.ref)
		if tc.bad {
			assert.Error(t, err, tc.ref)
			continue
		}
		if assert.NoError(t, err, tc.ref) {
			assert.Equal(t, tc.dir, dir, tc.ref)
			assert.Equal(t, tc.tag, tag, tc.ref)
			assert.Equal(t, tc.digest, dgst, tc.ref)
		}
	}
}

func TestOpenTarget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	layout, err := openTarget(t.Context(), dir+":v1", false, true)
	require.NoError(t, err)
	assert.Implements(t, (*build.Ingester)(nil), layout.store, "a layout is ingested in one pass")
	assert.Equal(t, dir, layout.name)
	assert.Equal(t, "v1", layout.tag)

	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg, err := openTarget(t.Context(), "127.0.0.1:5000/acme/shop:v1", true, false)
	require.NoError(t, err)
	repo, ok := reg.store.(*remote.Repository)
	require.True(t, ok)
	assert.True(t, repo.PlainHTTP)
	assert.True(t, repo.SkipReferrersGC, "no deletes needed")
	assert.Equal(t, "127.0.0.1:5000/acme/shop", reg.name)
	assert.Equal(t, "v1", reg.tag)
	assert.Equal(t, "127.0.0.1:5000/acme/shop@sha256:00", reg.ref("sha256:00"))

	untagged, err := openTarget(t.Context(), "127.0.0.1:5000/acme/shop", false, false)
	require.NoError(t, err)
	assert.Empty(t, untagged.tag)
	assert.Empty(t, untagged.reference())
	assert.False(t, untagged.store.(*remote.Repository).PlainHTTP)

	// Commands that read take a digest too; commands that store refuse it.
	const zeros = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	for _, tc := range []struct {
		ref, name string
		layout    bool
	}{
		{ref: "127.0.0.1:5000/acme/shop@" + zeros, name: "127.0.0.1:5000/acme/shop"},
		{ref: "127.0.0.1:5000/acme/shop:prod@" + zeros, name: "127.0.0.1:5000/acme/shop"},
		{ref: dir + "@" + zeros, name: dir, layout: true},
	} {
		src, err := openSource(t.Context(), tc.ref, false, tc.layout)
		require.NoError(t, err, tc.ref)
		assert.Equal(t, tc.name, src.name, tc.ref)
		assert.Equal(t, zeros, src.reference(), tc.ref)
		assert.Equal(t, tc.name+"@"+zeros, src.String(), tc.ref)
		_, err = openTarget(t.Context(), tc.ref, false, tc.layout)
		assert.ErrorContains(t, err, "names a digest", tc.ref)
	}
	tagged, err := openSource(t.Context(), dir+":prod", false, true)
	require.NoError(t, err)
	assert.Equal(t, "prod", tagged.reference())
	assert.True(t, tagged.same(layout), "the same layout")
	rel, err := openSource(t.Context(), "./"+filepath.Base(dir)+":prod", false, true)
	require.NoError(t, err)
	t.Chdir(filepath.Dir(dir))
	assert.True(t, rel.same(layout), "the same layout by another path")
	assert.True(t, reg.same(untagged), "the same repository")
	elsewhere, err := openSource(t.Context(), "127.0.0.1:5001/acme/shop:v1", false, false)
	require.NoError(t, err)
	assert.False(t, reg.same(elsewhere), "another registry")
}
