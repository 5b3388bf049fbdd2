package release_test

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"github.com/slipway-dev/slipway/release"
)

func TestLedgerEveryStore(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t)
			b1 := newBuild(t, dst, "shop", "v1")
			b2 := newBuild(t, dst, "shop", "v2")

			r1, err := release.New(ctx, dst, b1, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
			require.NoError(t, err)
			assert.Equal(t, 1, r1.Version())
			assert.Equal(t, "prod-v1", r1.Tag())
			_, hasPrev := r1.Previous()
			assert.False(t, hasPrev)

			r2, err := release.New(ctx, dst, b2, newConfig(t, "shop", "prod", "debug"), release.Options{Created: at(2)})
			require.NoError(t, err)
			assert.Equal(t, 2, r2.Version())
			prev, ok := r2.Previous()
			require.True(t, ok)
			assert.Equal(t, r1.Digest(), prev.Digest)

			head, err := release.Load(ctx, dst, "prod")
			require.NoError(t, err)
			assert.Equal(t, r2.Digest(), head.Digest())
			assert.Equal(t, b2.Digest(), head.Build().Digest())
			assert.Equal(t, r2.Config().Digest(), head.Config().Digest())
			assert.Equal(t, b2.Processes(), head.Processes())

			v1, err := release.Load(ctx, dst, "prod-v1")
			require.NoError(t, err)
			assert.Equal(t, r1.Digest(), v1.Digest())

			r3, err := release.Rollback(ctx, dst, "prod", 1, release.Options{Created: at(3)})
			require.NoError(t, err)
			assert.Equal(t, 3, r3.Version())
			assert.Equal(t, 1, r3.RollbackOf())
			assert.Equal(t, b1.Digest(), r3.Build().Digest())
			assert.Equal(t, r1.Config().Digest(), r3.Config().Digest())

			hist, err := release.History(ctx, dst, "prod", release.HistoryOptions{})
			require.NoError(t, err)
			require.Len(t, hist, 3)
			for i, want := range []*release.Release{r3, r2, r1} {
				assert.Equal(t, want.Version(), hist[i].Version)
				assert.Equal(t, want.Digest(), hist[i].Descriptor.Digest)
				assert.Equal(t, want.Build().Digest(), hist[i].Build.Digest)
				assert.Equal(t, want.Created(), hist[i].Created)
			}
			assert.Equal(t, 1, hist[0].Rollback)

			_, err = release.Rollback(ctx, dst, "prod", 7, release.Options{})
			assert.ErrorIs(t, err, release.ErrNoVersion)

			// Every release is listed as a referrer of its build.
			refs, err := registry.Referrers(ctx, dst.(content.ReadOnlyGraphStorage), b1.Descriptor(), release.MediaType)
			require.NoError(t, err)
			var got []digest.Digest
			for _, d := range refs {
				got = append(got, d.Digest)
			}
			assert.ElementsMatch(t, []digest.Digest{r1.Digest(), r3.Digest()}, got)
		})
	}
}

func TestRefusedBeforeStoring(t *testing.T) {
	ctx := t.Context()
	src := stores(t)[0].open(t)
	b := newBuild(t, src, "shop", "v1")
	dst := stores(t)[0].open(t)

	_, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{})
	assert.ErrorIs(t, err, release.ErrMissingBuild)

	_, err = release.New(ctx, src, b, newConfig(t, "cart", "prod", "info"), release.Options{})
	assert.ErrorIs(t, err, release.ErrAppMismatch)
	_, err = release.Load(ctx, src, "prod")
	assert.Error(t, err)
	assert.False(t, errors.Is(err, release.ErrConflict))
}
