package release_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// BenchmarkOpen opens a signed release from an OCI layout: verification
// (which reads every layer once), then extraction (which reads every
// layer again, checking its digest as it writes). Its build holds size
// bytes of random data in 4 files, as one layer each ("files") or packed
// as one tar+gzip layer ("tar"), so MB/s counts the build's bytes, not the
// bytes read. Allocations per open are the same at 16 and 64 MiB: nothing
// is buffered by size. sha256 is one hashing pass over the same bytes, for
// scale.
func BenchmarkOpen(b *testing.B) {
	for _, size := range []int{16 << 20, 64 << 20} {
		b.Run(fmt.Sprintf("sha256/%dMiB", size>>20), func(b *testing.B) {
			data := make([]byte, 1<<20)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				h := sha256.New()
				for range size >> 20 {
					h.Write(data)
				}
				h.Sum(nil)
			}
		})
		for _, packed := range []bool{false, true} {
			kind := "files"
			if packed {
				kind = "tar"
			}
			b.Run(fmt.Sprintf("%s/%dMiB", kind, size>>20), func(b *testing.B) {
				ctx := b.Context()
				l, err := build.OpenLayout(ctx, b.TempDir())
				require.NoError(b, err)
				tree := b.TempDir()
				require.NoError(b, os.MkdirAll(filepath.Join(tree, "data"), 0o755))
				for i := range 4 {
					f, err := os.Create(filepath.Join(tree, "data", fmt.Sprintf("part%d", i)))
					require.NoError(b, err)
					_, err = io.CopyN(f, rand.Reader, int64(size/4))
					require.NoError(b, err)
					require.NoError(b, f.Close())
				}
				spec := build.Spec{Dir: tree, Processes: []build.Process{{Name: "web", Command: "true"}}, Created: created}
				if packed {
					spec.Tar = []string{"data"}
				}
				bd, err := build.New(ctx, l, "shop", spec, build.Options{})
				require.NoError(b, err)
				c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"PORT": "8080"}}, config.Options{})
				require.NoError(b, err)
				key := newKey(b)
				_, err = release.New(ctx, l, bd, c, release.Options{Created: at(1), Signer: key})
				require.NoError(b, err)
				trusted := []signature.Verifier{key}

				dir := b.TempDir()
				i := 0
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					i++
					target := filepath.Join(dir, strconv.Itoa(i))
					if _, err := release.Open(ctx, l, "prod", target, trusted, release.OpenOptions{}); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					require.NoError(b, os.RemoveAll(target))
					b.StartTimer()
				}
			})
		}
	}
}
