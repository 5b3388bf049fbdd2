package build_test

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/file"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/registrytest"
)

func demoSpec(dir string) build.Spec {
	return build.Spec{
		Dir:     dir,
		Source:  build.Source{Repository: "https://example.invalid/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567"},
		Builder: "https://example.invalid/ci/job/7",
		Processes: []build.Process{
			{Name: "web", Command: "bin/server --port 8080"},
			{Name: "migrate", Command: "bin/server migrate", Admin: true},
		},
		Created: fixedTime,
	}
}

func TestNewAndLoadEveryStore(t *testing.T) {
	src := t.TempDir()
	demoTree.write(t, src, false)
	layout, err := build.OpenLayout(t.Context(), t.TempDir())
	require.NoError(t, err)

	targets := map[string]oras.Target{"layout": layout, "memory": memory.New()}
	for _, reg := range registrytest.All(t) {
		targets[reg.Name] = reg.Repository(t, "acme/shop")
	}
	var digests []digest.Digest
	for name, dst := range targets {
		t.Run(name, func(t *testing.T) {
			b, err := build.New(t.Context(), dst, "shop", demoSpec(src), build.Options{Tags: []string{"v1", "latest"}})
			require.NoError(t, err)
			digests = append(digests, b.Digest())

			got, err := build.Load(t.Context(), dst, "v1")
			require.NoError(t, err)
			assert.Equal(t, b.Digest(), got.Digest())
			assert.Equal(t, b.Manifest(), got.Manifest())
			assert.Equal(t, "shop", got.App())
			assert.Equal(t, fixedTime, got.Created())
			assert.Equal(t, demoSpec(src).Source, got.Source())
			assert.Equal(t, demoSpec(src).Processes, got.Processes())
			p, ok := got.Process("migrate")
			assert.True(t, ok)
			assert.True(t, p.Admin)

			entries := got.Entries()
			paths := make([]string, len(entries))
			for i, e := range entries {
				paths[i] = e.Path
			}
			assert.Equal(t, []string{"Procfile", "bin/server", "config/app.toml", "current", "static/css/a.css", "static/index.html"}, paths)
			for _, e := range entries {
				switch e.Path {
				case "current":
					assert.Equal(t, build.TypeSymlink, e.Type)
					assert.Equal(t, "bin/server", e.Target)
				case "bin/server":
					assert.Equal(t, fs.FileMode(0o755), e.Mode)
				default:
					assert.Equal(t, fs.FileMode(0o644), e.Mode)
				}
				if e.Type != build.TypeFile {
					continue
				}
				rc, err := got.Open(t.Context(), dst, e.Path)
				require.NoError(t, err)
				assert.Equal(t, demoTree[e.Path], string(readAll(t, rc)), e.Path)
			}
			latest, err := dst.Resolve(t.Context(), "latest")
			require.NoError(t, err)
			assert.Equal(t, b.Digest(), latest.Digest)
		})
	}
	for _, d := range digests[1:] {
		assert.Equal(t, digests[0], d, "the same tree gives the same build in every store")
	}
}

func TestSameTreeSameDigest(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	demoTree.write(t, a, false)
	demoTree.write(t, b, true) // other creation order
	old := fixedTime.AddDate(-3, 0, 0)
	require.NoError(t, filepath.Walk(a, func(p string, _ fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, old, old)
	}))
	ba, err := build.New(t.Context(), memory.New(), "shop", demoSpec(a), build.Options{})
	require.NoError(t, err)
	bb, err := build.New(t.Context(), memory.New(), "shop", demoSpec(b), build.Options{Concurrency: 1})
	require.NoError(t, err)
	assert.Equal(t, ba.Digest(), bb.Digest())
	assert.Equal(t, ba.Manifest(), bb.Manifest())
	ra, _ := ba.Record()
	rb, _ := bb.Record()
	assert.Equal(t, ra, rb)

	spec := demoSpec(a)
	spec.Created = fixedTime.Add(1)
	bc, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, ba.Digest(), bc.Digest(), "sub-second differences are truncated")
	spec.Created = fixedTime.Add(3600e9)
	bd, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.NotEqual(t, ba.Digest(), bd.Digest())
}

func TestSourceDateEpoch(t *testing.T) {
	dir := t.TempDir()
	demoTree.write(t, dir, false)
	spec := demoSpec(dir)
	spec.Created = fixedTime.Local() // the zone does not matter
	want, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)

	spec.Created = time.Time{}
	t.Setenv("SOURCE_DATE_EPOCH", strconv.FormatInt(fixedTime.Unix(), 10))
	got, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, want.Digest(), got.Digest())
	assert.Equal(t, fixedTime, got.Created())

	t.Setenv("SOURCE_DATE_EPOCH", "")
	epoch, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, time.Unix(0, 0).UTC(), epoch.Created(), "no wall clock: the Unix epoch")

	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	_, err = build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	assert.ErrorIs(t, err, build.ErrInvalidSpec)
	assert.ErrorContains(t, err, "SOURCE_DATE_EPOCH")
}

// TestOrasPullWritesTreeBack reads a build back the way oras pull does, with
// oras-go's copy into a content/file store, and compares every byte.
func TestOrasPullWritesTreeBack(t *testing.T) {
	src := t.TempDir()
	tr := tree{
		"bin/server":       strings.Repeat("\x7fELF\x00binary", 5000),
		"a/b/c/deep.txt":   "deep\n",
		"static/css/a.css": "h1{}\n",
		"static/js/app.js": "go()\n",
		"static/link":      "->css/a.css",
		"README":           "",
	}
	tr.write(t, src, false)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			repo := reg.Repository(t, "acme/pull")
			spec := build.Spec{Dir: src, Tar: []string{"static"}, Created: fixedTime}
			b, err := build.New(t.Context(), repo, "shop", spec, build.Options{Tags: []string{"v1"}})
			require.NoError(t, err)

			out := t.TempDir()
			fs, err := file.New(out)
			require.NoError(t, err)
			defer fs.Close()
			desc, err := oras.Copy(t.Context(), repo, "v1", fs, "v1", oras.DefaultCopyOptions)
			require.NoError(t, err)
			assert.Equal(t, b.Digest(), desc.Digest)

			for name, want := range tr {
				p := filepath.Join(out, filepath.FromSlash(name))
				if strings.HasPrefix(want, "->") {
					target, err := os.Readlink(p)
					require.NoError(t, err, "packed directories keep their links")
					assert.Equal(t, want[2:], target)
					continue
				}
				got, err := os.ReadFile(p)
				require.NoError(t, err, name)
				assert.Equal(t, want, string(got), name)
			}
		})
	}
}

func TestTarLayerIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	demoTree.write(t, a, false)
	demoTree.write(t, b, true)
	spec := demoSpec(a)
	spec.Tar = []string{"static"}
	ba, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	spec.Dir = b
	store := memory.New()
	bb, err := build.New(t.Context(), store, "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, ba.Digest(), bb.Digest())

	var tarEntry build.Entry
	for _, e := range bb.Entries() {
		assert.False(t, strings.HasPrefix(e.Path, "static/"), "files of a packed directory are not layers of their own")
		if e.Type == build.TypeTar {
			tarEntry = e
		}
	}
	require.Equal(t, "static", tarEntry.Path)
	rc, err := bb.Open(t.Context(), store, "static")
	require.NoError(t, err)
	zr, err := gzip.NewReader(rc)
	require.NoError(t, err)
	tarDigester := digest.SHA256.Digester()
	tr := tar.NewReader(io.TeeReader(zr, tarDigester.Hash()))
	var names []string
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		names = append(names, h.Name)
		assert.Equal(t, 0, h.Uid)
		assert.Equal(t, "", h.Uname)
		assert.Equal(t, int64(0), h.ModTime.Unix())
	}
	_, err = io.Copy(io.Discard, zr)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, []string{"static/", "static/css/", "static/css/a.css", "static/index.html"}, names)
	assert.Equal(t, tarEntry.TarDigest, tarDigester.Digest())
}

// TestInterruptedBuildLeavesNoTag fails a build halfway, in a reader, and
// checks that no tag and no manifest was written.
func TestInterruptedBuildLeavesNoTag(t *testing.T) {
	boom := errors.New("disk on fire")
	layout, err := build.OpenLayout(t.Context(), t.TempDir())
	require.NoError(t, err)
	targets := map[string]oras.Target{"layout": layout}
	for _, reg := range registrytest.All(t) {
		targets[reg.Name] = reg.Repository(t, "acme/broken")
	}
	for name, dst := range targets {
		t.Run(name, func(t *testing.T) {
			counted := newCounting(dst)
			spec := build.Spec{Files: []build.File{
				{Name: "a.txt", Reader: strings.NewReader("fine")},
				{Name: "b.bin", Reader: &failingReader{n: 3 << 20, err: boom}},
			}, Created: fixedTime}
			_, err := build.New(t.Context(), counted, "shop", spec, build.Options{Tags: []string{"v1"}})
			require.Error(t, err)
			assert.ErrorIs(t, err, boom)
			var fe *build.FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "b.bin", fe.Path)
			_, err = dst.Resolve(t.Context(), "v1")
			assert.ErrorIs(t, err, errdef.ErrNotFound, "no tag")
			assert.Zero(t, counted.pushes(), "readers are hashed before anything is sent")
		})
	}
}

// TestUnchangedBlobsNotSentAgain rebuilds with one file changed and counts
// what reaches the store.
func TestUnchangedBlobsNotSentAgain(t *testing.T) {
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			src := t.TempDir()
			demoTree.write(t, src, false)
			dst := newCounting(reg.Repository(t, "acme/again"))
			_, err := build.New(t.Context(), dst, "shop", demoSpec(src), build.Options{})
			require.NoError(t, err)
			first := dst.pushes()
			assert.Equal(t, 7, first, "5 files, the record and the manifest")

			require.NoError(t, os.WriteFile(filepath.Join(src, "config", "app.toml"), []byte("port = 9090\n"), 0o644))
			b2, err := build.New(t.Context(), dst, "shop", demoSpec(src), build.Options{})
			require.NoError(t, err)
			assert.Equal(t, first+3, dst.pushes(), "only the changed file, the record and the manifest")
			layers := b2.Layers()
			assert.Len(t, layers, 5)
		})
	}
}

func TestProgressReachesTotal(t *testing.T) {
	src := t.TempDir()
	tree{"big": strings.Repeat("x", 5<<20), "small": "y"}.write(t, src, false)
	for name, dst := range map[string]func(t *testing.T) oras.Target{
		"layout": func(t *testing.T) oras.Target {
			l, err := build.OpenLayout(t.Context(), t.TempDir())
			require.NoError(t, err)
			return l
		},
		"memory": func(*testing.T) oras.Target { return memory.New() },
	} {
		t.Run(name, func(t *testing.T) {
			var last build.Progress
			calls := 0
			_, err := build.New(t.Context(), dst(t), "shop", build.Spec{Dir: src}, build.Options{Progress: func(p build.Progress) {
				assert.GreaterOrEqual(t, p.Done, last.Done)
				last = p
				calls++
			}})
			require.NoError(t, err)
			assert.Equal(t, int64(5<<20+1), last.Total)
			assert.Equal(t, last.Total, last.Done)
			assert.GreaterOrEqual(t, calls, 2)
		})
	}
}

// pushImage stores a minimal image manifest in store, tagged with its
// digest (memory.Store resolves tags only), for a build to adopt.
func pushImage(t *testing.T, store *memory.Store) ocispec.Descriptor {
	t.Helper()
	ctx := t.Context()
	cfg := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromString("{}"), Size: 2}
	require.NoError(t, store.Push(ctx, cfg, strings.NewReader("{}")))
	img, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
		ConfigDescriptor:    &cfg,
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"},
	})
	require.NoError(t, err)
	require.NoError(t, store.Tag(ctx, img, img.Digest.String()))
	return img
}

func TestAdoptImage(t *testing.T) {
	store := memory.New()
	ctx := t.Context()
	img := pushImage(t, store)

	b, err := build.New(ctx, store, "shop", build.Spec{Image: img.Digest, Processes: []build.Process{{Name: "web", Command: "/app"}}, Created: fixedTime}, build.Options{Tags: []string{"v1"}})
	require.NoError(t, err)
	got, ok := b.Image()
	require.True(t, ok)
	assert.Equal(t, img.Digest, got.Digest)
	loaded, err := build.Load(ctx, store, "v1")
	require.NoError(t, err)
	subject, ok := loaded.Image()
	require.True(t, ok)
	assert.Equal(t, img.Digest, subject.Digest)
	assert.Empty(t, loaded.Entries())
	referrers, err := store.Predecessors(ctx, img)
	require.NoError(t, err)
	require.Len(t, referrers, 1)
	assert.Equal(t, b.Digest(), referrers[0].Digest, "the image lists the build as a referrer")

	_, err = build.New(ctx, store, "shop", build.Spec{Image: digest.FromString("nope")}, build.Options{})
	assert.ErrorIs(t, err, errdef.ErrNotFound)
	_, err = build.New(ctx, store, "shop", build.Spec{Image: digest.FromString("{}")}, build.Options{})
	assert.ErrorIs(t, err, errdef.ErrNotFound, "a config blob is not a manifest")
}

func TestSpecialFilesRefused(t *testing.T) {
	t.Run("fifo", func(t *testing.T) {
		dir := t.TempDir()
		tree{"ok": "fine"}.write(t, dir, false)
		require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644))
		_, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Dir: dir}, build.Options{})
		assert.ErrorIs(t, err, build.ErrUnsupportedFile)
		var fe *build.FileError
		require.ErrorAs(t, err, &fe)
		assert.Equal(t, "pipe", fe.Path)
		assert.ErrorContains(t, err, "FIFO")
	})
	t.Run("socket", func(t *testing.T) {
		dir, err := os.MkdirTemp("", "sock") // short path: sun_path is 108 bytes
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		require.NoError(t, err)
		defer syscall.Close(fd)
		require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: filepath.Join(dir, "s")}))
		_, err = build.New(t.Context(), memory.New(), "shop", build.Spec{Dir: dir}, build.Options{})
		assert.ErrorIs(t, err, build.ErrUnsupportedFile)
		assert.ErrorContains(t, err, `"s"`)
		assert.ErrorContains(t, err, "socket")
	})
	t.Run("device", func(t *testing.T) {
		_, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Files: []build.File{{Name: "null", Path: "/dev/null"}}}, build.Options{})
		assert.ErrorIs(t, err, build.ErrUnsupportedFile)
		assert.ErrorContains(t, err, "device")
	})
	t.Run("setuid", func(t *testing.T) {
		dir := t.TempDir()
		tree{"bin/su": "x"}.write(t, dir, false)
		require.NoError(t, os.Chmod(filepath.Join(dir, "bin", "su"), 0o755|fs.ModeSetuid))
		_, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Dir: dir}, build.Options{})
		assert.ErrorIs(t, err, build.ErrUnsupportedFile)
		assert.ErrorContains(t, err, `"bin/su"`)
	})
}

func TestLinks(t *testing.T) {
	cases := []struct {
		name string
		tree tree
		bad  string // path named in the error, "" if fine
	}{
		{"inside", tree{"a/f": "x", "a/l": "->f", "l2": "->a/l", "dir": "->a"}, ""},
		{"dangling inside", tree{"f": "x", "l": "->missing"}, ""},
		{"absolute", tree{"f": "x", "l": "->/etc/passwd"}, "l"},
		{"parent", tree{"f": "x", "a/l": "->../../etc"}, "a/l"},
		{"chain out", tree{"f": "x", "up": "->..", "l": "->up/etc/passwd"}, "l"},
		{"through a link to the root", tree{"f": "x", "root": "->.", "l": "->root/.."}, "l"},
		{"loop", tree{"f": "x", "a": "->b", "b": "->a"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.tree.write(t, dir, false)
			b, err := build.New(t.Context(), memory.New(), "shop", build.Spec{Dir: dir}, build.Options{})
			if tc.name == "loop" {
				assert.ErrorIs(t, err, build.ErrLinkEscape)
				return
			}
			if tc.bad == "" {
				require.NoError(t, err)
				for _, e := range b.Entries() {
					if v := tc.tree[e.Path]; strings.HasPrefix(v, "->") {
						assert.Equal(t, build.TypeSymlink, e.Type, "links are recorded, never followed")
						assert.Equal(t, v[2:], e.Target)
					}
				}
				return
			}
			assert.ErrorIs(t, err, build.ErrLinkEscape)
			var fe *build.FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.bad, fe.Path)
		})
	}
}

func TestLayoutCreatedOnFirstWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	l, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	_, err = build.New(t.Context(), l, "Bad!", build.Spec{Files: []build.File{{Name: "a", Linkname: "b"}}}, build.Options{})
	require.ErrorIs(t, err, build.ErrInvalidName)
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, fs.ErrNotExist, "bad input leaves no empty layout behind")
	_, err = build.Load(t.Context(), l, "v1")
	assert.ErrorIs(t, err, errdef.ErrNotFound)

	b, err := build.New(t.Context(), l, "shop", build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("x")}}}, build.Options{Tags: []string{"v1"}})
	require.NoError(t, err)
	again, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	loaded, err := build.Load(t.Context(), again, "v1")
	require.NoError(t, err)
	assert.Equal(t, b.Digest(), loaded.Digest())
}

func TestRootLinkIsFollowed(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "releases", "7")
	demoTree.write(t, real, false)
	require.NoError(t, os.Symlink(filepath.Join("releases", "7"), filepath.Join(base, "current")))
	viaLink, err := build.New(t.Context(), memory.New(), "shop", demoSpec(filepath.Join(base, "current")), build.Options{})
	require.NoError(t, err)
	direct, err := build.New(t.Context(), memory.New(), "shop", demoSpec(real), build.Options{})
	require.NoError(t, err)
	assert.Equal(t, direct.Digest(), viaLink.Digest())
}

// failingTarget fails the n-th blob push, after n-1 have gone through.
type failingTarget struct {
	*countingTarget
	n int
}

func (f *failingTarget) Push(ctx context.Context, d ocispec.Descriptor, r io.Reader) error {
	if f.pushes() == f.n-1 {
		return errors.New("connection reset")
	}
	return f.countingTarget.Push(ctx, d, r)
}

// TestFailedUploadLeavesNoTag breaks a build in the middle of its uploads.
func TestFailedUploadLeavesNoTag(t *testing.T) {
	src := t.TempDir()
	demoTree.write(t, src, false)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			repo := reg.Repository(t, "acme/halfway")
			dst := &failingTarget{countingTarget: newCounting(repo), n: 3}
			_, err := build.New(t.Context(), dst, "shop", demoSpec(src), build.Options{Tags: []string{"v1"}, Concurrency: 1})
			require.ErrorContains(t, err, "connection reset")
			assert.Equal(t, 2, dst.pushes(), "two blobs went up before the failure")
			_, err = repo.Resolve(t.Context(), "v1")
			assert.ErrorIs(t, err, errdef.ErrNotFound, "no tag")

			b, err := build.New(t.Context(), newCounting(repo), "shop", demoSpec(src), build.Options{Tags: []string{"v1"}})
			require.NoError(t, err, "a retry completes the build")
			got, err := build.Load(t.Context(), repo, "v1")
			require.NoError(t, err)
			assert.Equal(t, b.Digest(), got.Digest())
		})
	}
}

// TestLoadThroughStaleLayoutHandle loads, by digest, a build that another
// handle wrote after this one was opened.
func TestLoadThroughStaleLayoutHandle(t *testing.T) {
	dir := t.TempDir()
	early, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	writer, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	b, err := build.New(t.Context(), writer, "shop", build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("x")}}}, build.Options{})
	require.NoError(t, err)
	got, err := build.Load(t.Context(), early, b.Digest().String())
	require.NoError(t, err)
	assert.Equal(t, b.Digest(), got.Digest())

	rec, desc := b.Record()
	require.NotEmpty(t, rec)
	_, err = build.Load(t.Context(), early, desc.Digest.String())
	assert.ErrorIs(t, err, build.ErrMediaType, "a record blob is not a build")
}
