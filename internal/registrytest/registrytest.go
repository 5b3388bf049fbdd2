package registrytest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/slipway-dev/slipway/internal/syncbuf"
)

// Values of [Registry.Kind].
const (
	// KindGGCR is go-containerregistry's in-process registry, started by [New].
	KindGGCR = "ggcr"
	// KindDistribution is Debian's docker-registry, started by [Distribution].
	KindDistribution = "distribution"
)

// Values of [Registry.Name].
const (
	// NameGGCRReferrers names the ggcr registry that serves the referrers API.
	NameGGCRReferrers = "ggcr-referrers"
	// NameGGCRTagSchema names the ggcr registry without the referrers API,
	// where clients fall back to the referrers tag schema.
	NameGGCRTagSchema = "ggcr-tagschema"
	// NameDistribution names the docker-registry registry.
	NameDistribution = "distribution"
)

const (
	// distributionBinary is the executable looked up on PATH.
	distributionBinary = "docker-registry"
	// distributionMissing is the skip or failure message when it is absent.
	distributionMissing = "registrytest: docker-registry is not on PATH; install it with `apt-get install -y docker-registry`"
	// startAttempts bounds the retries when docker-registry exits at startup,
	// typically because another process took the port first.
	startAttempts = 3
	// startTimeout bounds the wait for one docker-registry to answer.
	startTimeout = 10 * time.Second
	// pollInterval is the pause between two readiness probes.
	pollInterval = 20 * time.Millisecond
	// nonceHeader is served by docker-registry (http.headers in its config) so
	// that a probe can tell it from another server that took the same port.
	nonceHeader = "X-Registrytest-Nonce"
)

// Registry is a running OCI registry listening on 127.0.0.1, stopped by the
// t.Cleanup of the test that started it. Its fields describe it and are not
// meant to be changed.
type Registry struct {
	// Name identifies the registry in subtest names: [NameGGCRReferrers],
	// [NameGGCRTagSchema] or [NameDistribution].
	Name string
	// Kind is the implementation: [KindGGCR] or [KindDistribution].
	Kind string
	// Host is the registry's address, "127.0.0.1:PORT", without a scheme;
	// the registry speaks plain HTTP.
	Host string
	// Referrers reports whether the registry serves the OCI referrers API
	// (GET /v2/<name>/referrers/<digest>). When false, it answers that
	// endpoint with 404 and clients use the referrers tag schema.
	Referrers bool
}

// New starts go-containerregistry's in-process registry (pkg/registry) on
// 127.0.0.1 with httptest and closes it in t.Cleanup. referrers switches on
// its OCI referrers API; without it the registry answers the referrers
// endpoint with 404. Its log is discarded. Storage is in memory and each call
// gets a fresh, empty registry. The registry never answers a manifest PUT with
// OCI-Subject, so [Registry.Repository] tells oras-go the capability instead.
func New(t testing.TB, referrers bool) *Registry {
	t.Helper()
	srv := httptest.NewServer(registry.New(
		registry.Logger(log.New(io.Discard, "", 0)), // it logs to stderr otherwise
		registry.WithReferrersSupport(referrers),
	))
	t.Cleanup(srv.Close)
	name := NameGGCRTagSchema
	if referrers {
		name = NameGGCRReferrers
	}
	return &Registry{
		Name:      name,
		Kind:      KindGGCR,
		Host:      srv.Listener.Addr().String(),
		Referrers: referrers,
	}
}

// Distribution starts Debian's docker-registry (github.com/docker/distribution
// v2.8) as a child process listening on a free port of 127.0.0.1, with
// filesystem storage and deletes enabled under t.TempDir() and no
// authentication. It has no referrers API. It returns once GET /v2/ answers
// 200, polling for at most 10 seconds, and retries on a new port, up to three
// times in all, if the process exits during startup. The process is killed
// and waited for in t.Cleanup.
//
// The binary is looked up on PATH. When it is missing, Distribution calls
// t.Skipf, or t.Fatalf when the environment variable CI is "true"; either way
// it returns nil if those return. It fails the test, logging the process's
// output, when the registry does not start. The child inherits the
// environment without REGISTRY_* variables, which would override its config.
func Distribution(t testing.TB) *Registry {
	t.Helper()
	bin, err := exec.LookPath(distributionBinary)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s", distributionMissing)
		} else {
			t.Skipf("%s", distributionMissing)
		}
		return nil
	}
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		host, output, err := startDistribution(t, bin, dir)
		if err == nil {
			return &Registry{Name: NameDistribution, Kind: KindDistribution, Host: host}
		}
		var exited *exitedError
		if errors.As(err, &exited) && attempt < startAttempts {
			continue
		}
		if output != "" {
			t.Logf("registrytest: docker-registry output:\n%s", output)
		}
		t.Fatalf("registrytest: start docker-registry (attempt %d of %d): %v", attempt, startAttempts, err)
		return nil
	}
}

// All starts the three kinds of registry a registry test should cover, in this
// order: ggcr with the referrers API ([NameGGCRReferrers]), ggcr without it
// ([NameGGCRTagSchema]) and docker-registry ([NameDistribution]). Callers
// typically run one subtest per registry:
//
//	for _, reg := range registrytest.All(t) {
//		t.Run(reg.Name, func(t *testing.T) {
//			repo := reg.Repository(t, "acme/shop")
//			// ...
//		})
//	}
//
// When docker-registry is not on PATH and CI is not "true", All leaves it out
// and records a skipped subtest named [NameDistribution] carrying the install
// hint, so the ggcr kinds still run; when CI is "true" it fails the test.
func All(t *testing.T) []*Registry {
	t.Helper()
	regs := []*Registry{New(t, true), New(t, false)}
	if _, err := exec.LookPath(distributionBinary); err != nil && os.Getenv("CI") != "true" {
		t.Run(NameDistribution, func(t *testing.T) { t.Skipf("%s", distributionMissing) })
		return regs
	}
	return append(regs, Distribution(t))
}

// Repository returns an oras-go repository for name (e.g. "acme/shop") on r,
// over plain HTTP with oras-go's default client. When r.Referrers is true it
// declares the referrers API supported, because ggcr never answers a manifest
// PUT with OCI-Subject and oras-go would otherwise also write the referrers
// tag. Otherwise oras-go detects that the API is missing and uses the tag
// schema. It fails the test if name is not a valid repository name.
func (r *Registry) Repository(t testing.TB, name string) *remote.Repository {
	t.Helper()
	repo, err := remote.NewRepository(r.Ref(name))
	require.NoError(t, err)
	repo.PlainHTTP = true
	if r.Referrers {
		require.NoError(t, repo.SetReferrersCapability(true))
	}
	return repo
}

// Ref returns the reference "HOST/name" of repository name on r. name may
// carry a tag or digest ("acme/shop:v1"); Ref does not check it.
func (r *Registry) Ref(name string) string {
	return r.Host + "/" + name
}

// exitedError reports a docker-registry that exited before it answered, the
// case worth retrying on another port. err is what cmd.Wait returned.
type exitedError struct{ err error }

// Error describes the early exit.
func (e *exitedError) Error() string {
	return fmt.Sprintf("exited during startup: %v", e.err)
}

// Unwrap returns the error from cmd.Wait.
func (e *exitedError) Unwrap() error { return e.err }

// startDistribution runs one docker-registry from bin with its config and
// data in dir and waits for it to answer. On success it has registered the
// process's shutdown with t.Cleanup; on failure the process is gone and the
// output it wrote is returned with the error.
func startDistribution(t testing.TB, bin, dir string) (host, output string, err error) {
	host, err = freeLoopbackAddr()
	if err != nil {
		return "", "", err
	}
	nonce := rand.Text()
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, distributionConfig(host, filepath.Join(dir, "data"), nonce), 0o600); err != nil {
		return "", "", fmt.Errorf("write config: %w", err)
	}

	var out syncbuf.Buffer
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Dir = dir
	cmd.Env = withoutRegistryEnv(os.Environ())
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		return "", "", fmt.Errorf("run %s: %w", bin, err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	stop := func() {
		_ = cmd.Process.Kill() // fails only if it already exited
		<-done
	}

	if ready, err := waitReady(t.Context(), host, nonce, done); !ready {
		stop()
		if err == nil { // done was closed: the process exited
			err = &exitedError{err: waitErr}
		}
		return "", out.String(), err
	}
	t.Cleanup(stop)
	return host, "", nil
}

// waitReady polls GET http://host/v2/ until it answers 200 with the nonce
// header (true, nil), done is closed (false, nil), ctx ends or startTimeout
// passes (false, err).
func waitReady(ctx context.Context, host, nonce string, done <-chan struct{}) (bool, error) {
	tr := &http.Transport{} // no proxy, no shared connections
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Second}
	url := "http://" + host + "/v2/"

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return false, nil
		case <-ctx.Done():
			return false, fmt.Errorf("wait for GET %s: %w", url, ctx.Err())
		case <-deadline.C:
			return false, fmt.Errorf("GET %s did not answer 200 within %s", url, startTimeout)
		case <-tick.C:
			if probe(ctx, client, url, nonce) {
				return true, nil
			}
		}
	}
}

// probe reports whether url answers 200 with nonce in the nonce header, which
// only our docker-registry sends.
func probe(ctx context.Context, client *http.Client, url, nonce string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK && resp.Header.Get(nonceHeader) == nonce
}

// freeLoopbackAddr returns "127.0.0.1:PORT" for a port that was free a moment
// ago; another process may take it before docker-registry binds it.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// distributionConfig returns a docker-registry config.yml: quiet logs, no
// access log, filesystem storage in root with deletes enabled, addr, no auth,
// and nonce in the header every response carries. Strings are YAML
// double-quoted.
func distributionConfig(addr, root, nonce string) []byte {
	return fmt.Appendf(nil, `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: %q
  headers:
    %s: [%q]
`, root, addr, nonceHeader, nonce)
}

// withoutRegistryEnv returns env without the REGISTRY_* variables through
// which docker-registry lets the environment override its config file.
func withoutRegistryEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			out = append(out, kv)
		}
	}
	return out
}
