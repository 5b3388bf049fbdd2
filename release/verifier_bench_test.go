package release_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// benchPolicy is the policy of the benchmarks: go for newEvidenceBuild,
// with limits, an exception and a CEL rule to judge.
const benchPolicy = `{"maxOpen":{"critical":0,"high":3},"allow":[{"id":"CVE-2026-1111","expires":"2027-01-01"}],
 "requireSBOM":true,"environments":["prod"],"rules":[{"name":"app","expr":"release.app == 'shop'"}]}`

func loadBenchPolicy(b *testing.B) *release.Policy {
	b.Helper()
	p, err := release.ParsePolicy([]byte(benchPolicy), "bench.json")
	require.NoError(b, err)
	return p
}

// benchRelease publishes a signed release of newEvidenceBuild with SLSA
// provenance as prod and prod-v1 in reg and returns the store, whose
// src counts its requests, with the key.
func benchRelease(b *testing.B, reg *registrytest.Registry) (verifierStore, signature.SignerVerifier) {
	b.Helper()
	ctx := b.Context()
	s := registryStore(b, reg)
	key := newKey(b)
	_, err := release.New(ctx, s.dst, newEvidenceBuild(b, s.dst, "shop", "v1"), newConfig(b, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(b, err)
	return s, key
}

// BenchmarkVerifierCached measures a decision answered from memory: ns/op
// is one Decide on a warm cache.
func BenchmarkVerifierCached(b *testing.B) {
	s, key := benchRelease(b, registrytest.New(b, true))
	ctx := b.Context()
	v := newVerifier(b, s.src, key, release.VerifierOptions{Policy: loadBenchPolicy(b), TTL: time.Hour})
	d, err := v.Decide(ctx, "prod")
	require.NoError(b, err)
	require.True(b, d.Go())
	before := s.requests()
	b.ReportAllocs()
	for b.Loop() {
		if d, err := v.Decide(ctx, "prod"); err != nil || !d.Go() {
			b.Fatalf("decision %v, %v", d, err)
		}
	}
	b.ReportMetric(float64(s.requests()-before)/float64(b.N), "requests/op")
	if n := v.Stats().Misses; n != 1 {
		b.Fatalf("%d verifications, want 1", n)
	}
}

// BenchmarkVerifierCachedParallel measures decisions answered from memory
// by 8 goroutines or more at once, on two refs: decisions/s is the
// throughput of one Verifier.
func BenchmarkVerifierCachedParallel(b *testing.B) {
	s, key := benchRelease(b, registrytest.New(b, true))
	ctx := b.Context()
	v := newVerifier(b, s.src, key, release.VerifierOptions{Policy: loadBenchPolicy(b), TTL: time.Hour})
	refs := []string{"prod", "prod-v1"}
	for _, ref := range refs {
		_, err := v.Decide(ctx, ref)
		require.NoError(b, err)
	}
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((8 + procs - 1) / procs) // at least 8 goroutines
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if d, err := v.Decide(ctx, refs[i%len(refs)]); err != nil || !d.Go() {
				b.Errorf("decision %v, %v", d, err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
	if n := v.Stats().Misses; n != uint64(len(refs)) {
		b.Fatalf("%d verifications, want %d", n, len(refs))
	}
}

// BenchmarkVerifierUncached measures a full verification and decision per
// op, with a new Verifier each time, against loopback registries:
// requests/op are the HTTP requests of one.
func BenchmarkVerifierUncached(b *testing.B) {
	for _, tc := range []struct {
		name string
		reg  func(b *testing.B) *registrytest.Registry
	}{
		{"ggcr-referrers", func(b *testing.B) *registrytest.Registry { return registrytest.New(b, true) }},
		{"ggcr-tagschema", func(b *testing.B) *registrytest.Registry { return registrytest.New(b, false) }},
		{"distribution", func(b *testing.B) *registrytest.Registry { return registrytest.Distribution(b) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, key := benchRelease(b, tc.reg(b))
			ctx := b.Context()
			pol := loadBenchPolicy(b)
			before := s.requests()
			var verifications uint64
			b.ReportAllocs()
			for b.Loop() {
				v, err := release.NewVerifier(s.src, []signature.Verifier{key}, release.VerifierOptions{Policy: pol})
				if err != nil {
					b.Fatal(err)
				}
				if d, err := v.Decide(ctx, "prod"); err != nil || !d.Go() {
					b.Fatalf("decision %v, %v", d, err)
				}
				verifications += v.Stats().Misses
			}
			b.ReportMetric(float64(s.requests()-before)/float64(b.N), "requests/op")
			b.ReportMetric(float64(verifications)/float64(b.N), "verifications/op")
		})
	}
}

// BenchmarkVerifierRecheck measures the check after the TTL of a release
// whose evidence did not change: the ref resolved, the attached manifests
// listed, the policy judged again, nothing verified.
func BenchmarkVerifierRecheck(b *testing.B) {
	for _, tc := range []struct {
		name string
		reg  func(b *testing.B) *registrytest.Registry
	}{
		{"ggcr-referrers", func(b *testing.B) *registrytest.Registry { return registrytest.New(b, true) }},
		{"distribution", func(b *testing.B) *registrytest.Registry { return registrytest.Distribution(b) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			s, key := benchRelease(b, tc.reg(b))
			ctx := b.Context()
			clk := newClock(at(2))
			v := newVerifier(b, s.src, key, release.VerifierOptions{Policy: loadBenchPolicy(b), TTL: time.Second, Now: clk.Now})
			_, err := v.Decide(ctx, "prod")
			require.NoError(b, err)
			before := s.requests()
			b.ReportAllocs()
			for b.Loop() {
				clk.Add(time.Second)
				if d, err := v.Decide(ctx, "prod"); err != nil || !d.Go() {
					b.Fatalf("decision %v, %v", d, err)
				}
			}
			b.ReportMetric(float64(s.requests()-before)/float64(b.N), "requests/op")
			if st := v.Stats(); st.Misses != 1 || st.Rechecks != uint64(b.N) {
				b.Fatalf("%+v: want 1 verification and a recheck per op", st)
			}
		})
	}
}
