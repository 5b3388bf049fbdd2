package release_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/release"
)

// TestConcurrentPublishers has 8 publishers add a release each to one
// ledger at the same time, retrying on ErrConflict: every release lands,
// once, and the chain holds all of them in versions 1 to 8.
func TestConcurrentPublishers(t *testing.T) {
	const publishers = 8
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t)
			b := newBuild(t, dst, "shop", "v1")
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				landed    = map[digest.Digest]int{}
				conflicts int
				failures  []error
			)
			start := make(chan struct{})
			for i := range publishers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := newConfig(t, "shop", "prod", fmt.Sprintf("level-%d", i))
					<-start
					for attempt := 0; attempt < 200; attempt++ {
						r, err := release.New(ctx, dst, b, c, release.Options{Created: at(i), Wait: 200 * time.Millisecond})
						mu.Lock()
						switch {
						case err == nil:
							landed[r.Digest()] = r.Version()
							mu.Unlock()
							return
						case errors.Is(err, release.ErrConflict):
							conflicts++
							mu.Unlock()
							time.Sleep(time.Duration(rand.IntN(5000)) * time.Microsecond)
						default:
							failures = append(failures, err)
							mu.Unlock()
							return
						}
					}
					mu.Lock()
					failures = append(failures, fmt.Errorf("publisher %d: no landing in 200 attempts", i))
					mu.Unlock()
				}()
			}
			close(start)
			wg.Wait()
			require.Empty(t, failures)
			t.Logf("%d releases landed after %d conflicts", len(landed), conflicts)
			require.Len(t, landed, publishers)

			hist, err := release.History(ctx, dst, "prod", release.HistoryOptions{})
			require.NoError(t, err)
			require.Len(t, hist, publishers)
			for i, e := range hist {
				assert.Equal(t, publishers-i, e.Version, "entry %d", i)
				v, ok := landed[e.Descriptor.Digest]
				assert.True(t, ok, "v%d (%s) is a release no publisher was told landed", e.Version, e.Descriptor.Digest)
				assert.Equal(t, e.Version, v, "v%d reported as version %d", e.Version, v)
			}
			for n := 1; n <= publishers; n++ {
				r, err := release.Load(ctx, dst, release.VersionTag("prod", n))
				require.NoError(t, err)
				assert.Equal(t, n, r.Version())
			}
		})
	}
}

// TestConcurrentSingleAttempt has 8 publishers try once each: each either
// lands or gets ErrConflict, and the ledger holds exactly those that
// landed, with no gap and no fork.
func TestConcurrentSingleAttempt(t *testing.T) {
	const publishers = 8
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t)
			b := newBuild(t, dst, "shop", "v1")
			results := make([]error, publishers)
			landed := make([]*release.Release, publishers)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range publishers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := newConfig(t, "shop", "prod", fmt.Sprintf("level-%d", i))
					<-start
					landed[i], results[i] = release.New(ctx, dst, b, c, release.Options{Created: at(i), Wait: 200 * time.Millisecond})
				}()
			}
			close(start)
			wg.Wait()
			want := map[digest.Digest]bool{}
			for i, err := range results {
				if err != nil {
					assert.ErrorIs(t, err, release.ErrConflict, "publisher %d", i)
					continue
				}
				want[landed[i].Digest()] = true
			}
			hist, err := release.History(ctx, dst, "prod", release.HistoryOptions{})
			if len(want) == 0 {
				assert.Error(t, err, "nothing landed, so there is no head")
				return
			}
			require.NoError(t, err)
			got := map[digest.Digest]bool{}
			for i, e := range hist {
				assert.Equal(t, len(hist)-i, e.Version)
				got[e.Descriptor.Digest] = true
			}
			assert.Equal(t, want, got)
		})
	}
}
