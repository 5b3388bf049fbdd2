package registrytest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/internal/registrytest"
)

const (
	subjectType  = "application/vnd.slipway.test.subject.v1"
	referrerType = "application/vnd.slipway.test.referrer.v1"
	layerType    = "application/vnd.slipway.test.layer.v1"
)

// created fixes the annotation oras.PackManifest would otherwise set to now.
func created() map[string]string {
	return map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"}
}

// pushArtifact pushes a one-layer subject manifest and a referrer manifest
// pointing at it to dst and returns their descriptors.
func pushArtifact(t *testing.T, dst content.Pusher) (subject, referrer ocispec.Descriptor) {
	t.Helper()
	ctx := t.Context()
	blob := []byte("hello, registry\n")
	layer := content.NewDescriptorFromBytes(layerType, blob)
	require.NoError(t, dst.Push(ctx, layer, bytes.NewReader(blob)))
	subject, err := oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, subjectType, oras.PackManifestOptions{
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: created(),
	})
	require.NoError(t, err)
	referrer, err = oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, referrerType, oras.PackManifestOptions{
		Subject:             &subject,
		ManifestAnnotations: created(),
	})
	require.NoError(t, err)
	return subject, referrer
}

func TestAll(t *testing.T) {
	// The same bytes pushed to memory give the digests every registry must keep.
	wantSubject, wantReferrer := pushArtifact(t, memory.New())

	regs := registrytest.All(t)
	var names []string
	for _, reg := range regs {
		names = append(names, reg.Name)
	}
	want := []string{registrytest.NameGGCRReferrers, registrytest.NameGGCRTagSchema, registrytest.NameDistribution}
	if _, err := exec.LookPath("docker-registry"); err != nil {
		want = want[:2] // All recorded a skipped "distribution" subtest
	}
	require.Equal(t, want, names)

	kinds := map[string]struct {
		kind      string
		referrers bool
	}{
		registrytest.NameGGCRReferrers: {registrytest.KindGGCR, true},
		registrytest.NameGGCRTagSchema: {registrytest.KindGGCR, false},
		registrytest.NameDistribution:  {registrytest.KindDistribution, false},
	}
	for _, reg := range regs {
		t.Run(reg.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			assert.Equal(t, kinds[reg.Name].kind, reg.Kind)
			assert.Equal(t, kinds[reg.Name].referrers, reg.Referrers)
			assert.True(t, strings.HasPrefix(reg.Host, "127.0.0.1:"), "host %q is not on loopback", reg.Host)
			assert.Equal(t, reg.Host+"/acme/shop", reg.Ref("acme/shop"))

			repo := reg.Repository(t, "acme/shop")
			subject, referrer := pushArtifact(t, repo)
			assert.Equal(t, wantSubject, subject)
			assert.Equal(t, wantReferrer, referrer)

			require.NoError(t, repo.Tag(ctx, subject, "v1"))
			got, err := repo.Resolve(ctx, "v1")
			require.NoError(t, err)
			assert.Equal(t, subject.Digest, got.Digest)
			assert.Equal(t, subject.Size, got.Size)

			var found []ocispec.Descriptor
			require.NoError(t, repo.Referrers(ctx, subject, "", func(refs []ocispec.Descriptor) error {
				found = append(found, refs...)
				return nil
			}))
			require.Len(t, found, 1)
			assert.Equal(t, referrer.Digest, found[0].Digest)
			assert.Equal(t, referrer.Size, found[0].Size)

			// The referrers tag exists exactly when the registry lacks the API.
			_, err = repo.Resolve(ctx, "sha256-"+subject.Digest.Encoded())
			if reg.Referrers {
				assert.ErrorIs(t, err, errdef.ErrNotFound)
			} else {
				assert.NoError(t, err)
			}

			// The referrers API, asked directly.
			url := fmt.Sprintf("http://%s/v2/acme/shop/referrers/%s", reg.Host, subject.Digest)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			wantStatus := http.StatusNotFound
			if reg.Referrers {
				wantStatus = http.StatusOK
			}
			assert.Equal(t, wantStatus, resp.StatusCode)
		})
	}
}

func TestCleanupStopsRegistry(t *testing.T) {
	starts := map[string]func(testing.TB) *registrytest.Registry{
		"ggcr": func(t testing.TB) *registrytest.Registry { return registrytest.New(t, true) },
		"distribution": func(t testing.TB) *registrytest.Registry {
			if _, err := exec.LookPath("docker-registry"); err != nil {
				t.Skip("docker-registry is not on PATH")
			}
			return registrytest.Distribution(t)
		},
	}
	for name, start := range starts {
		t.Run(name, func(t *testing.T) {
			var reg *registrytest.Registry
			t.Run("running", func(t *testing.T) {
				reg = start(t)
				resp, err := http.Get("http://" + reg.Host + "/v2/")
				require.NoError(t, err)
				require.NoError(t, resp.Body.Close())
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			})
			if reg == nil {
				t.Skip("registry did not start")
			}
			_, err := http.Get("http://" + reg.Host + "/v2/")
			assert.Error(t, err, "registry still answers after its test ended")
		})
	}
}

// recordingTB records Skipf and Fatalf and ends the goroutine, as testing.T
// does, without ending the real test.
type recordingTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestDistributionMissing(t *testing.T) {
	for _, tc := range []struct {
		name, ci  string
		wantFatal bool
	}{
		{name: "local", ci: "", wantFatal: false},
		{name: "ci", ci: "true", wantFatal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("CI", tc.ci)
			rec := &recordingTB{TB: t}
			var reg *registrytest.Registry
			done := make(chan struct{})
			go func() {
				defer close(done)
				reg = registrytest.Distribution(rec)
			}()
			<-done
			assert.Nil(t, reg)
			msg := rec.skipped
			if tc.wantFatal {
				msg = rec.fatal
				assert.Empty(t, rec.skipped)
			} else {
				assert.Empty(t, rec.fatal)
			}
			assert.Contains(t, msg, "apt-get install -y docker-registry")
		})
	}
}

func TestDistributionStartFails(t *testing.T) {
	bin := t.TempDir()
	script := "#!/bin/sh\necho \"fake docker-registry: cannot start $*\" >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "docker-registry"), []byte(script), 0o755))
	t.Setenv("PATH", bin)
	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		registrytest.Distribution(rec)
	}()
	<-done
	assert.Contains(t, rec.fatal, "attempt 3 of 3")
	assert.Contains(t, rec.fatal, "exited during startup")
}

func TestAllWithoutDistribution(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	regs := registrytest.All(t)
	require.Len(t, regs, 2)
	assert.Equal(t, registrytest.NameGGCRReferrers, regs[0].Name)
	assert.Equal(t, registrytest.NameGGCRTagSchema, regs[1].Name)
}
