package build_test

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/build"
)

// hiding is a read-only target that has lost one blob.
type hiding struct {
	oras.ReadOnlyTarget
	gone digest.Digest
}

func (h hiding) Fetch(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	if d.Digest == h.gone {
		return nil, errdef.ErrNotFound
	}
	return h.ReadOnlyTarget.Fetch(ctx, d)
}

func (h hiding) Exists(ctx context.Context, d ocispec.Descriptor) (bool, error) {
	if d.Digest == h.gone {
		return false, nil
	}
	return h.ReadOnlyTarget.Exists(ctx, d)
}

func pushJSON(t *testing.T, store *memory.Store, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return pushRaw(t, store, mediaType, data)
}

func pushRaw(t *testing.T, store *memory.Store, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	desc := content.NewDescriptorFromBytes(mediaType, data)
	if ok, _ := store.Exists(t.Context(), desc); !ok {
		require.NoError(t, store.Push(t.Context(), desc, strings.NewReader(string(data))))
	}
	return desc
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	demoTree.write(t, dir, false)
	store := memory.New()
	b, err := build.New(t.Context(), store, "shop", demoSpec(dir), build.Options{Tags: []string{"good"}})
	require.NoError(t, err)
	var good ocispec.Manifest
	require.NoError(t, json.Unmarshal(b.Manifest(), &good))
	rec, _ := b.Record()

	tampered := func(name string, edit func(m *ocispec.Manifest)) string {
		m := good
		m.Layers = append([]ocispec.Descriptor(nil), good.Layers...)
		m.Annotations = map[string]string{}
		for k, v := range good.Annotations {
			m.Annotations[k] = v
		}
		edit(&m)
		desc := pushJSON(t, store, ocispec.MediaTypeImageManifest, m)
		require.NoError(t, store.Tag(t.Context(), desc, name))
		return name
	}
	withRecord := func(name string, edit func(r map[string]any)) string {
		var r map[string]any
		require.NoError(t, json.Unmarshal(rec, &r))
		edit(r)
		cfg := pushJSON(t, store, build.MediaType, r)
		return tampered(name, func(m *ocispec.Manifest) { m.Config = cfg })
	}
	imgCfg := pushRaw(t, store, ocispec.MediaTypeImageConfig, []byte("{}"))

	cases := []struct {
		name string
		ref  string
		src  oras.ReadOnlyTarget
		is   error
	}{
		{"unknown major version", tampered("v2", func(m *ocispec.Manifest) {
			m.ArtifactType = "application/vnd.slipway.build.v2+json"
		}), store, build.ErrUnknownVersion},
		{"unknown major version in config", tampered("v2cfg", func(m *ocispec.Manifest) {
			m.ArtifactType = ""
			m.Config.MediaType = "application/vnd.slipway.build.v2+json"
		}), store, build.ErrUnknownVersion},
		{"plain image", tampered("image", func(m *ocispec.Manifest) {
			m.ArtifactType, m.Config = "", imgCfg
		}), store, build.ErrMediaType},
		{"other artifact", tampered("other", func(m *ocispec.Manifest) {
			m.ArtifactType = "application/vnd.example.thing+json"
		}), store, build.ErrMediaType},
		{"config media type differs", tampered("cfgtype", func(m *ocispec.Manifest) {
			m.Config.MediaType = "application/json"
		}), store, build.ErrMediaType},
		{"layer swapped", tampered("swapped", func(m *ocispec.Manifest) {
			m.Layers[0], m.Layers[1] = m.Layers[1], m.Layers[0]
		}), store, build.ErrRecordMismatch},
		{"layer dropped", tampered("dropped", func(m *ocispec.Manifest) {
			m.Layers = m.Layers[1:]
		}), store, build.ErrRecordMismatch},
		{"layer retitled", tampered("retitled", func(m *ocispec.Manifest) {
			m.Layers[0].Annotations = map[string]string{ocispec.AnnotationTitle: "../evil"}
		}), store, build.ErrRecordMismatch},
		{"created annotation differs", tampered("created", func(m *ocispec.Manifest) {
			m.Annotations[ocispec.AnnotationCreated] = "2030-01-01T00:00:00Z"
		}), store, build.ErrRecordMismatch},
		{"revision annotation differs", tampered("revision", func(m *ocispec.Manifest) {
			m.Annotations[ocispec.AnnotationRevision] = "deadbeef"
		}), store, build.ErrRecordMismatch},
		{"subject added", tampered("subject", func(m *ocispec.Manifest) {
			m.Subject = &good.Config
		}), store, build.ErrRecordMismatch},
		{"record with unknown field", withRecord("unknownfield", func(r map[string]any) { r["extra"] = true }), store, build.ErrInvalidRecord},
		{"record with bad path", withRecord("badpath", func(r map[string]any) {
			r["files"].([]any)[0].(map[string]any)["path"] = "../x"
		}), store, build.ErrInvalidRecord},
		{"record with bad app", withRecord("badapp", func(r map[string]any) { r["app"] = "Shop" }), store, build.ErrInvalidRecord},
		{"record with escaping link", withRecord("badlink", func(r map[string]any) {
			r["files"].([]any)[3].(map[string]any)["target"] = "../../etc/passwd"
		}), store, build.ErrInvalidRecord},
		{"record not canonical", tampered("notcanonical", func(m *ocispec.Manifest) {
			m.Config = pushRaw(t, store, build.MediaType, append([]byte(" "), rec...))
		}), store, build.ErrInvalidRecord},
		{"record claims other digest", tampered("otherdigest", func(m *ocispec.Manifest) {
			m.Config.Size++
		}), store, build.ErrMissingBlob},
		{"missing layer", "good", hiding{store, good.Layers[2].Digest}, build.ErrMissingBlob},
		{"missing record", "good", hiding{store, good.Config.Digest}, build.ErrMissingBlob},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build.Load(t.Context(), tc.src, tc.ref)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), "build: load "+tc.ref+"@sha256:")
		})
	}

	_, err = build.Load(t.Context(), store, "good")
	assert.NoError(t, err, "the untouched build still loads")
	_, err = build.Load(t.Context(), store, "nosuchtag")
	assert.ErrorIs(t, err, errdef.ErrNotFound)
}

func TestOpenVerifies(t *testing.T) {
	store := memory.New()
	b, err := build.New(t.Context(), store, "shop", build.Spec{Files: []build.File{{Name: "a", Reader: strings.NewReader("hello")}}}, build.Options{})
	require.NoError(t, err)
	evil := swapped{store, "hellx"}
	rc, err := b.Open(t.Context(), evil, "a")
	require.NoError(t, err)
	_, err = io.ReadAll(rc)
	assert.ErrorIs(t, err, content.ErrMismatchedDigest)
	_, err = b.Open(t.Context(), store, "nope")
	assert.ErrorIs(t, err, errdef.ErrNotFound)
}

// swapped serves other bytes of the same length for every blob.
type swapped struct {
	*memory.Store
	data string
}

func (s swapped) Fetch(context.Context, ocispec.Descriptor) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader(s.data)), nil
}
