package build_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/build"
)

// benchDir is a new directory for benchmark data: under
// $SLIPWAY_BENCH_DIR if set (e.g. /dev/shm, to measure slipway rather than
// the disk), else under the test's temporary directory.
func benchDir(b *testing.B) string {
	b.Helper()
	root := os.Getenv("SLIPWAY_BENCH_DIR")
	if root == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(root, "slipway-bench-")
	require.NoError(b, err)
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// benchTree writes n files of size bytes of pseudo-random data under a new
// directory and returns it.
func benchTree(b *testing.B, n int, size int64) string {
	b.Helper()
	dir := benchDir(b)
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	buf := make([]byte, 1<<20)
	for i := range n {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("part-%02d.bin", i)))
		require.NoError(b, err)
		for written := int64(0); written < size; written += int64(len(buf)) {
			for j := 0; j < len(buf); j += 8 {
				v := rng.Uint64()
				for k := range 8 {
					buf[j+k] = byte(v >> (8 * k))
				}
			}
			_, err := f.Write(buf[:min(int64(len(buf)), size-written)])
			require.NoError(b, err)
		}
		require.NoError(b, f.Close())
	}
	return dir
}

var benchSizes = []struct {
	name  string
	files int
	size  int64
}{
	{"256MiB", 16, 16 << 20},
	{"1GiB", 16, 64 << 20},
}

// BenchmarkSHA256 is the yardstick for BenchmarkPack: one SHA-256 pass over
// the same bytes, read from the same files.
func BenchmarkSHA256(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			dir := benchTree(b, sz.files, sz.size)
			entries, err := os.ReadDir(dir)
			require.NoError(b, err)
			buf := make([]byte, 1<<20)
			b.SetBytes(int64(sz.files) * sz.size)
			b.ReportAllocs()
			for b.Loop() {
				for _, e := range entries {
					f, err := os.Open(filepath.Join(dir, e.Name()))
					require.NoError(b, err)
					h := sha256.New()
					_, err = io.CopyBuffer(h, struct{ io.Reader }{f}, buf)
					require.NoError(b, err)
					f.Close()
				}
			}
		})
	}
}

// BenchmarkPack stores a tree of large files into a fresh OCI image layout
// and reports the peak live heap while it does.
func BenchmarkPack(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			dir := benchTree(b, sz.files, sz.size)
			b.SetBytes(int64(sz.files) * sz.size)
			b.ReportAllocs()
			var peak atomic.Uint64
			stop := sampleHeap(&peak)
			defer stop()
			base := heapBytes()
			for b.Loop() {
				b.StopTimer()
				out := filepath.Join(benchDir(b), "layout")
				store, err := build.OpenLayout(b.Context(), out)
				require.NoError(b, err)
				runtime.GC()
				b.StartTimer()
				_, err = build.New(b.Context(), store, "bench", build.Spec{Dir: dir}, build.Options{})
				require.NoError(b, err)
				b.StopTimer()
				require.NoError(b, os.RemoveAll(out))
				b.StartTimer()
			}
			stop()
			b.ReportMetric(float64(peak.Load()-min(base, peak.Load()))/(1<<20), "peak-heap-MiB")
		})
	}
}

// sampleHeap records the largest live heap seen until stop is called.
func sampleHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if h := heapBytes(); h > peak.Load() {
				peak.Store(h)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var stopped atomic.Bool
	return func() {
		if stopped.CompareAndSwap(false, true) {
			close(done)
			<-finished
		}
	}
}

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
