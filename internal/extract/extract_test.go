package extract_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/internal/extract"
)

func TestExtract(t *testing.T) {
	_, target := sandbox(t)
	b := newBuild().
		file("bin/app", "#!/bin/sh\necho app\n", 0o755).
		file("etc/app.conf", "port=8080\n", 0o600).
		file("README", "app\n", 0o644).
		file("empty", "", 0o640).
		link("current", "bin/app").
		link("etc/docs", "../static").
		tar(t, "static",
			dirM("static", 0o750),
			fileM("static/index.html", "<h1>app</h1>\n", 0o644),
			fileM("static/css/site.css", "body{}\n", 0o600), // its directory is listed after it
			dirM("static/css", 0o700),
			linkM("static/latest", "index.html"),
			linkM("static/up", "../README"),
			hardM("static/index.htm", "static/index.html"),
		)
	res, err := extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{})
	require.NoError(t, err)

	assert.Equal(t, []string{
		"README", "bin/", "bin/app", "current@bin/app", "empty", "etc/", "etc/app.conf", "etc/docs@../static",
		"static/", "static/css/", "static/css/site.css", "static/index.htm", "static/index.html", "static/latest@index.html", "static/up@../README",
	}, tree(t, target), "no staging directory is left")
	assert.Equal(t, 15, res.Files)
	assert.Equal(t, int64(len("#!/bin/sh\necho app\n")+len("port=8080\n")+len("app\n")+len("<h1>app</h1>\n")+len("body{}\n")), res.Bytes)
	for name, want := range map[string]fs.FileMode{
		"bin/app": 0o755, "etc/app.conf": 0o600, "README": 0o644, "empty": 0o640,
		"static/index.html": 0o644, "static/css/site.css": 0o600,
		"bin": fs.ModeDir | 0o755, "etc": fs.ModeDir | 0o755, "static": fs.ModeDir | 0o750, "static/css": fs.ModeDir | 0o700,
	} {
		assert.Equal(t, want, mode(t, filepath.Join(target, name)), name)
	}
	data, err := os.ReadFile(filepath.Join(target, "current"))
	require.NoError(t, err)
	assert.Equal(t, "#!/bin/sh\necho app\n", string(data))
	data, err = os.ReadFile(filepath.Join(target, "etc/docs/up"))
	require.NoError(t, err, "links resolve inside the target")
	assert.Equal(t, "app\n", string(data))
	a, err := os.Stat(filepath.Join(target, "static/index.html"))
	require.NoError(t, err)
	h, err := os.Stat(filepath.Join(target, "static/index.htm"))
	require.NoError(t, err)
	assert.True(t, os.SameFile(a, h), "a hard link")
}

// TestExtractRefusesEntries: hostile build records, refused before
// anything is written.
func TestExtractRefusesEntries(t *testing.T) {
	type row struct {
		name  string
		b     *build
		opts  extract.Options
		want  error
		where string
	}
	rows := []row{
		{name: "title ../x", b: newBuild().file("../x", "x", 0o644), want: extract.ErrUnsafePath, where: "../x"},
		{name: "title a/../../x", b: newBuild().file("a/../../x", "x", 0o644), want: extract.ErrUnsafePath, where: "a/../../x"},
		{name: "absolute title", b: newBuild().file("/tmp/slipway-attack", "x", 0o644), want: extract.ErrUnsafePath, where: "/tmp/slipway-attack"},
		{name: "empty title", b: newBuild().file("", "x", 0o644), want: extract.ErrUnsafePath},
		{name: "dot title", b: newBuild().file(".", "x", 0o644), want: extract.ErrUnsafePath, where: "."},
		{name: "empty element", b: newBuild().file("a//b", "x", 0o644), want: extract.ErrUnsafePath, where: "a//b"},
		{name: "dot element", b: newBuild().file("a/./b", "x", 0o644), want: extract.ErrUnsafePath, where: "a/./b"},
		{name: "trailing slash", b: newBuild().file("a/", "x", 0o644), want: extract.ErrUnsafePath, where: "a/"},
		{name: "NUL", b: newBuild().file("a\x00b", "x", 0o644), want: extract.ErrUnsafePath, where: "a\x00b"},
		{name: "backslash", b: newBuild().file(`..\x`, "x", 0o644), want: extract.ErrUnsafePath, where: `..\x`},
		{name: "duplicate", b: newBuild().file("a", "x", 0o644).file("a", "y", 0o644), want: extract.ErrUnsafePath, where: "a"},
		{name: "below a file", b: newBuild().file("a", "x", 0o644).file("a/b", "y", 0o644), want: extract.ErrUnsafePath, where: "a/b"},
		{name: "below a link", b: newBuild().link("a", "b").file("a/x", "y", 0o644), want: extract.ErrUnsafePath, where: "a/x"},
		{name: "below a packed directory", b: newBuild().tar(t, "static", dirM("static", 0o755)).file("static/x", "y", 0o644), want: extract.ErrUnsafePath, where: "static/x"},
		{name: "link to /etc/passwd", b: newBuild().link("passwd", "/etc/passwd"), want: extract.ErrUnsafeLink, where: "passwd"},
		{name: "link out", b: newBuild().link("a/up", "../../etc"), want: extract.ErrUnsafeLink, where: "a/up"},
		{name: "link chain out", b: newBuild().link("a", "b").link("b", "../.."), want: extract.ErrUnsafeLink, where: "a"},
		{name: "link chain out through a directory link", b: newBuild().link("s/a", "d/../x").link("s/d", ".."), want: extract.ErrUnsafeLink, where: "s/a"},
		{name: "link loop", b: newBuild().link("a", "b").link("b", "a"), want: extract.ErrUnsafeLink, where: "a"},
		{name: "empty link", b: newBuild().link("a", ""), want: extract.ErrUnsafeLink, where: "a"},
		{name: "setuid file", b: newBuild().file("su", "x", 0o755|fs.ModeSetuid), want: extract.ErrUnsupportedEntry, where: "su"},
		{name: "device", b: &build{entries: []extract.Entry{{Path: "dev", Kind: "device"}}}, want: extract.ErrUnsupportedEntry, where: "dev"},
		{name: "bad digest", b: &build{entries: []extract.Entry{{Path: "f", Kind: extract.File, Digest: "sha256:nope"}}}, want: extract.ErrUnsupportedEntry, where: "f"},
		{name: "too many files", b: newBuild().file("a", "1", 0o644).file("b", "2", 0o644).file("c", "3", 0o644),
			opts: extract.Options{MaxFiles: 2}, want: extract.ErrLimit, where: "c"},
		{name: "directories count", b: newBuild().file("a/b/c", "1", 0o644),
			opts: extract.Options{MaxFiles: 2}, want: extract.ErrLimit, where: "a/b/c"},
		{name: "too many bytes", b: newBuild().file("a", "12345", 0o644).file("b", "678", 0o644),
			opts: extract.Options{MaxBytes: 7}, want: extract.ErrLimit, where: "b"},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			opened := false
			src := extract.OpenerFunc(func(ctx context.Context, e extract.Entry) (io.ReadCloser, error) {
				opened = true
				return tc.b.layers.Open(ctx, e)
			})
			box, target := sandbox(t)
			_, err := extract.Extract(t.Context(), target, tc.b.entries, src, tc.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var xe *extract.Error
			require.ErrorAs(t, err, &xe)
			assert.Equal(t, tc.where, xe.Path)
			assert.False(t, opened, "refused before any layer was read")
			assertNothingWritten(t, box, target, nil)
			assert.NoFileExists(t, "/tmp/slipway-attack")
		})
	}
}

// TestExtractTarAttacks: hostile members of a packed directory, whose
// layer matches its digests: only the checks of each member stand in the
// way. The extraction fails and leaves nothing, inside the target or out.
func TestExtractTarAttacks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "outside")
	require.NoError(t, os.Mkdir(outside, 0o755))
	rows := []struct {
		name    string
		members []member
		opts    extract.Options
		want    error
		where   string
	}{
		{name: "member ../x", members: []member{fileM("../x", "x", 0o644)}, want: extract.ErrUnsafePath, where: "../x"},
		{name: "member static/../../x", members: []member{fileM("static/../../x", "x", 0o644)}, want: extract.ErrUnsafePath, where: "static/../../x"},
		{name: "absolute member", members: []member{fileM(outside+"/x", "x", 0o644)}, want: extract.ErrUnsafePath, where: outside + "/x"},
		{name: "member ./static/x", members: []member{fileM("./static/x", "x", 0o644)}, want: extract.ErrUnsafePath, where: "./static/x"},
		{name: "member outside the packed directory", members: []member{fileM("bin/server", "evil", 0o755)}, want: extract.ErrUnsafePath, where: "bin/server"},
		{name: "member beside the packed directory", members: []member{fileM("staticx/a", "x", 0o644)}, want: extract.ErrUnsafePath, where: "staticx/a"},
		{name: "symlink out, then a member through it", members: []member{linkM("static/evil", "../../.."+outside), fileM("static/evil/x", "x", 0o644)},
			want: extract.ErrUnsafeLink, where: "static/evil"},
		{name: "absolute symlink", members: []member{linkM("static/passwd", "/etc/passwd")}, want: extract.ErrUnsafeLink, where: "static/passwd"},
		{name: "symlink inside, then a member through it", members: []member{dirM("static/sub", 0o755), linkM("static/alias", "sub"), fileM("static/alias/x", "x", 0o644)},
			want: extract.ErrUnsafePath, where: "static/alias/x"},
		{name: "member below a file", members: []member{fileM("static/a", "x", 0o644), fileM("static/a/b", "x", 0o644)}, want: extract.ErrUnsafePath, where: "static/a/b"},
		{name: "a later link makes an earlier one leave", members: []member{linkM("static/a", "d/../../x"), linkM("static/d", "..")},
			want: extract.ErrUnsafeLink, where: "static/a"},
		{name: "hard link to /etc/passwd", members: []member{hardM("static/passwd", "/etc/passwd")}, want: extract.ErrUnsafeLink, where: "static/passwd"},
		{name: "hard link out", members: []member{hardM("static/passwd", "../../etc/passwd")}, want: extract.ErrUnsafeLink, where: "static/passwd"},
		{name: "hard link to a later member", members: []member{hardM("static/a", "static/b"), fileM("static/b", "x", 0o644)}, want: extract.ErrUnsafeLink, where: "static/a"},
		{name: "hard link to a directory", members: []member{dirM("static/d", 0o755), hardM("static/a", "static/d")}, want: extract.ErrUnsafeLink, where: "static/a"},
		{name: "duplicate member", members: []member{fileM("static/a", "x", 0o644), fileM("static/a", "y", 0o644)}, want: extract.ErrUnsafePath, where: "static/a"},
		{name: "duplicate directory", members: []member{dirM("static/d", 0o755), dirM("static/d", 0o700)}, want: extract.ErrUnsafePath, where: "static/d/"},
		{name: "the packed directory as a file", members: []member{fileM("static", "x", 0o644)}, want: extract.ErrUnsafePath, where: "static"},
		{name: "character device", members: []member{{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "static/null", Devmajor: 1, Devminor: 3, Mode: 0o666}}},
			want: extract.ErrUnsupportedEntry, where: "static/null"},
		{name: "block device", members: []member{{hdr: tar.Header{Typeflag: tar.TypeBlock, Name: "static/sda", Devmajor: 8, Mode: 0o660}}},
			want: extract.ErrUnsupportedEntry, where: "static/sda"},
		{name: "FIFO", members: []member{{hdr: tar.Header{Typeflag: tar.TypeFifo, Name: "static/pipe", Mode: 0o644}}}, want: extract.ErrUnsupportedEntry, where: "static/pipe"},
		{name: "setuid member", members: []member{fileM("static/su", "x", 0o4755)}, want: extract.ErrUnsupportedEntry, where: "static/su"},
		{name: "setgid directory", members: []member{dirM("static/d", 0o2755)}, want: extract.ErrUnsupportedEntry, where: "static/d/"},
		{name: "sticky directory", members: []member{dirM("static/d", 0o1777)}, want: extract.ErrUnsupportedEntry, where: "static/d/"},
		{name: "too many members", members: []member{fileM("static/a", "1", 0o644), fileM("static/b", "2", 0o644), fileM("static/c", "3", 0o644)},
			opts: extract.Options{MaxFiles: 4}, want: extract.ErrLimit, where: "static/b"},
		{name: "too many bytes", members: []member{fileM("static/a", "1234", 0o644), fileM("static/b", "5678", 0o644)},
			opts: extract.Options{MaxBytes: 10}, want: extract.ErrLimit, where: "static/b"},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			box, target := sandbox(t)
			b := newBuild().file("bin/server", "good", 0o755).tar(t, "static", tc.members...)
			_, err := extract.Extract(t.Context(), target, b.entries, b.layers, tc.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var xe *extract.Error
			require.ErrorAs(t, err, &xe)
			assert.Equal(t, tc.where, xe.Path)
			assertNothingWritten(t, box, target, nil)
			assert.Empty(t, tree(t, outside), "nothing outside the target")
		})
	}
}

// TestExtractDigests: bytes that are not the recorded ones fail with
// ErrDigestMismatch and leave no file.
func TestExtractDigests(t *testing.T) {
	good := newBuild().file("bin/server", "good bytes", 0o755).tar(t, "static", fileM("static/a", "aaaa", 0o644))
	tarLayer := good.layers["static"]
	rows := []struct {
		name  string
		edit  func(b *build)
		want  error
		where string
	}{
		{name: "file bytes swapped", edit: func(b *build) { b.layers["bin/server"] = []byte("evil bytes") }, want: extract.ErrDigestMismatch, where: "bin/server"},
		{name: "file shorter than declared", edit: func(b *build) { b.layers["bin/server"] = []byte("good") }, want: extract.ErrDigestMismatch, where: "bin/server"},
		{name: "file longer than declared", edit: func(b *build) { b.layers["bin/server"] = []byte("good bytes and more") }, want: extract.ErrDigestMismatch, where: "bin/server"},
		{name: "tar layer swapped", edit: func(b *build) {
			b.layers["static"], _ = tarGz(t, fileM("static/a", "evil", 0o644))
		}, want: extract.ErrDigestMismatch, where: "static"},
		{name: "tar layer with bytes appended", edit: func(b *build) {
			b.layers["static"] = append(bytes.Clone(tarLayer), 0, 0, 0)
		}, want: extract.ErrDigestMismatch, where: "static"},
		{name: "tar layer cut short", edit: func(b *build) { b.layers["static"] = tarLayer[:len(tarLayer)/2] }, want: extract.ErrDigestMismatch, where: "static"},
		{name: "tar digest not the tar's", edit: func(b *build) {
			b.entries[1].TarDigest = digest.FromString("another tar")
		}, want: extract.ErrDigestMismatch, where: "static"},
		{name: "member declares more bytes than the tar holds", edit: func(b *build) {
			// A signed build may hold such a tar: its digests match it.
			raw := tarBytes(t, fileM("static/a", "aaaa", 0o644))
			raw = raw[:512+2] // a header that says 4 bytes, then 2 of them
			layer := gz(t, raw)
			b.entries[1].Size, b.entries[1].Digest, b.entries[1].TarDigest = int64(len(layer)), digest.FromBytes(layer), digest.FromBytes(raw)
			b.layers["static"] = layer
		}, want: extract.ErrDigestMismatch, where: "static/a"},
		{name: "not gzip", edit: func(b *build) {
			layer := []byte("this is no gzip stream")
			b.entries[1].Size, b.entries[1].Digest = int64(len(layer)), digest.FromBytes(layer)
			b.layers["static"] = layer
		}, want: extract.ErrUnsupportedEntry, where: "static"},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			b := &build{entries: append([]extract.Entry(nil), good.entries...), layers: layers{}}
			for k, v := range good.layers {
				b.layers[k] = v
			}
			tc.edit(b)
			box, target := sandbox(t)
			_, err := extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var xe *extract.Error
			require.ErrorAs(t, err, &xe)
			assert.Equal(t, tc.where, xe.Path)
			assertNothingWritten(t, box, target, nil)
		})
	}
}

// tarBytes is the uncompressed tar of members.
func tarBytes(t *testing.T, members ...member) []byte {
	layer, _ := tarGz(t, members...)
	var out bytes.Buffer
	zr, err := gzipReader(layer)
	require.NoError(t, err)
	_, err = out.ReadFrom(zr)
	require.NoError(t, err)
	return out.Bytes()
}

// TestExtractGzipBomb: a small layer whose tar is followed by a flood of
// zeros is refused at the trailer limit, not decompressed to its end.
func TestExtractGzipBomb(t *testing.T) {
	raw := tarBytes(t, fileM("static/a", "a", 0o644))
	raw = append(raw, make([]byte, 64<<20)...)
	layer := gz(t, raw)
	require.Less(t, len(layer), 1<<20)
	b := &build{entries: []extract.Entry{{Path: "static", Kind: extract.Tar, Size: int64(len(layer)), Digest: digest.FromBytes(layer), TarDigest: digest.FromBytes(raw)}},
		layers: layers{"static": layer}}
	box, target := sandbox(t)
	_, err := extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{})
	assert.ErrorIs(t, err, extract.ErrLimit)
	assertNothingWritten(t, box, target, nil)
}

// TestExtractNotEmpty: a directory that holds anything is refused,
// untouched, unless Overwrite.
func TestExtractNotEmpty(t *testing.T) {
	box := t.TempDir()
	target := filepath.Join(box, "target")
	require.NoError(t, os.MkdirAll(filepath.Join(target, "keep"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(target, "bin"), []byte("old"), 0o644))
	before := tree(t, target)
	b := newBuild().file("README", "new", 0o644)
	_, err := extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{})
	assert.ErrorIs(t, err, extract.ErrNotEmpty)
	var xe *extract.Error
	require.ErrorAs(t, err, &xe)
	assert.Equal(t, target, xe.Path)
	assertNothingWritten(t, box, target, before)
	assert.ErrorIs(t, extract.CheckEmpty(target), extract.ErrNotEmpty)
	assert.NoError(t, extract.CheckEmpty(filepath.Join(box, "missing")))

	// A file where the target should be.
	_, err = extract.Extract(t.Context(), filepath.Join(target, "bin"), b.entries, b.layers, extract.Options{Overwrite: true})
	assert.ErrorIs(t, err, extract.ErrNotEmpty)
}

// TestExtractOverwrite: with Overwrite, files and links of the build
// replace those at their paths, directories merge, other files stay; a
// conflict is refused before anything is moved, and a link planted in the
// target is replaced, never followed.
func TestExtractOverwrite(t *testing.T) {
	outside := t.TempDir()
	box := t.TempDir()
	target := filepath.Join(box, "target")
	write := func(name, data string) {
		p := filepath.Join(target, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	}
	write("bin/server", "old server")
	write("bin/tool", "old tool")
	write("static/old.css", "old")
	write("keep.txt", "mine")
	require.NoError(t, os.Symlink(outside, filepath.Join(target, "current")))
	b := newBuild().
		file("bin/server", "new server", 0o755).
		file("current", "now a file", 0o644).
		tar(t, "static", dirM("static", 0o755), fileM("static/site.css", "new", 0o644))
	_, err := extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{Overwrite: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"bin/", "bin/server", "bin/tool", "current", "keep.txt", "static/", "static/old.css", "static/site.css"}, tree(t, target))
	for name, want := range map[string]string{"bin/server": "new server", "bin/tool": "old tool", "current": "now a file", "keep.txt": "mine", "static/site.css": "new"} {
		data, err := os.ReadFile(filepath.Join(target, name))
		require.NoError(t, err)
		assert.Equal(t, want, string(data), name)
	}
	assert.Empty(t, tree(t, outside), "the planted link was replaced, not followed")

	// Conflicts: refused before anything moved.
	for name, b := range map[string]*build{
		"file where a directory is":         newBuild().file("README", "r", 0o644).file("static", "x", 0o644),
		"directory where a file is":         newBuild().file("README", "r", 0o644).file("keep.txt/x", "x", 0o644),
		"directory where a planted link is": newBuild().file("README", "r", 0o644).file("lib/x", "x", 0o644),
	} {
		t.Run(name, func(t *testing.T) {
			_ = os.Remove(filepath.Join(target, "lib"))
			require.NoError(t, os.Symlink(outside, filepath.Join(target, "lib")))
			before := tree(t, target)
			_, err := extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{Overwrite: true})
			assert.ErrorIs(t, err, extract.ErrNotEmpty)
			assertNothingWritten(t, box, target, before)
			assert.Empty(t, tree(t, outside))
		})
	}
}

// manyFiles is a packed directory "many" of n files of one byte.
func manyFiles(t testing.TB, n int) *build {
	members := make([]member, 0, n+1)
	members = append(members, dirM("many", 0o755))
	for i := range n {
		members = append(members, fileM(fmt.Sprintf("many/f%06d", i), "x", 0o644))
	}
	return newBuild().tar(t, "many", members...)
}

// closeHook calls onClose when the layer it serves is closed.
type closeHook struct {
	io.Reader
	onClose func()
}

func (c closeHook) Close() error { c.onClose(); return nil }

// TestExtractManyFiles: a packed directory of 100,000 tiny files is
// refused by the default MaxFiles while its layer is checked, before any
// member is written; one within the limit is written whole.
func TestExtractManyFiles(t *testing.T) {
	b := manyFiles(t, 100_000)
	box, target := sandbox(t)
	var during []string
	src := extract.OpenerFunc(func(ctx context.Context, e extract.Entry) (io.ReadCloser, error) {
		return closeHook{bytes.NewReader(b.layers[e.Path]), func() { during = tree(t, target) }}, nil
	})
	start := time.Now()
	_, err := extract.Extract(t.Context(), target, b.entries, src, extract.Options{})
	t.Logf("refused after %s", time.Since(start))
	require.ErrorIs(t, err, extract.ErrLimit)
	var xe *extract.Error
	require.ErrorAs(t, err, &xe)
	assert.Equal(t, fmt.Sprintf("many/f%06d", extract.DefaultMaxFiles-1), xe.Path, "the first member past the limit (the directory counts)")
	require.Len(t, during, 4, "when the layer was closed, the staging directory held: %q", during)
	assert.Regexp(t, `^\.slipway-extract-[a-z0-9]+/layer-1$`, during[1], "the spooled layer")
	assert.Regexp(t, `^\.slipway-extract-[a-z0-9]+/tree/many/$`, during[3], "the packed directory, and no member of it")
	assertNothingWritten(t, box, target, nil)

	const n = 10_000
	b = manyFiles(t, n)
	_, err = extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{MaxFiles: n})
	require.ErrorIs(t, err, extract.ErrLimit)
	res, err := extract.Extract(t.Context(), target, b.entries, b.layers, extract.Options{MaxFiles: n + 1})
	require.NoError(t, err)
	assert.Equal(t, n+1, res.Files)
	names, err := os.ReadDir(filepath.Join(target, "many"))
	require.NoError(t, err)
	assert.Len(t, names, n)
}

// BenchmarkExtractManyFiles extracts a packed directory of 100,000 files
// of one byte, which the default MaxFiles refuses: the cost per file is
// the file system's.
func BenchmarkExtractManyFiles(b *testing.B) {
	const n = 100_000
	bd := manyFiles(b, n)
	dir := b.TempDir()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		target := filepath.Join(dir, fmt.Sprint(i))
		if _, err := extract.Extract(b.Context(), target, bd.entries, bd.layers, extract.Options{MaxFiles: n + 1}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		require.NoError(b, os.RemoveAll(target))
		b.StartTimer()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// TestExtractCanceled: a canceled context stops the extraction and leaves
// nothing.
func TestExtractCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b := newBuild().file("a", strings.Repeat("a", 1<<20), 0o644).file("b", "b", 0o644)
	src := extract.OpenerFunc(func(c context.Context, e extract.Entry) (io.ReadCloser, error) {
		cancel()
		return b.layers.Open(c, e)
	})
	box, target := sandbox(t)
	_, err := extract.Extract(ctx, target, b.entries, src, extract.Options{})
	assert.ErrorIs(t, err, context.Canceled)
	assertNothingWritten(t, box, target, nil)
}

func TestExtractOptions(t *testing.T) {
	_, target := sandbox(t)
	_, err := extract.Extract(t.Context(), target, nil, layers{}, extract.Options{MaxBytes: -1})
	assert.ErrorContains(t, err, "MaxBytes")
	_, err = extract.Extract(t.Context(), target, nil, layers{}, extract.Options{MaxFiles: -1})
	assert.ErrorContains(t, err, "MaxFiles")
	res, err := extract.Extract(t.Context(), target, nil, layers{}, extract.Options{})
	require.NoError(t, err, "an adopted image has no entries: the target is made, empty")
	assert.Equal(t, extract.Result{}, res)
	assert.DirExists(t, target)
}
