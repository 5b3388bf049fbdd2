package release_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// BenchmarkNew measures adding a release to a ledger: ops/s is releases
// per second, one publisher at a time.
func BenchmarkNew(b *testing.B) {
	targets := []struct {
		name string
		open func(b *testing.B) oras.Target
	}{
		{"registry", func(b *testing.B) oras.Target { return registrytest.New(b, true).Repository(b, "acme/shop") }},
		{"layout", func(b *testing.B) oras.Target {
			l, err := build.OpenLayout(b.Context(), b.TempDir())
			require.NoError(b, err)
			return l
		}},
		{"memory", func(b *testing.B) oras.Target { return memory.New() }},
	}
	for _, tc := range targets {
		b.Run(tc.name, func(b *testing.B) {
			ctx := b.Context()
			dst := tc.open(b)
			bld := newBuild(b, dst, "shop", "v1")
			configs := []*config.Config{newConfig(b, "shop", "prod", "info"), newConfig(b, "shop", "prod", "debug")}
			b.ReportAllocs()
			i := 0
			start := time.Now()
			for b.Loop() {
				if _, err := release.New(ctx, dst, bld, configs[i%2], release.Options{Created: at(i)}); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(i)/time.Since(start).Seconds(), "releases/s")
		})
	}
}

// BenchmarkHistory walks ledgers of 100 and 1,000 releases: the time per
// release stays flat, so a walk is linear in the ledger's length.
func BenchmarkHistory(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("releases=%d", n), func(b *testing.B) {
			ctx := b.Context()
			dst := registrytest.New(b, true).Repository(b, "acme/shop")
			bld := newBuild(b, dst, "shop", "v1")
			configs := []*config.Config{newConfig(b, "shop", "prod", "info"), newConfig(b, "shop", "prod", "debug")}
			for i := range n {
				_, err := release.New(ctx, dst, bld, configs[i%2], release.Options{Created: at(i)})
				require.NoError(b, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				hist, err := release.History(ctx, dst, "prod", release.HistoryOptions{})
				if err != nil || len(hist) != n {
					b.Fatalf("history: %d entries, %v", len(hist), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/release")
		})
	}
}

// countingTransport counts the HTTP requests a repository makes.
type countingTransport struct {
	n  atomic.Int64
	rt http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

// BenchmarkVerify measures release.Verify of a signed release with SLSA
// provenance (both forms each) against loopback registries: ns/op is one
// whole verification, requests/op the HTTP requests it makes.
func BenchmarkVerify(b *testing.B) {
	regs := []struct {
		name string
		reg  func(b *testing.B) *registrytest.Registry
	}{
		{"ggcr-referrers", func(b *testing.B) *registrytest.Registry { return registrytest.New(b, true) }},
		{"distribution", func(b *testing.B) *registrytest.Registry { return registrytest.Distribution(b) }},
	}
	builds := []struct {
		name string
		make func(b testing.TB, dst oras.Target, app, body string) *build.Build
	}{
		{"files", newBuild},
		// an SBOM, a scan and a VEX document: three more attestations in
		// each form, and the summary recomputed from them
		{"evidence", newEvidenceBuild},
	}
	for _, tc := range regs {
		for _, kind := range builds {
			b.Run(tc.name+"/"+kind.name, func(b *testing.B) {
				ctx := b.Context()
				reg := tc.reg(b)
				dst := reg.Repository(b, "acme/shop")
				key := newKey(b)
				bld := kind.make(b, dst, "shop", "v1")
				for i, level := range []string{"info", "debug"} {
					_, err := release.New(ctx, dst, bld, newConfig(b, "shop", "prod", level), release.Options{Created: at(i), Signer: key})
					require.NoError(b, err)
				}
				src := reg.Repository(b, "acme/shop")
				ct := &countingTransport{rt: http.DefaultTransport}
				src.Client = &http.Client{Transport: ct}
				trusted := []signature.Verifier{key}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := release.Verify(ctx, src, "prod", trusted, release.VerifyOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(ct.n.Load())/float64(b.N), "requests/op")
			})
		}
	}
}

// BenchmarkSign signs a release with evidence: a signature and four
// attestations (SBOM, scan, VEX, provenance), each as a bundle and in the
// legacy tags, on each test registry. Each write waits to see that it
// held against concurrent writers (attest's settle), which is most of the
// cost on a registry.
func BenchmarkSign(b *testing.B) {
	for _, reg := range []*registrytest.Registry{registrytest.New(b, true), registrytest.New(b, false), registrytest.Distribution(b)} {
		b.Run(reg.Name, func(b *testing.B) {
			ctx := b.Context()
			dst := reg.Repository(b, "acme/shop")
			r, err := release.New(ctx, dst, newEvidenceBuild(b, dst, "shop", "v1"), newConfig(b, "shop", "prod", "info"), release.Options{Created: at(1)})
			require.NoError(b, err)
			key := newKey(b)
			for b.Loop() {
				if err := release.Sign(ctx, dst, r, key, release.SignOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
