package build

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"
)

// seedBuild makes a small build with a file, a link, a packed-directory-free
// tree and processes, for fuzz seeds.
func seedBuild(f *testing.F) *Build {
	f.Helper()
	b, err := New(f.Context(), memory.New(), "shop", Spec{
		Files: []File{
			{Name: "bin/server", Reader: strings.NewReader("#!/bin/sh\n"), Mode: 0o755},
			{Name: "bin/current", Linkname: "server"},
			{Name: "etc/app.toml", Reader: strings.NewReader("port = 8080\n")},
		},
		Source:    Source{Repository: "https://example.invalid/shop", Revision: "4f1c2e9", Dirty: true},
		Builder:   "ci",
		Processes: []Process{{Name: "web", Command: "bin/server"}, {Name: "migrate", Command: "bin/server migrate", Admin: true}},
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, Options{})
	require.NoError(f, err)
	return b
}

// seedEvidenceBuild is a build with a scan and a VEX document, so that
// seeds hold evidence and a summary.
func seedEvidenceBuild(f *testing.F) *Build {
	f.Helper()
	b, err := New(f.Context(), memory.New(), "shop", Spec{
		Files:   []File{{Name: "bin/server", Reader: strings.NewReader("#!/bin/sh\n"), Mode: 0o755}},
		Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		Scans:   []Scan{{Path: "../release/testdata/trivy.json"}},
		VEX:     []string{"../release/testdata/vex.json"},
		SBOM:    "../release/testdata/sbom.cdx.json",
	}, Options{})
	require.NoError(f, err)
	return b
}

// FuzzDecodeRecord: whatever decodes re-encodes to the identical bytes and
// decodes again to an equal record.
func FuzzDecodeRecord(f *testing.F) {
	rec, _ := seedBuild(f).Record()
	f.Add(rec)
	rec, _ = seedEvidenceBuild(f).Record()
	f.Add(rec)
	f.Add([]byte(`{"app":"a","created":"1970-01-01T00:00:00Z","image":{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}`))
	f.Add([]byte(`{"app":"a","created":"1970-01-01T00:00:00Z","files":[{"path":"x","type":"symlink","mode":"0777","target":"../y"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRecord(data)
		if err != nil {
			assert.ErrorIs(t, err, ErrInvalidRecord)
			return
		}
		again, err := r.encode()
		require.NoError(t, err)
		assert.Equal(t, data, again)
		r2, err := decodeRecord(again)
		require.NoError(t, err)
		assert.Equal(t, r, r2)
		for _, e := range r.Files {
			assert.NoError(t, checkPath(e.Path))
			if e.Type == TypeSymlink {
				assert.False(t, strings.HasPrefix(e.Target, "/"), "absolute link accepted: %q", e.Target)
			}
		}
	})
}

// FuzzParse: a manifest that parses as a build with its record describes
// exactly the layers the record calls for, and comes back unchanged. The
// record's own parser has FuzzDecodeRecord.
func FuzzParse(f *testing.F) {
	b := seedBuild(f)
	rec, _ := b.Record()
	f.Add(b.Manifest())
	f.Fuzz(func(t *testing.T, manifest []byte) {
		got, err := parse(manifest, rec)
		if err != nil {
			return
		}
		assert.Equal(t, manifest, got.Manifest())
		assert.Equal(t, layersOf(&got.rec), nonEmptyLayers(got.Layers()))
		assert.Equal(t, b.rec, got.rec)
	})
}

// nonEmptyLayers drops the empty layer an image-only build carries.
func nonEmptyLayers(ls []ocispec.Descriptor) []ocispec.Descriptor {
	if len(ls) == 1 && ls[0].Digest == ocispec.DescriptorEmptyJSON.Digest {
		return nil
	}
	return ls
}

// FuzzParseProcfile: what parses prints back as a Procfile that parses to
// the same processes.
func FuzzParseProcfile(f *testing.F) {
	f.Add([]byte("web: bin/server --port $PORT\n# comment\n\nworker:bin/worker\r\n"))
	f.Add([]byte("a: b\na: c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := ParseProcfile(bytes.NewReader(data))
		if err != nil {
			assert.True(t, strings.HasPrefix(err.Error(), "build: Procfile"), err.Error())
			return
		}
		var out bytes.Buffer
		for _, p := range ps {
			fmt.Fprintf(&out, "%s: %s\n", p.Name, p.Command)
		}
		again, err := ParseProcfile(&out)
		require.NoError(t, err)
		if len(ps) == 0 {
			assert.Empty(t, again)
			return
		}
		assert.Equal(t, ps, again)
	})
}
