package release_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/canonjson"
	"github.com/slipway-dev/slipway/internal/extract"
	"github.com/slipway-dev/slipway/release"
)

// A hostile build is written by hand, as an attacker who holds a trusted
// signing key would: its record, its layers, its manifest. These types
// mirror the build record's format (docs/format.md) field for field, so
// that the canonical encoding is what build.Load reads back.
type (
	rawRecord struct {
		App       string       `json:"app"`
		Created   string       `json:"created"`
		Processes []rawProcess `json:"processes,omitempty"`
		Files     []rawEntry   `json:"files,omitempty"`
	}
	rawProcess struct {
		Name    string `json:"name"`
		Command string `json:"command"`
	}
	rawEntry struct {
		Path      string `json:"path"`
		Type      string `json:"type"`
		Mode      string `json:"mode,omitempty"`
		Size      int64  `json:"size,omitempty"`
		Digest    string `json:"digest,omitempty"`
		Target    string `json:"target,omitempty"`
		TarDigest string `json:"tarDigest,omitempty"`
	}
)

// hostile is a hand-made build: entries in path order and their layers.
type hostile struct {
	entries []rawEntry
	blobs   map[digest.Digest][]byte
}

func newHostile() *hostile { return &hostile{blobs: map[digest.Digest][]byte{}} }

func (h *hostile) file(name, data string) *hostile {
	d := digest.FromString(data)
	h.entries = append(h.entries, rawEntry{Path: name, Type: "file", Mode: "0644", Size: int64(len(data)), Digest: d.String()})
	h.blobs[d] = []byte(data)
	return h
}

func (h *hostile) link(name, target string) *hostile {
	h.entries = append(h.entries, rawEntry{Path: name, Type: "symlink", Mode: "0777", Target: target})
	return h
}

// tar adds a packed directory holding raw, a tar as the attacker wrote it.
func (h *hostile) tar(t testing.TB, name string, raw []byte) *hostile {
	var z bytes.Buffer
	zw, err := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	require.NoError(t, err)
	_, err = zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	d := digest.FromBytes(z.Bytes())
	h.entries = append(h.entries, rawEntry{Path: name, Type: "tar", Size: int64(z.Len()), Digest: d.String(), TarDigest: digest.FromBytes(raw).String()})
	h.blobs[d] = z.Bytes()
	return h
}

// tarMember is one member of a hand-written tar.
type tarMember struct {
	hdr  tar.Header
	data string
}

func tarFile(name, data string) tarMember {
	return tarMember{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}, data: data}
}

func tarOf(t testing.TB, members ...tarMember) []byte {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, m := range members {
		hdr := m.hdr
		require.NoError(t, tw.WriteHeader(&hdr))
		_, err := io.WriteString(tw, m.data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return raw.Bytes()
}

// push stores the hostile build in dst and returns its manifest's
// descriptor.
func (h *hostile) push(t testing.TB, dst graphTarget) ocispec.Descriptor {
	ctx := context.Background()
	rec, err := canonjson.Marshal(rawRecord{App: "shop", Created: "2026-01-01T00:00:00Z", Processes: []rawProcess{{Name: "web", Command: "bin/server"}}, Files: h.entries})
	require.NoError(t, err)
	push := func(desc ocispec.Descriptor, data []byte) {
		if ok, _ := dst.Exists(ctx, desc); !ok {
			require.NoError(t, dst.Push(ctx, desc, bytes.NewReader(data)))
		}
	}
	cfg := ocispec.Descriptor{MediaType: build.MediaType, Digest: digest.FromBytes(rec), Size: int64(len(rec))}
	push(cfg, rec)
	var layers []ocispec.Descriptor
	for _, e := range h.entries {
		d := digest.Digest(e.Digest)
		switch e.Type {
		case "file":
			layers = append(layers, ocispec.Descriptor{MediaType: build.FileMediaType, Digest: d, Size: e.Size,
				Annotations: map[string]string{ocispec.AnnotationTitle: e.Path}})
		case "tar":
			layers = append(layers, ocispec.Descriptor{MediaType: build.TarMediaType, Digest: d, Size: e.Size,
				Annotations: map[string]string{ocispec.AnnotationTitle: e.Path, build.AnnotationTarDigest: e.TarDigest, build.AnnotationUnpack: "true"}})
		default:
			continue
		}
		push(layers[len(layers)-1], h.blobs[d])
	}
	m, err := json.Marshal(ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: build.MediaType,
		Config:       cfg,
		Layers:       layers,
		Annotations:  map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"},
	})
	require.NoError(t, err)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(m), Size: int64(len(m))}
	push(desc, m)
	return desc
}

// release stores a release to prod of the hostile build, signed by key,
// and returns the build's entries as the extractor takes them. A build
// that build.Load accepts is released with release.New; one it refuses
// gets a release made by hand: a signed release of a good build whose
// subject and record are then pointed at the hostile one, and signed
// again.
func (h *hostile) release(t *testing.T, dst graphTarget, key signature.Signer) {
	ctx := context.Background()
	desc := h.push(t, dst)
	c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"PORT": "8080"}}, config.Options{})
	require.NoError(t, err)
	if b, err := build.LoadDescriptor(ctx, dst, desc); err == nil {
		_, err := release.New(ctx, dst, b, c, release.Options{Created: at(1), Signer: key})
		require.NoError(t, err)
		return
	}
	good := newHostile().file("bin/server", "good")
	gb, err := build.LoadDescriptor(ctx, dst, good.push(t, dst))
	require.NoError(t, err)
	r, err := release.New(ctx, dst, gb, c, release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	var m ocispec.Manifest
	require.NoError(t, json.Unmarshal(r.Manifest(), &m))
	rec, _ := r.Record()
	old := fmt.Sprintf(`"digest":"%s","size":%d}`, gb.Digest(), len(gb.Manifest()))
	require.Contains(t, string(rec), old)
	rec = bytes.Replace(rec, []byte(old), fmt.Appendf(nil, `"digest":"%s","size":%d}`, desc.Digest, desc.Size), 1)
	f := &fixture{dst: dst}
	m.Subject = &ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	ref := f.repush(t, m, rec, "prod", "prod-v1")
	rd, err := dst.Resolve(ctx, ref)
	require.NoError(t, err)
	require.NoError(t, attest.Sign(ctx, dst, rd, key, attest.SignOptions{}))
	_, err = attest.Attest(ctx, dst, rd, attest.PredicateSLSAProvenance, nil, key, attest.SignOptions{})
	require.NoError(t, err)
}

// extractEntries is what the extractor would be given for h.
func (h *hostile) extractEntries() []extract.Entry {
	out := make([]extract.Entry, len(h.entries))
	for i, e := range h.entries {
		out[i] = extract.Entry{Path: e.Path, Kind: extract.Kind(e.Type), Mode: 0o644, Size: e.Size,
			Digest: digest.Digest(e.Digest), Target: e.Target, TarDigest: digest.Digest(e.TarDigest)}
	}
	return out
}

func (h *hostile) Open(_ context.Context, e extract.Entry) (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(h.blobs[e.Digest])), nil
}

// listTree lists everything under dir, slash paths, directories marked.
func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			if d.IsDir() {
				rel += "/"
			}
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	}))
	slices.Sort(out)
	return out
}

// TestOpenAttacks opens releases of hostile builds, each signed with the
// trusted key, so that only the loader or the extractor stands in the
// way. Each is refused; nothing exists outside the target afterwards and
// the target holds no file of the failed extraction. Where build.Load
// already refuses the record, the extractor is also given the same
// entries on its own, and refuses them too.
func TestOpenAttacks(t *testing.T) {
	outside := t.TempDir() // where an escape would write
	rows := []struct {
		name string
		make func(t *testing.T, target string) *hostile
		opts release.OpenOptions
		// loader: build.Load refuses the record, so verification fails
		// with ErrRecordMismatch wrapping this build error.
		loader error
		want   error  // the extractor's error
		where  string // the entry it names
	}{
		{name: "benign", make: func(t *testing.T, _ string) *hostile {
			return newHostile().file("bin/server", "good").tar(t, "static", tarOf(t, tarFile("static/index.html", "<h1>")))
		}},
		{name: "title ../x", loader: build.ErrInvalidPath, want: release.ErrUnsafePath, where: "../x",
			make: func(t *testing.T, _ string) *hostile { return newHostile().file("../x", "evil") }},
		{name: "absolute title", loader: build.ErrInvalidPath, want: release.ErrUnsafePath, where: outside + "/x",
			make: func(t *testing.T, _ string) *hostile { return newHostile().file(outside+"/x", "evil") }},
		{name: "link to /etc/passwd", loader: build.ErrLinkEscape, want: release.ErrUnsafeLink, where: "passwd",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().file("bin/server", "good").link("passwd", "/etc/passwd")
			}},
		{name: "link chain out", loader: build.ErrLinkEscape, want: release.ErrUnsafeLink, where: "a",
			make: func(t *testing.T, _ string) *hostile { return newHostile().link("a", "b").link("b", "../..") }},
		{name: "tar member ../x", want: release.ErrUnsafePath, where: "../x",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().file("bin/server", "good").tar(t, "static", tarOf(t, tarFile("static/a", "a"), tarFile("../x", "evil")))
			}},
		{name: "tar member over a file of the build", want: release.ErrUnsafePath, where: "bin/server",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().file("bin/server", "good").tar(t, "static", tarOf(t, tarFile("bin/server", "evil")))
			}},
		{name: "tar symlink out, then a member written through it", want: release.ErrUnsafeLink, where: "static/evil",
			make: func(t *testing.T, target string) *hostile {
				rel, err := filepath.Rel(filepath.Join(target, "static"), outside)
				require.NoError(t, err)
				return newHostile().tar(t, "static", tarOf(t,
					tarMember{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "static/evil", Linkname: rel, Mode: 0o777}},
					tarFile("static/evil/x", "evil")))
			}},
		{name: "tar hard link to /etc/passwd", want: release.ErrUnsafeLink, where: "static/passwd",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().tar(t, "static", tarOf(t, tarMember{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "static/passwd", Linkname: "/etc/passwd"}}))
			}},
		{name: "tar device", want: release.ErrUnsupportedEntry, where: "static/null",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().tar(t, "static", tarOf(t, tarMember{hdr: tar.Header{Typeflag: tar.TypeChar, Name: "static/null", Devmajor: 1, Devminor: 3, Mode: 0o666}}))
			}},
		{name: "tar setuid file", want: release.ErrUnsupportedEntry, where: "static/su",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().tar(t, "static", tarOf(t, tarMember{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "static/su", Mode: 0o4755, Size: 1}, data: "x"}))
			}},
		{name: "tar member shorter than declared", want: release.ErrDigestMismatch, where: "static/a",
			make: func(t *testing.T, _ string) *hostile {
				raw := tarOf(t, tarFile("static/a", "aaaaaaaa"))
				return newHostile().tar(t, "static", raw[:512+3]) // the header says 8 bytes; 3 follow
			}},
		{name: "100,000 tiny files", want: release.ErrLimit, where: fmt.Sprintf("static/f%06d", extract.DefaultMaxFiles-1),
			make: func(t *testing.T, _ string) *hostile {
				var raw bytes.Buffer
				tw := tar.NewWriter(&raw)
				require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "static/", Mode: 0o755}))
				for i := range 100_000 {
					require.NoError(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: fmt.Sprintf("static/f%06d", i), Mode: 0o644, Size: 1}))
					_, err := tw.Write([]byte("x"))
					require.NoError(t, err)
				}
				require.NoError(t, tw.Close())
				return newHostile().tar(t, "static", raw.Bytes())
			}},
		{name: "more files than MaxFiles", opts: release.OpenOptions{MaxFiles: 2}, want: release.ErrLimit, where: "static/b",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().tar(t, "static", tarOf(t, tarFile("static/a", "a"), tarFile("static/b", "b")))
			}},
		{name: "more bytes than MaxBytes", opts: release.OpenOptions{MaxBytes: 6}, want: release.ErrLimit, where: "static/b",
			make: func(t *testing.T, _ string) *hostile {
				return newHostile().file("bin/server", "good").tar(t, "static", tarOf(t, tarFile("static/a", "a"), tarFile("static/b", "bb")))
			}},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			box := t.TempDir()
			target := filepath.Join(box, "run")
			dst := memory.New()
			key := newKey(t)
			h := tc.make(t, target)
			h.release(t, dst, key)
			o, err := release.Open(ctx, dst, "prod", target, []signature.Verifier{key}, tc.opts)
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, []string{"bin/", "bin/server", "static/", "static/index.html"}, listTree(t, o.Dir()))
				return
			}
			require.Error(t, err)
			assert.Nil(t, o)
			if tc.loader != nil {
				var ve *release.VerifyError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, "release", ve.Check)
				assert.ErrorIs(t, err, release.ErrRecordMismatch)
				assert.ErrorIs(t, err, tc.loader)

				// The extractor, on its own, refuses the same entries.
				alone := filepath.Join(box, "alone")
				_, err = extract.Extract(ctx, alone, h.extractEntries(), h, extract.Options{})
				require.Error(t, err)
				assert.ErrorIs(t, err, tc.want)
				var xe *extract.Error
				require.ErrorAs(t, err, &xe)
				assert.Equal(t, tc.where, xe.Path)
			} else {
				assert.ErrorIs(t, err, tc.want)
				var xe *release.ExtractError
				require.ErrorAs(t, err, &xe)
				assert.Equal(t, tc.where, xe.Path)
			}
			assert.Empty(t, listTree(t, box), "no target left, nothing beside it")
			assert.Empty(t, listTree(t, outside), "nothing written outside")
		})
	}
}

// swapStore serves the bytes of one blob as stored to the first fetch,
// which verification makes, and other bytes to later fetches: a store
// that changes what it serves between verification and extraction.
type swapStore struct {
	*memory.Store
	target digest.Digest
	later  []byte
	after  int // fetches of target served right before later ones

	mu      sync.Mutex
	fetches int
}

func (s *swapStore) Fetch(ctx context.Context, desc ocispec.Descriptor) (io.ReadCloser, error) {
	if desc.Digest == s.target {
		s.mu.Lock()
		s.fetches++
		n := s.fetches
		s.mu.Unlock()
		if n > s.after {
			return io.NopCloser(bytes.NewReader(s.later)), nil
		}
	}
	return s.Store.Fetch(ctx, desc)
}

// TestOpenBytesThatDoNotMatch: a store serves other bytes for a file of a
// validly signed build. Verification leaves the build's files to the
// extractor, which reads each once and checks every byte it writes
// against the digest the signed build names.
func TestOpenBytesThatDoNotMatch(t *testing.T) {
	for name, tc := range map[string]struct {
		later func(good []byte) []byte
		path  string
	}{
		"other bytes, same size": {later: func(good []byte) []byte { return bytes.Repeat([]byte("X"), len(good)) }},
		"more bytes":             {later: func(good []byte) []byte { return append(bytes.Clone(good), "tail"...) }},
		"fewer bytes":            {later: func(good []byte) []byte { return good[:len(good)/2] }},
		"packed directory":       {later: func(good []byte) []byte { return bytes.Repeat([]byte{0x1f}, len(good)) }, path: "static"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			mem := memory.New()
			key := newKey(t)
			r := runApp(t, mem, key, appConfig)
			path := tc.path
			if path == "" {
				path = "bin/hello"
			}
			var layer ocispec.Descriptor
			for _, l := range r.Build().Layers() {
				if l.Annotations[ocispec.AnnotationTitle] == path {
					layer = l
				}
			}
			require.NotEmpty(t, layer.Digest)
			rc, err := r.Build().Open(ctx, mem, path)
			require.NoError(t, err)
			good, err := io.ReadAll(rc)
			require.NoError(t, err)
			rc.Close()
			src := &swapStore{Store: mem, target: layer.Digest, later: tc.later(good)}

			box := t.TempDir()
			target := filepath.Join(box, "run")
			_, err = release.Open(ctx, src, "prod", target, []signature.Verifier{key}, release.OpenOptions{Resolver: resolverOf(newSecret())})
			require.Error(t, err)
			assert.ErrorIs(t, err, release.ErrDigestMismatch)
			var xe *release.ExtractError
			require.ErrorAs(t, err, &xe)
			assert.Equal(t, path, xe.Path)
			assert.Equal(t, 1, src.fetches, "read once, by the extractor")
			assert.Empty(t, listTree(t, box), "no file of the failed extraction is left")
		})
	}
}
