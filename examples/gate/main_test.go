package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	appconfig "github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"

	"github.com/slipway-dev/slipway/internal/syncbuf"
)

var created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// keyPair makes a signing key and writes its public key to a file.
func keyPair(t *testing.T) (signature.Signer, string) {
	t.Helper()
	priv, pub, err := attest.GenerateKey()
	require.NoError(t, err)
	s, err := attest.LoadPrivateKey(priv, nil)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "release.pub")
	require.NoError(t, os.WriteFile(path, pub, 0o644))
	return s, path
}

// publish stores a build of app with the SBOM, the Trivy scan and the VEX
// document of testdata, and releases it to prod, signed by s unless s is
// nil. The scan finds a critical vulnerability, which the VEX document
// marks not_affected in the app "api" only: api is go under
// testdata/policy.json, any other app no-go.
func publish(t *testing.T, dst oras.Target, app string, s signature.Signer) *release.Release {
	t.Helper()
	ctx := t.Context()
	b, err := build.New(ctx, dst, app, build.Spec{
		Files:     []build.File{{Name: "bin/server", Reader: strings.NewReader("#!/bin/sh\necho " + app + "\n"), Mode: 0o755}},
		Source:    build.Source{Repository: "https://example.com/acme/" + app, Revision: "0123456789abcdef0123456789abcdef01234567"},
		Processes: []build.Process{{Name: "web", Command: "bin/server"}},
		Created:   created,
		SBOM:      "testdata/sbom.cdx.json",
		Scans:     []build.Scan{{Path: "testdata/trivy.json"}},
		VEX:       []string{"testdata/vex.json"},
	}, build.Options{})
	require.NoError(t, err)
	c, err := appconfig.New(app, "prod", appconfig.Spec{Env: map[string]string{"PORT": "8080"}}, appconfig.Options{})
	require.NoError(t, err)
	r, err := release.New(ctx, dst, b, c, release.Options{Created: created, Signer: s})
	require.NoError(t, err)
	return r
}

// countingTransport counts the requests the gate makes to registries.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// start serves the gate of cfg on 127.0.0.1:0 until the test ends and
// returns its base URL.
func start(t *testing.T, cfg config) string {
	t.Helper()
	cfg.listen = "127.0.0.1:0"
	srv, err := newServer(cfg)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", srv.Addr)
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// gateAnswer is what the gate answers: a decision, an error, or both.
type gateAnswer struct {
	release.Decision
	Error string `json:"error"`
}

func post(t testing.TB, base, body string) (int, gateAnswer, http.Header) {
	resp, err := http.Post(base+"/v1/decide", "application/json", strings.NewReader(body))
	if err != nil {
		t.Errorf("POST: %v", err)
		return 0, gateAnswer{}, nil
	}
	defer resp.Body.Close()
	var a gateAnswer
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("read answer: %v", err)
	}
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Errorf("answer %q: %v", raw, err)
	}
	return resp.StatusCode, a, resp.Header
}

func ref(host, repo string) string { return fmt.Sprintf(`{"ref":%q}`, host+"/"+repo) }

func TestGate(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := registrytest.New(t, true)
	signer, pub := keyPair(t)
	api := publish(t, reg.Repository(t, "acme/api"), "api", signer)
	shop := publish(t, reg.Repository(t, "acme/shop"), "shop", signer)
	unsigned := publish(t, reg.Repository(t, "acme/unsigned"), "api", nil)

	logs := &syncbuf.Buffer{}
	requests := &countingTransport{}
	base := start(t, config{
		keys: []string{pub}, policy: "testdata/policy.json", ttl: time.Hour, cacheSize: 16, maxRepos: 8,
		verifyTimeout: 30 * time.Second, plainHTTP: true,
		logger: slog.New(slog.NewJSONHandler(logs, nil)), transport: requests,
	})

	t.Run("concurrent decisions", func(t *testing.T) {
		const goroutines, each = 16, 16 // 256 requests
		refs := []struct {
			body    string
			go_     bool
			release *release.Release
		}{
			{ref(reg.Host, "acme/api:prod"), true, api},
			{ref(reg.Host, "acme/shop:prod"), false, shop},
		}
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range each {
					want := refs[(g+i)%2]
					status, a, _ := post(t, base, want.body)
					if status != http.StatusOK || a.Go() != want.go_ || a.Release.Digest != want.release.Digest() || a.Error != "" {
						t.Errorf("%s: status %d, verdict %s, digest %s, error %q", want.body, status, a.Verdict, a.Release.Digest, a.Error)
					}
					if !want.go_ && (len(a.Findings) == 0 || a.Findings[0].Rule != "maxOpen" || !a.Findings[0].Blocking) {
						t.Errorf("%s: findings %+v", want.body, a.Findings)
					}
				}
			})
		}
		wg.Wait()

		var st statsAnswer
		resp, err := http.Get(base + "/v1/stats")
		require.NoError(t, err)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
		resp.Body.Close()
		assert.Equal(t, uint64(2), st.Misses, "one verification per release: %+v", st)
		assert.Equal(t, uint64(goroutines*each), st.Hits+st.Misses+st.Rechecks+st.Shared, "each call counts once: %+v", st)
		assert.Greater(t, st.Hits, uint64(goroutines*each/2), "the cache served most: %+v", st)
		assert.Equal(t, 2, st.Repositories)
		assert.Less(t, requests.n.Load(), int64(goroutines*each/2), "registry requests for %d decisions", goroutines*each)
		t.Logf("%d decisions, %d registry requests, %+v", goroutines*each, requests.n.Load(), st)
	})

	t.Run("verification failure", func(t *testing.T) {
		status, a, _ := post(t, base, ref(reg.Host, "acme/unsigned:prod"))
		assert.Equal(t, http.StatusOK, status)
		assert.False(t, a.Go())
		assert.Equal(t, unsigned.Digest(), a.Release.Digest)
		assert.Contains(t, a.Error, "not signed")
		require.Len(t, a.Findings, 1)
		assert.Equal(t, "verification", a.Findings[0].Rule)
	})

	t.Run("by digest", func(t *testing.T) {
		status, a, _ := post(t, base, ref(reg.Host, "acme/api@"+api.Digest().String()))
		assert.Equal(t, http.StatusOK, status)
		assert.True(t, a.Go())
	})

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, body string
			status     int
			want       string
		}{
			{"large body", `{"ref":"` + strings.Repeat("a", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, "body over 64 KiB"},
			{"large trailing data", `{"ref":"x/y:z"}` + strings.Repeat(" ", 70<<10), http.StatusRequestEntityTooLarge, "body over 64 KiB"},
			{"bad ref", `{"ref":"not a ref"}`, http.StatusBadRequest, "want HOST/REPO:TAG"},
			{"no tag", ref(reg.Host, "acme/api"), http.StatusBadRequest, "want HOST/REPO:TAG"},
			{"not json", `{"ref":`, http.StatusBadRequest, "malformed body"},
			{"unknown field", `{"ref":"x/y:z","debug":true}`, http.StatusBadRequest, "unknown field"},
			{"two objects", `{"ref":"x/y:z"}{"ref":"x/y:z"}`, http.StatusBadRequest, "data after the JSON object"},
			{"no ref", `{}`, http.StatusBadRequest, "no ref"},
			{"credentials", `{"ref":"https://deployer:hunter2@` + reg.Host + `/acme/api:prod"}`, http.StatusBadRequest, "REDACTED@"},
			{"missing tag", ref(reg.Host, "acme/api:staging"), http.StatusNotFound, "not found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, a, h := post(t, base, tc.body)
				assert.Equal(t, tc.status, status)
				assert.Contains(t, a.Error, tc.want)
				assert.NotContains(t, a.Error, "hunter2")
				assert.Equal(t, "application/json", h.Get("Content-Type"))
			})
		}
	})

	t.Run("other method", func(t *testing.T) {
		resp, err := http.Get(base + "/v1/decide")
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
		assert.Equal(t, http.MethodPost, resp.Header.Get("Allow"))
	})

	t.Run("healthz", func(t *testing.T) {
		resp, err := http.Get(base + "/healthz")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "ok", string(body))
	})

	t.Run("logs", func(t *testing.T) {
		out := logs.String()
		assert.Contains(t, out, `"msg":"decision"`)
		assert.Contains(t, out, `"verdict":"no-go"`)
		assert.Contains(t, out, `"digest":"`+api.Digest().String()+`"`)
		assert.Contains(t, out, `"duration":`)
		assert.NotContains(t, out, "hunter2")
		assert.NotContains(t, out, "PUBLIC KEY")
	})
}

// TestGateRegistryUnreachable: a registry that cannot be reached is a 502,
// and is not kept: once it is back, the gate decides.
func TestGateRegistryUnreachable(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, pub := keyPair(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	host := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now
	base := start(t, config{keys: []string{pub}, ttl: time.Hour, cacheSize: 16, maxRepos: 8, verifyTimeout: 10 * time.Second, plainHTTP: true})

	status, a, _ := post(t, base, ref(host, "acme/api:prod"))
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Contains(t, a.Error, "cannot be read")
	assert.Empty(t, a.Verdict, "no decision")

	t.Run("registry not allowed", func(t *testing.T) {
		base := start(t, config{keys: []string{pub}, ttl: time.Hour, cacheSize: 16, maxRepos: 8, verifyTimeout: time.Second,
			plainHTTP: true, registries: []string{"registry.example.com"}})
		status, a, _ := post(t, base, ref(host, "acme/api:prod"))
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, a.Error, "not one this gate decides for")
	})
}

// TestGateLayout decides releases in an OCI image layout, and sees a
// release another process adds after the gate started.
func TestGateLayout(t *testing.T) {
	ctx := t.Context()
	signer, pub := keyPair(t)
	dir := t.TempDir()
	l, err := build.OpenLayout(ctx, dir)
	require.NoError(t, err)
	r := publish(t, l, "api", signer)
	base := start(t, config{keys: []string{pub}, policy: "testdata/policy.json", ttl: time.Hour, cacheSize: 16, maxRepos: 8,
		verifyTimeout: 10 * time.Second, ociLayout: dir})

	status, a, _ := post(t, base, `{"ref":"prod"}`)
	require.Equal(t, http.StatusOK, status, a.Error)
	assert.True(t, a.Go())
	assert.Equal(t, r.Digest(), a.Release.Digest)
	status, _, _ = post(t, base, `{"ref":"`+r.Digest().String()+`"}`)
	assert.Equal(t, http.StatusOK, status)
	status, a, _ = post(t, base, `{"ref":"`+dir+`:prod"}`)
	assert.Equal(t, http.StatusBadRequest, status, "a layout takes a tag or a digest")

	// Another handle, as another process would, adds a release to prod.
	other, err := build.OpenLayout(ctx, dir)
	require.NoError(t, err)
	b, err := build.Load(ctx, other, r.Build().Digest().String())
	require.NoError(t, err)
	c, err := appconfig.New("api", "prod", appconfig.Spec{Env: map[string]string{"PORT": "9090"}}, appconfig.Options{})
	require.NoError(t, err)
	r2, err := release.New(ctx, other, b, c, release.Options{Created: created.Add(time.Hour), Signer: signer})
	require.NoError(t, err)
	time.Sleep(layoutRefresh + 100*time.Millisecond) // the gate's view of the layout gets old
	status, a, _ = post(t, base, `{"ref":"prod-v2"}`)
	require.Equal(t, http.StatusOK, status, a.Error)
	assert.Equal(t, r2.Digest(), a.Release.Digest)
}

// TestRun starts the gate from its command line, asks it something and
// stops it as SIGTERM would.
func TestRun(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	_, pub := keyPair(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr syncbuf.Buffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--listen", "127.0.0.1:0", "--key", pub, "--policy", "testdata/policy.json", "--plain-http", "--ttl", "1m"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, stderr.String())
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "gate: listening on ")
	require.True(t, ok, line)

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	select {
	case c := <-code:
		assert.Equal(t, exitOK, c, stderr.String())
	case <-time.After(shutdownTimeout):
		t.Fatal("the gate did not stop")
	}
	assert.Contains(t, stderr.String(), `"msg":"shutting down"`)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no key", []string{"--listen", "127.0.0.1:0"}, `required flag(s) "key" not set`},
		{"bad policy", []string{"--key", pub, "--policy", "testdata/sbom.cdx.json"}, "--policy"},
		{"bad ttl", []string{"--key", pub, "--ttl", "0s"}, "--ttl"},
		{"layout and plain http", []string{"--key", pub, "--plain-http", "--oci-layout", t.TempDir()}, "none of the others can be"},
		{"no layout", []string{"--key", pub, "--oci-layout", filepath.Join(t.TempDir(), "missing")}, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, exitError, run(t.Context(), tc.args, &stdout, &stderr))
			assert.Contains(t, stderr.String(), tc.want)
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example.com/acme/shop:prod":                              "registry.example.com/acme/shop:prod",
		"https://deployer:hunter2@registry.example.com/acme/shop:v1":       "REDACTED@registry.example.com/acme/shop:v1",
		"deployer:hunter2@registry.example.com":                            "REDACTED@registry.example.com",
		"registry.example.com/acme/shop@sha256:" + strings.Repeat("a", 64): "registry.example.com/acme/shop@sha256:" + strings.Repeat("a", 64),
		"sha256:" + strings.Repeat("b", 64):                                "sha256:" + strings.Repeat("b", 64),
		"registry.example.com/acme/shop:prod?token=secret":                 "registry.example.com/acme/shop:prod",
	} {
		assert.Equal(t, want, redact(in), in)
	}
	assert.Len(t, redact(strings.Repeat("x", 1000)), maxRefLog+len("…"))
}
