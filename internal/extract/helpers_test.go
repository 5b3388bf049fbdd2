package extract_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/internal/extract"
)

// layers serves the layers of a test build by entry path.
type layers map[string][]byte

func (l layers) Open(_ context.Context, e extract.Entry) (io.ReadCloser, error) {
	b, ok := l[e.Path]
	if !ok {
		return nil, fmt.Errorf("no layer for %q", e.Path)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// build is a test build: its entries and their layers.
type build struct {
	entries []extract.Entry
	layers  layers
}

func newBuild() *build { return &build{layers: layers{}} }

// file adds a regular file.
func (b *build) file(name, data string, mode fs.FileMode) *build {
	b.entries = append(b.entries, extract.Entry{Path: name, Kind: extract.File, Mode: mode, Size: int64(len(data)), Digest: digest.FromString(data)})
	b.layers[name] = []byte(data)
	return b
}

// link adds a symbolic link.
func (b *build) link(name, target string) *build {
	b.entries = append(b.entries, extract.Entry{Path: name, Kind: extract.Symlink, Mode: 0o777, Target: target})
	return b
}

// tar adds a packed directory of members.
func (b *build) tar(t testing.TB, name string, members ...member) *build {
	layer, tarDigest := tarGz(t, members...)
	b.entries = append(b.entries, extract.Entry{Path: name, Kind: extract.Tar, Size: int64(len(layer)), Digest: digest.FromBytes(layer), TarDigest: tarDigest})
	b.layers[name] = layer
	return b
}

// member is one member of a test tar.
type member struct {
	hdr  tar.Header
	data string
}

func dirM(name string, mode int64) member {
	return member{hdr: tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode}}
}
func fileM(name, data string, mode int64) member {
	return member{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}, data: data}
}
func linkM(name, target string) member {
	return member{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777}}
}
func hardM(name, target string) member {
	return member{hdr: tar.Header{Typeflag: tar.TypeLink, Name: name, Linkname: target, Mode: 0o644}}
}

// tarGz packs members as build does: a tar, gzip-compressed. It returns
// the layer and the digest of the uncompressed tar.
func tarGz(t testing.TB, members ...member) ([]byte, digest.Digest) {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, m := range members {
		hdr := m.hdr
		hdr.Format = tar.FormatPAX
		require.NoError(t, tw.WriteHeader(&hdr))
		if m.data != "" {
			_, err := io.WriteString(tw, m.data)
			require.NoError(t, err)
		}
	}
	require.NoError(t, tw.Close())
	return gz(t, raw.Bytes()), digest.FromBytes(raw.Bytes())
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	require.NoError(t, err)
	_, err = zw.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return out.Bytes()
}

// sandbox returns a directory for one test's target, and the target's
// path in it, which does not exist yet.
func sandbox(t *testing.T) (string, string) {
	box := t.TempDir()
	return box, filepath.Join(box, "target")
}

// tree lists everything under dir as slash paths with a kind mark: "/"
// for directories, "@target" for links.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			rel += "/"
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			require.NoError(t, err)
			rel += "@" + target
		}
		out = append(out, rel)
		return nil
	})
	require.NoError(t, err)
	slices.Sort(out)
	return out
}

// assertNothingWritten checks that a failed extraction into target left
// nothing: no target if it did not exist before, else exactly before.
func assertNothingWritten(t *testing.T, box, target string, before []string) {
	t.Helper()
	if before == nil {
		assert.NoDirExists(t, target, "the target Extract made is removed again")
		assert.Empty(t, tree(t, box), "nothing outside the target")
		return
	}
	assert.Equal(t, before, tree(t, target), "the target is as it was")
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	info, err := os.Lstat(p)
	require.NoError(t, err)
	return info.Mode()
}

func gzipReader(layer []byte) (io.Reader, error) { return gzip.NewReader(bytes.NewReader(layer)) }
