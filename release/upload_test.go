package release_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// counting is an http client that records every request body it sends.
type counting struct {
	inner remote.Client
	mu    sync.Mutex
	sent  map[digest.Digest][]byte // body digest → body
	bytes int64
}

func (c *counting) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		if len(body) > 0 {
			c.mu.Lock()
			c.sent[digest.FromBytes(body)] = body
			c.bytes += int64(len(body))
			c.mu.Unlock()
		}
	}
	return c.inner.Do(req)
}

// TestConfigOnlyChangeUploads: a release that changes only the config sends
// the new config blob, the release record and the release manifest, and
// not one byte of the build. The ledger protocol's lock and claim are
// small manifests of their own media types, and a registry without the
// referrers API gets the build's referrers index rewritten; all are
// checked and counted.
func TestConfigOnlyChangeUploads(t *testing.T) {
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			repo := reg.Repository(t, "acme/shop")
			b := newBuild(t, repo, "shop", string(bytes.Repeat([]byte("binary "), 1<<16)))
			_, err := release.New(ctx, repo, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
			require.NoError(t, err)

			inner := repo.Client
			if inner == nil {
				inner = http.DefaultClient
			}
			counter := &counting{inner: inner, sent: map[digest.Digest][]byte{}}
			repo.Client = counter
			c2 := newConfig(t, "shop", "prod", "debug")
			r2, err := release.New(ctx, repo, b, c2, release.Options{Created: at(2)})
			require.NoError(t, err)

			rec, recDesc := r2.Record()
			want := map[digest.Digest]string{
				c2.Digest():    "config",
				recDesc.Digest: "record",
				r2.Digest():    "manifest",
			}
			var ledgerBytes int64
			for d, body := range counter.sent {
				if what, ok := want[d]; ok {
					delete(want, d)
					t.Logf("sent %s (%d bytes)", what, len(body))
					continue
				}
				var m ocispec.Manifest
				require.NoError(t, json.Unmarshal(body, &m), "an upload that is neither the config, the record, the manifest nor a ledger marker: %s", d)
				if m.MediaType == ocispec.MediaTypeImageIndex {
					// The referrers tag schema: the build's referrers index,
					// which oras-go rewrites on a registry without the API.
					var idx ocispec.Index
					require.NoError(t, json.Unmarshal(body, &idx))
					for _, e := range idx.Manifests {
						assert.Equal(t, release.MediaType, e.ArtifactType, "referrers index entry %s", e.Digest)
					}
					t.Logf("sent the build's referrers index (%d bytes)", len(body))
					continue
				}
				assert.Contains(t, []string{release.LockMediaType, release.ClaimMediaType}, m.ArtifactType, "upload %s", d)
				assert.Less(t, len(body), 1024)
				ledgerBytes += int64(len(body))
			}
			assert.Empty(t, want, "not sent")
			build := map[digest.Digest]bool{b.Digest(): true}
			for _, l := range b.Layers() {
				build[l.Digest] = true
			}
			_, bRec := b.Record()
			build[bRec.Digest] = true
			for d := range counter.sent {
				assert.False(t, build[d], "build blob %s sent again", d)
			}
			t.Logf("%d bytes sent in all, %d of them ledger markers; record %d bytes", counter.bytes, ledgerBytes, len(rec))
		})
	}
}
