package release

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/artifact"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fixture(t testing.TB) (*memory.Store, *build.Build, *config.Config) {
	t.Helper()
	dst := memory.New()
	b, err := build.New(context.Background(), dst, "shop", build.Spec{
		Files:     []build.File{{Name: "bin/server", Reader: strings.NewReader("server")}},
		Processes: []build.Process{{Name: "web", Command: "bin/server"}},
		Created:   t0,
	}, build.Options{})
	require.NoError(t, err)
	c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"PORT": "8080"}}, config.Options{})
	require.NoError(t, err)
	return dst, b, c
}

// forge stores a release of b and c with the record rec changed by edit,
// as a tool that does not follow the format could, and tags it.
func forge(t *testing.T, dst oras.Target, b *build.Build, c *config.Config, tag string, edit func(*record)) *Release {
	t.Helper()
	rec := record{
		App: b.App(), Environment: c.Environment(), Version: 1, Created: t0.Format(time.RFC3339),
		Build: toDescriptor(b.Descriptor()), Config: toDescriptor(c.Descriptor()), Processes: processesOf(b),
	}
	edit(&rec)
	recBytes, err := rec.encode()
	require.NoError(t, err)
	subject := rec.Build.oci()
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, ArtifactType: MediaType,
		Config:  ocispec.Descriptor{MediaType: MediaType, Digest: digest.FromBytes(recBytes), Size: int64(len(recBytes))},
		Layers:  []ocispec.Descriptor{configLayer(c.Descriptor())},
		Subject: &subject,
		Annotations: map[string]string{ocispec.AnnotationCreated: rec.Created,
			ocispec.AnnotationVersion: VersionTag(rec.Environment, rec.Version)},
	}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, artifact.PushBytes(ctx, dst, c.Descriptor(), c.Bytes()))
	require.NoError(t, artifact.PushBytes(ctx, dst, m.Config, recBytes))
	desc := descriptorOf(raw)
	require.NoError(t, artifact.PushBytes(ctx, dst, desc, raw))
	require.NoError(t, dst.Tag(ctx, desc, tag))
	r, err := parse(raw, recBytes)
	require.NoError(t, err)
	return r
}

func prevOf(r *Release) *descriptor {
	d := toDescriptor(r.desc)
	return &d
}

func TestHistoryLinks(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		setup   func(t *testing.T, dst oras.Target, b *build.Build, c *config.Config)
		want    error
		version int
	}{
		{"previous missing", func(t *testing.T, dst oras.Target, b *build.Build, c *config.Config) {
			forge(t, dst, b, c, "prod", func(r *record) {
				r.Version = 2
				r.Previous = &descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("gone"), Size: 300}
			})
		}, ErrBrokenChain, 2},
		{"versions skip", func(t *testing.T, dst oras.Target, b *build.Build, c *config.Config) {
			v1 := forge(t, dst, b, c, "prod-v1", func(r *record) {})
			forge(t, dst, b, c, "prod", func(r *record) { r.Version, r.Previous = 3, prevOf(v1) })
		}, ErrBrokenChain, 3},
		{"link to a newer release", func(t *testing.T, dst oras.Target, b *build.Build, c *config.Config) {
			v1 := forge(t, dst, b, c, "prod-v1", func(r *record) {})
			v3 := forge(t, dst, b, c, "prod-v3", func(r *record) { r.Version, r.Previous = 3, prevOf(v1) })
			forge(t, dst, b, c, "prod", func(r *record) { r.Version, r.Previous = 2, prevOf(v3) })
		}, ErrCycle, 2},
		{"link to the same version", func(t *testing.T, dst oras.Target, b *build.Build, c *config.Config) {
			v1 := forge(t, dst, b, c, "prod-v1", func(r *record) {})
			v2 := forge(t, dst, b, c, "prod-v2", func(r *record) { r.Version, r.Previous = 2, prevOf(v1) })
			forge(t, dst, b, c, "prod", func(r *record) { r.Version, r.Previous, r.Created = 2, prevOf(v2), "2026-01-02T00:00:00Z" })
		}, ErrCycle, 2},
		{"link to another environment", func(t *testing.T, dst oras.Target, b *build.Build, c *config.Config) {
			staging, err := config.New("shop", "staging", config.Spec{}, config.Options{})
			require.NoError(t, err)
			s1 := forge(t, dst, b, staging, "staging", func(r *record) {})
			forge(t, dst, b, c, "prod", func(r *record) { r.Version, r.Previous = 2, prevOf(s1) })
		}, ErrForeignLink, 2},
		{"link to a build", func(t *testing.T, dst oras.Target, b *build.Build, c *config.Config) {
			forge(t, dst, b, c, "prod", func(r *record) {
				r.Version, r.Previous = 2, &descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: b.Digest(), Size: b.Descriptor().Size}
			})
		}, ErrForeignLink, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst, b, c := fixture(t)
			tc.setup(t, dst, b, c)
			_, err := History(ctx, dst, "prod", HistoryOptions{})
			require.ErrorIs(t, err, tc.want)
			var le *LedgerError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tc.version, le.Version)
			assert.Equal(t, "shop", le.App)
			assert.Equal(t, "prod", le.Environment)
			assert.Contains(t, err.Error(), fmt.Sprintf("prod v%d", tc.version))
		})
	}
}

// TestNewRefusesBadLedger: a head tag re-pointed at something that is not a
// release of the ledger, and a version tag that does not follow the head,
// stop a publisher before it stores anything on the ledger.
func TestNewRefusesBadLedger(t *testing.T) {
	ctx := t.Context()
	t.Run("head is a build", func(t *testing.T) {
		dst, b, c := fixture(t)
		require.NoError(t, dst.Tag(ctx, b.Descriptor(), "prod"))
		_, err := New(ctx, dst, b, c, Options{})
		assert.ErrorIs(t, err, ErrForeignLink)
	})
	t.Run("head is another environment", func(t *testing.T) {
		dst, b, c := fixture(t)
		staging, err := config.New("shop", "staging", config.Spec{}, config.Options{})
		require.NoError(t, err)
		forge(t, dst, b, staging, "prod", func(r *record) {})
		_, err = New(ctx, dst, b, c, Options{})
		assert.ErrorIs(t, err, ErrForeignLink)
	})
	t.Run("next version does not follow the head", func(t *testing.T) {
		dst, b, c := fixture(t)
		r1, err := New(ctx, dst, b, c, Options{Created: t0})
		require.NoError(t, err)
		other := forge(t, dst, b, c, "prod-v1-other", func(r *record) { r.Created = "2026-03-01T00:00:00Z" })
		forge(t, dst, b, c, "prod-v2", func(r *record) { r.Version, r.Previous = 2, prevOf(other) })
		_, err = New(ctx, dst, b, c, Options{})
		assert.ErrorIs(t, err, ErrBrokenChain)
		head, err := Load(ctx, dst, "prod")
		require.NoError(t, err)
		assert.Equal(t, r1.Digest(), head.Digest(), "the head did not move")
	})
}

// TestInterruptedPublisher: a publisher stopped after it locked a round,
// or after it proposed its release, delays the next publisher by at most
// Options.Wait, and a proposal is completed rather than lost.
func TestInterruptedPublisher(t *testing.T) {
	ctx := t.Context()
	t.Run("locked, then stopped", func(t *testing.T) {
		dst, b, c := fixture(t)
		l := &ledger{app: "shop", env: "prod"}
		require.NoError(t, pushEmpty(ctx, dst))
		require.NoError(t, dst.Push(ctx, l.lock(1, 0), bytesReader(l.lockBytes(1, 0))))
		r, err := New(ctx, dst, b, c, Options{Created: t0, Wait: 20 * time.Millisecond})
		require.NoError(t, err)
		assert.Equal(t, 1, r.Version())
		got, err := dst.Resolve(ctx, RoundTag("prod", 1, 1))
		require.NoError(t, err)
		assert.Equal(t, r.Digest(), got.Digest, "round 1 took version 1 over")
	})
	t.Run("proposed, then stopped", func(t *testing.T) {
		dst, b, c := fixture(t)
		l := &ledger{app: "shop", env: "prod"}
		require.NoError(t, pushEmpty(ctx, dst))
		require.NoError(t, dst.Push(ctx, l.lock(1, 0), bytesReader(l.lockBytes(1, 0))))
		stopped := forge(t, dst, b, c, RoundTag("prod", 1, 0), func(r *record) { r.Created = "2026-02-01T00:00:00Z" })

		_, err := New(ctx, dst, b, c, Options{Created: t0, Wait: 20 * time.Millisecond})
		require.ErrorIs(t, err, ErrConflict, "version 1 goes to the proposal")
		head, err := Load(ctx, dst, "prod")
		require.NoError(t, err)
		assert.Equal(t, stopped.Digest(), head.Digest())

		r, err := New(ctx, dst, b, c, Options{Created: t0})
		require.NoError(t, err)
		assert.Equal(t, 2, r.Version())
		prev, _ := r.Previous()
		assert.Equal(t, stopped.Digest(), prev.Digest)
	})
	t.Run("head left behind", func(t *testing.T) {
		dst, b, c := fixture(t)
		r1, err := New(ctx, dst, b, c, Options{Created: t0})
		require.NoError(t, err)
		r2 := forge(t, dst, b, c, "prod-v2", func(r *record) { r.Version, r.Previous = 2, prevOf(r1) })
		r3, err := New(ctx, dst, b, c, Options{Created: t0})
		require.NoError(t, err)
		assert.Equal(t, 3, r3.Version())
		prev, _ := r3.Previous()
		assert.Equal(t, r2.Digest(), prev.Digest)
	})
}
