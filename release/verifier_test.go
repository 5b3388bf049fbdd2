package release_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// clock is a fake clock for a Verifier, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// verifierStore is a store to publish into (dst) and the same store as a
// Verifier reads it (src), with the HTTP requests src made when it is a
// registry.
type verifierStore struct {
	name     string
	dst, src graphTarget
	requests func() int64 // nil for stores that are not registries
	// down, when set, makes every request of src fail as if the registry
	// could not be reached.
	down *atomic.Bool
}

// failingTransport counts requests and fails them while down is set.
type failingTransport struct {
	countingTransport
	down *atomic.Bool
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if f.down.Load() {
		f.n.Add(1)
		return nil, errors.New("connection refused (test)")
	}
	return f.countingTransport.RoundTrip(r)
}

// verifierStores returns every kind of store: memory, an OCI layout and
// each test registry.
func verifierStores(t *testing.T) []func(t *testing.T) verifierStore {
	out := []func(t *testing.T) verifierStore{
		func(t *testing.T) verifierStore {
			m := memory.New()
			return verifierStore{name: "memory", dst: m, src: m}
		},
		func(t *testing.T) verifierStore {
			l, err := build.OpenLayout(t.Context(), t.TempDir())
			require.NoError(t, err)
			return verifierStore{name: "layout", dst: l, src: l}
		},
	}
	for _, reg := range registrytest.All(t) {
		out = append(out, func(t *testing.T) verifierStore { return registryStore(t, reg) })
	}
	return out
}

func registryStore(t testing.TB, reg *registrytest.Registry) verifierStore {
	src := reg.Repository(t, "acme/shop")
	ft := &failingTransport{countingTransport: countingTransport{rt: http.DefaultTransport}, down: &atomic.Bool{}}
	src.Client = &http.Client{Transport: ft}
	return verifierStore{name: reg.Name, dst: reg.Repository(t, "acme/shop"), src: src, requests: ft.n.Load, down: ft.down}
}

// eachStore runs f for every kind of store in a subtest.
func eachStore(t *testing.T, f func(t *testing.T, s verifierStore)) {
	for _, open := range verifierStores(t) {
		s := open(t)
		t.Run(s.name, func(t *testing.T) { f(t, s) })
	}
}

func newVerifier(t testing.TB, src oras.ReadOnlyGraphTarget, key signature.Verifier, opts release.VerifierOptions) *release.Verifier {
	t.Helper()
	v, err := release.NewVerifier(src, []signature.Verifier{key}, opts)
	require.NoError(t, err)
	return v
}

// noRequests asserts that f reads nothing from the registry of s.
func noRequests(t *testing.T, s verifierStore, f func()) {
	t.Helper()
	if s.requests == nil {
		f()
		return
	}
	before := s.requests()
	f()
	assert.Equal(t, before, s.requests(), "requests to the registry")
}

func TestVerifierMatchesVerify(t *testing.T) {
	eachStore(t, func(t *testing.T, s verifierStore) {
		ctx := t.Context()
		key := newKey(t)
		_, err := release.New(ctx, s.dst, newEvidenceBuild(t, s.dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
		require.NoError(t, err)
		clk := newClock(at(2))
		for _, tc := range []struct{ name, policy string }{
			{"go", `{"maxOpen":{"critical":1},"requireSBOM":true}`},
			{"no-go", `{"maxOpen":{"critical":0},"maxBuildAge":"1h"}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				pol := mustPolicy(t, tc.policy)
				want, wantErr := release.Verify(ctx, s.src, "prod", []signature.Verifier{key}, release.VerifyOptions{Policy: pol, Now: clk.Now()})
				v := newVerifier(t, s.src, key, release.VerifierOptions{Policy: pol, Now: clk.Now})

				got, err := v.Decide(ctx, "prod")
				require.NotNil(t, got)
				assert.Equal(t, want.Decision, got, "the decision Verify makes")
				assert.Equal(t, tc.name == "go", got.Go())
				if wantErr == nil {
					assert.NoError(t, err)
				} else {
					assert.ErrorIs(t, err, release.ErrNoGo)
					var ve *release.VerifyError
					require.ErrorAs(t, err, &ve)
					assert.Equal(t, "policy", ve.Check)
					var ng *release.NoGoError
					require.ErrorAs(t, err, &ng)
					assert.Same(t, got, ng.Decision, "the error holds the decision returned")
					assert.Equal(t, wantErr.Error(), err.Error())
				}

				var again *release.Decision
				noRequests(t, s, func() { again, _ = v.Decide(ctx, "prod") })
				assert.Equal(t, got, again)
				assert.NotSame(t, got, again, "each call gets its own copy")
				got.Findings = append(got.Findings, release.Finding{Rule: "mine"})
				if len(again.Findings) > 0 {
					again.Findings[0].Message = "changed by a caller"
				}
				third, _ := v.Decide(ctx, "prod")
				assert.Equal(t, want.Decision, third, "what a caller does to its copy changes nothing")
				assert.Equal(t, release.VerifierStats{Hits: 2, Misses: 1, Entries: 1}, v.Stats())
			})
		}
	})
}

// TestVerifierNewEvidence attaches a VEX statement, then a new scan, to a
// release decided no-go: each is noticed at the first check after the
// TTL, not before.
func TestVerifierNewEvidence(t *testing.T) {
	eachStore(t, func(t *testing.T, s verifierStore) {
		ctx := t.Context()
		key := newKey(t)
		r, err := release.New(ctx, s.dst, newEvidenceBuild(t, s.dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
		require.NoError(t, err)
		clk := newClock(at(2))
		v := newVerifier(t, s.src, key, release.VerifierOptions{Policy: mustPolicy(t, `{"maxOpen":{"critical":0}}`), TTL: time.Minute, Now: clk.Now})

		d, err := v.Decide(ctx, "prod")
		require.ErrorIs(t, err, release.ErrNoGo)
		assert.Equal(t, []string{"CVE-2026-1111"}, d.Findings[0].Evidence)
		assert.Equal(t, at(2), d.Time)

		_, err = attest.Attest(ctx, s.dst, r.Descriptor(), attest.PredicateOpenVEX, json.RawMessage(vexCritical), key, attest.SignOptions{})
		require.NoError(t, err)
		clk.Add(59 * time.Second)
		noRequests(t, s, func() { d, err = v.Decide(ctx, "prod") })
		assert.ErrorIs(t, err, release.ErrNoGo, "within the TTL: the decision kept")
		assert.Equal(t, at(2), d.Time, "the time of the evaluation that made it")

		clk.Add(2 * time.Second)
		d, err = v.Decide(ctx, "prod")
		require.NoError(t, err, "after the TTL: the VEX statement counts")
		assert.True(t, d.Go())
		assert.Equal(t, at(2).Add(61*time.Second), d.Time)
		assert.Len(t, d.Evidence, 4, "the VEX document attached later is evidence of the decision")
		assert.Equal(t, uint64(2), v.Stats().Misses)

		clk.Add(time.Minute)
		d, err = v.Decide(ctx, "prod")
		require.NoError(t, err)
		assert.True(t, d.Go())
		assert.Equal(t, release.VerifierStats{Hits: 1, Misses: 2, Rechecks: 1, Entries: 1}, v.Stats(), "nothing new: judged again, not verified")

		_, err = attest.Attest(ctx, s.dst, r.Descriptor(), attest.PredicateVuln, json.RawMessage(scanNewCritical), key, attest.SignOptions{})
		require.NoError(t, err)
		_, err = v.Decide(ctx, "prod")
		require.NoError(t, err, "within the TTL: still go")
		clk.Add(time.Minute)
		d, err = v.Decide(ctx, "prod")
		require.ErrorIs(t, err, release.ErrNoGo, "the new scan's critical finding")
		assert.Equal(t, []string{"CVE-2026-9999"}, d.Findings[0].Evidence)
		assert.Equal(t, uint64(3), v.Stats().Misses)
	})
}

// TestVerifierTagMoved: a head tag moved to a new release is noticed after
// the TTL, and one moved back to an older release is refused, though that
// release was go when it was the head.
func TestVerifierTagMoved(t *testing.T) {
	eachStore(t, func(t *testing.T, s verifierStore) {
		ctx := t.Context()
		key := newKey(t)
		b := newBuild(t, s.dst, "shop", "v1")
		r1, err := release.New(ctx, s.dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
		require.NoError(t, err)
		clk := newClock(at(2))
		v := newVerifier(t, s.src, key, release.VerifierOptions{TTL: time.Minute, Now: clk.Now})

		d, err := v.Decide(ctx, "prod")
		require.NoError(t, err)
		assert.Equal(t, r1.Digest(), d.Release.Digest)
		assert.Equal(t, 1, d.Release.Version)

		r2, err := release.New(ctx, s.dst, b, newConfig(t, "shop", "prod", "debug"), release.Options{Created: at(2), Signer: key})
		require.NoError(t, err)
		d, err = v.Decide(ctx, "prod")
		require.NoError(t, err)
		assert.Equal(t, r1.Digest(), d.Release.Digest, "within the TTL: the tag as it was")

		clk.Add(time.Minute)
		d, err = v.Decide(ctx, "prod")
		require.NoError(t, err)
		assert.Equal(t, r2.Digest(), d.Release.Digest, "after the TTL: the tag moved")

		// The head moved back to version 1.
		require.NoError(t, s.dst.Tag(ctx, r1.Descriptor(), "prod"))
		clk.Add(time.Minute)
		d, err = v.Decide(ctx, "prod")
		require.ErrorIs(t, err, release.ErrNotHead)
		require.NotNil(t, d)
		assert.False(t, d.Go())
		assert.Equal(t, r1.Digest(), d.Release.Digest)
		require.Len(t, d.Findings, 1)
		assert.Equal(t, "verification", d.Findings[0].Rule)
		assert.True(t, d.Findings[0].Blocking)
		assert.Equal(t, err.Error(), d.Findings[0].Message)
		assert.Equal(t, uint64(3), v.Stats().Misses)
	})
}

func TestVerifierEvicts(t *testing.T) {
	ctx := t.Context()
	s := registryStore(t, registrytest.New(t, true))
	key := newKey(t)
	b := newBuild(t, s.dst, "shop", "v1")
	for i, level := range []string{"info", "debug", "warn"} {
		_, err := release.New(ctx, s.dst, b, newConfig(t, "shop", "prod", level), release.Options{Created: at(i), Signer: key})
		require.NoError(t, err)
	}
	v := newVerifier(t, s.src, key, release.VerifierOptions{Size: 2})
	for _, ref := range []string{"prod-v1", "prod-v2", "prod-v3"} {
		d, err := v.Decide(ctx, ref)
		require.NoError(t, err)
		assert.Equal(t, ref, fmt.Sprintf("prod-v%d", d.Release.Version))
	}
	assert.Equal(t, release.VerifierStats{Misses: 3, Evictions: 1, Entries: 2}, v.Stats())

	// prod-v1, the least recently used, was dropped; prod-v3 was kept.
	noRequests(t, s, func() {
		_, err := v.Decide(ctx, "prod-v3")
		require.NoError(t, err)
	})
	_, err := v.Decide(ctx, "prod-v1")
	require.NoError(t, err)
	assert.Equal(t, release.VerifierStats{Hits: 1, Misses: 4, Evictions: 2, Entries: 2}, v.Stats(), "prod-v2 made way for prod-v1")
}

// TestVerifierCachesFailures keeps a failed verification like a decision
// until the evidence changes.
func TestVerifierCachesFailures(t *testing.T) {
	eachStore(t, func(t *testing.T, s verifierStore) {
		ctx := t.Context()
		key, other := newKey(t), newKey(t)
		r, err := release.New(ctx, s.dst, newBuild(t, s.dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
		require.NoError(t, err)
		clk := newClock(at(2))
		v := newVerifier(t, s.src, key, release.VerifierOptions{TTL: time.Minute, Now: clk.Now})

		check := func(kind error) {
			t.Helper()
			d, err := v.Decide(ctx, "prod")
			require.ErrorIs(t, err, kind)
			var ve *release.VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "signature", ve.Check)
			require.NotNil(t, d)
			assert.False(t, d.Go())
			assert.Equal(t, []release.Finding{{Rule: "verification", Message: err.Error(), Blocking: true}}, d.Findings)
			assert.Equal(t, r.Digest(), d.Release.Digest)
			assert.Equal(t, clk.Now().UTC(), d.Time)
		}
		check(release.ErrNotSigned)
		noRequests(t, s, func() { check(release.ErrNotSigned) })
		clk.Add(time.Minute)
		check(release.ErrNotSigned)
		assert.Equal(t, release.VerifierStats{Hits: 1, Misses: 1, Rechecks: 1, Entries: 1}, v.Stats(), "a failure stands while the evidence does")

		// Signed by a key that is not trusted: new evidence, verified again.
		require.NoError(t, release.Sign(ctx, s.dst, r, other, release.SignOptions{}))
		clk.Add(time.Minute)
		check(release.ErrUntrustedKey)
		assert.Equal(t, uint64(2), v.Stats().Misses)

		// Signed by the trusted key: go.
		require.NoError(t, release.Sign(ctx, s.dst, r, key, release.SignOptions{}))
		clk.Add(time.Minute)
		d, err := v.Decide(ctx, "prod")
		require.NoError(t, err)
		assert.True(t, d.Go())
	})
}

// TestVerifierDoesNotCacheErrors: a canceled context, an unreachable
// registry or a missing ref give no decision and are not kept.
func TestVerifierDoesNotCacheErrors(t *testing.T) {
	ctx := t.Context()
	s := registryStore(t, registrytest.New(t, false))
	key := newKey(t)
	_, err := release.New(ctx, s.dst, newBuild(t, s.dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	clk := newClock(at(2))
	v := newVerifier(t, s.src, key, release.VerifierOptions{TTL: time.Minute, Now: clk.Now})

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	d, err := v.Decide(canceled, "prod")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, d)
	assert.False(t, d.Go(), "no decision is not go")

	s.down.Store(true)
	d, err = v.Decide(ctx, "prod")
	require.Error(t, err)
	assert.Nil(t, d)
	assert.NotErrorIs(t, err, release.ErrNoGo)
	assert.Equal(t, 0, v.Stats().Entries, "nothing kept")

	s.down.Store(false)
	d, err = v.Decide(ctx, "prod")
	require.NoError(t, err, "tried again, not answered from memory")
	assert.True(t, d.Go())

	// Down after the TTL: no stale answer, and the decision kept is used
	// again once the registry is back.
	clk.Add(time.Minute)
	s.down.Store(true)
	d, err = v.Decide(ctx, "prod")
	require.Error(t, err)
	assert.Nil(t, d)
	s.down.Store(false)
	d, err = v.Decide(ctx, "prod")
	require.NoError(t, err)
	assert.True(t, d.Go())
	st := v.Stats()
	st.Shared = 0 // a call may have joined the canceled call's check before it ended
	assert.Equal(t, release.VerifierStats{Misses: 1, Rechecks: 1, Entries: 1}, st)

	// A ref that does not exist yet.
	d, err = v.Decide(ctx, "staging")
	assert.ErrorIs(t, err, errdef.ErrNotFound)
	assert.Nil(t, d)
	_, err = release.New(ctx, s.dst, newBuild(t, s.dst, "shop", "v1"), newConfig(t, "shop", "staging", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	d, err = v.Decide(ctx, "staging")
	require.NoError(t, err)
	assert.Equal(t, "staging", d.Release.Environment)
}

// TestVerifierExceptionExpires: an exception that expires turns go into
// no-go at the next check, with no new evidence and no verification.
func TestVerifierExceptionExpires(t *testing.T) {
	eachStore(t, func(t *testing.T, s verifierStore) {
		ctx := t.Context()
		key := newKey(t)
		_, err := release.New(ctx, s.dst, newEvidenceBuild(t, s.dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
		require.NoError(t, err)
		clk := newClock(time.Date(2026, 1, 10, 23, 59, 0, 0, time.UTC))
		pol := mustPolicy(t, `{"maxOpen":{"critical":0},"allow":[{"id":"CVE-2026-1111","expires":"2026-01-10","reason":"not reachable"}]}`)
		v := newVerifier(t, s.src, key, release.VerifierOptions{Policy: pol, TTL: 30 * time.Second, Now: clk.Now})

		d, err := v.Decide(ctx, "prod")
		require.NoError(t, err)
		assert.True(t, d.Go())

		clk.Add(2 * time.Minute) // 2026-01-11 00:01
		var before int64
		if s.requests != nil {
			before = s.requests()
		}
		d, err = v.Decide(ctx, "prod")
		require.ErrorIs(t, err, release.ErrNoGo)
		assert.Equal(t, []string{"maxOpen"}, rules(d))
		assert.Equal(t, time.Date(2026, 1, 11, 0, 1, 0, 0, time.UTC), d.Time)
		assert.Equal(t, release.VerifierStats{Misses: 1, Rechecks: 1, Entries: 1}, v.Stats(), "judged again, not verified")
		if s.requests != nil {
			assert.LessOrEqual(t, s.requests()-before, int64(6), "a check reads the tag and the listings only")
		}
	})
}

// TestVerifierRecordedDecision: with decision keys, a release the policy
// turns go with time is verified again, for the recorded decisions the
// policy's no-go had not needed.
func TestVerifierRecordedDecision(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key, gate := newKey(t), newKey(t)
	_, err := release.New(ctx, dst, newBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	clk := newClock(at(2))
	pol := mustPolicy(t, `{"rules":[{"name":"freeze","expr":"now >= timestamp('2026-01-05T00:00:00Z')","message":"deploys are frozen until 5 January"}]}`)
	v := newVerifier(t, dst, key, release.VerifierOptions{Policy: pol, Now: clk.Now, Verify: release.VerifyOptions{DecisionKeys: []signature.Verifier{gate}}})

	d, err := v.Decide(ctx, "prod")
	require.ErrorIs(t, err, release.ErrNoGo)
	assert.Equal(t, []string{"freeze"}, rules(d))

	clk.Add(5 * 24 * time.Hour)
	d, err = v.Decide(ctx, "prod")
	assert.ErrorIs(t, err, release.ErrNoDecision, "the policy says go now, but the gate recorded nothing")
	assert.False(t, d.Go())
	assert.Equal(t, uint64(2), v.Stats().Misses)
}

// TestVerifierConcurrent decides two refs from 16 goroutines at once,
// under -race: every answer is right, and each ref is verified once.
func TestVerifierConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, s verifierStore) {
		ctx := t.Context()
		key := newKey(t)
		b := newBuild(t, s.dst, "shop", "v1")
		for _, env := range []string{"prod", "staging"} {
			_, err := release.New(ctx, s.dst, b, newConfig(t, "shop", env, "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
		}
		v := newVerifier(t, s.src, key, release.VerifierOptions{Policy: mustPolicy(t, `{"environments":["prod"]}`)})
		want := map[string]bool{"prod": true, "staging": false, "prod-v1": true, "staging-v1": false}
		refs := []string{"prod", "staging", "prod-v1", "staging-v1"}

		const goroutines, each = 16, 25
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*each)
		for g := range goroutines {
			wg.Go(func() {
				<-start
				for i := range each {
					ref := refs[(g+i)%len(refs)]
					d, err := v.Decide(ctx, ref)
					switch {
					case d == nil:
						errs <- fmt.Errorf("%s: no decision: %v", ref, err)
					case d.Go() != want[ref] || (err == nil) != want[ref]:
						errs <- fmt.Errorf("%s: verdict %s, error %v", ref, d.Verdict, err)
					case !want[ref] && !errors.Is(err, release.ErrNoGo):
						errs <- fmt.Errorf("%s: error %v does not wrap ErrNoGo", ref, err)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		st := v.Stats()
		assert.Equal(t, uint64(len(refs)), st.Misses, "one verification per ref: %+v", st)
		assert.Equal(t, uint64(goroutines*each), st.Hits+st.Misses+st.Rechecks+st.Shared, "each call counts once: %+v", st)
		assert.Zero(t, st.Rechecks)
	})
}

func TestNewVerifierErrors(t *testing.T) {
	key := newKey(t)
	src := memory.New()
	for _, tc := range []struct {
		name    string
		trusted []signature.Verifier
		opts    release.VerifierOptions
		want    string
	}{
		{"no keys", nil, release.VerifierOptions{}, "no trusted keys"},
		{"nil key", []signature.Verifier{nil}, release.VerifierOptions{}, "key 0 is nil"},
		{"negative size", []signature.Verifier{key}, release.VerifierOptions{Size: -1}, "VerifierOptions.Size"},
		{"negative ttl", []signature.Verifier{key}, release.VerifierOptions{TTL: -time.Second}, "VerifierOptions.TTL"},
		{"policy in Verify", []signature.Verifier{key}, release.VerifierOptions{Verify: release.VerifyOptions{Policy: mustPolicy(t, `{}`)}}, "VerifierOptions.Verify.Policy"},
		{"now in Verify", []signature.Verifier{key}, release.VerifierOptions{Verify: release.VerifyOptions{Now: at(1)}}, "VerifierOptions.Verify.Now"},
		{"nil decision key", []signature.Verifier{key}, release.VerifierOptions{Verify: release.VerifyOptions{DecisionKeys: []signature.Verifier{nil}}}, "DecisionKeys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := release.NewVerifier(src, tc.trusted, tc.opts)
			assert.ErrorIs(t, err, release.ErrInvalidOptions)
			assert.ErrorContains(t, err, tc.want)
		})
	}
	v, err := release.NewVerifier(src, []signature.Verifier{key}, release.VerifierOptions{})
	require.NoError(t, err)
	_, err = v.Decide(t.Context(), "")
	assert.ErrorIs(t, err, release.ErrInvalidOptions)
}
