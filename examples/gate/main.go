// Command gate is an HTTP go / no-go service: a deploy tool or an
// admission controller asks it, before each deploy, whether a release may
// run, and gets the decision of a release policy over the release's
// verified signatures, provenance, ledger and security evidence. It is
// written over the public API of github.com/slipway-dev/slipway/release,
// as a platform team would write it, around a [release.Verifier] per
// repository: decisions are kept for a TTL, then checked again with a few
// cheap requests, and verified fully only when the tag moved or new
// evidence (a scan, a VEX statement) was attached.
//
// Usage:
//
//	gate --key PUB [--key PUB…] [--policy FILE] [flags]
//
// Flags:
//
//	--listen ADDR          address to serve on (default 127.0.0.1:8080)
//	--key PUB              trust the PEM public key in PUB (repeatable; required)
//	--policy FILE          the go / no-go policy; without it a release that verifies is go
//	--decision-key PUB     also require a go decision recorded by this key (repeatable)
//	--ttl D                how long a decision is answered from memory (default 30s)
//	--cache-size N         decisions kept per repository (default 4096)
//	--max-repositories N   repositories with a cache at once (default 64)
//	--registry HOST        decide only releases on these registries (repeatable; default any)
//	--verify-timeout D     the longest a decision may take (default 30s)
//	--plain-http           talk to registries over HTTP, not HTTPS
//	--oci-layout DIR       decide releases in the OCI image layout DIR, not in registries
//
// Endpoints:
//
//	POST /v1/decide  {"ref":"HOST/REPO:TAG"}, {"ref":"HOST/REPO@sha256:…"}, or a
//	                 tag or digest with --oci-layout: 200 with the decision, go or
//	                 no-go, with "error" when verification failed; 400 for a
//	                 malformed body or ref, 403 for a registry not allowed, 404 for
//	                 a ref that names nothing, 405 for another method, 413 for a
//	                 body over 64 KiB, 502 when the registry cannot be reached or
//	                 fails, 504 when the decision takes too long
//	GET  /v1/stats   what the caches did: hits, misses, rechecks, …
//	GET  /healthz    200 ok
//
// Registry credentials come from the docker configuration
// ($DOCKER_CONFIG/config.json or ~/.docker/config.json and its credential
// helpers). Logs are JSON lines on stderr, one per decision with the ref,
// digest, verdict, status and duration; they never hold key material or
// credentials. SIGINT or SIGTERM stops the gate after the requests in
// flight are answered.
//
// Exit status: 0 after a clean shutdown, 2 on bad flags or when the gate
// cannot start.
package main

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/release"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 2
)

// Limits of the service.
const (
	maxBody         = 64 << 10 // bytes of a request body
	maxRefLog       = 256      // bytes of a ref in logs and errors
	shutdownTimeout = 15 * time.Second
	layoutRefresh   = time.Second // how old a view of the layout may get
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is the gate's settings, from the command line.
type config struct {
	listen        string
	keys          []string // paths of trusted public keys
	policy        string   // path of the policy file; "" for none
	decisionKeys  []string // paths
	ttl           time.Duration
	cacheSize     int
	maxRepos      int
	registries    []string // allowed registry hosts; empty: any
	verifyTimeout time.Duration
	plainHTTP     bool
	ociLayout     string

	// logger receives the logs; if nil, nothing is logged.
	logger *slog.Logger
	// transport carries the requests to registries; if nil,
	// http.DefaultTransport. Tests count requests through it.
	transport http.RoundTripper
}

// run runs the gate with the command line args (without the program
// name) until ctx is done, logging to stderr, and returns the exit code.
// It prints the address it listens on to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := config{logger: slog.New(slog.NewJSONHandler(stderr, nil))}
	cmd := &cobra.Command{
		Use:           "gate --key PUB [--policy FILE] [flags]",
		Short:         "Serve go / no-go decisions about slipway releases over HTTP",
		Args:          cobra.NoArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), cfg, stdout)
		},
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	cmd.SetArgs(args)
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "serve on `ADDR`")
	fl.StringArrayVar(&cfg.keys, "key", nil, "trust the PEM public key in `PUB` (repeatable; required)")
	fl.StringVar(&cfg.policy, "policy", "", "decide by the policy in `FILE`; without it a release that verifies is go")
	fl.StringArrayVar(&cfg.decisionKeys, "decision-key", nil, "require a go decision recorded by the key in `PUB` (repeatable)")
	fl.DurationVar(&cfg.ttl, "ttl", 30*time.Second, "answer a decision from memory for `D` after a check")
	fl.IntVar(&cfg.cacheSize, "cache-size", 4096, "keep at most `N` decisions per repository")
	fl.IntVar(&cfg.maxRepos, "max-repositories", 64, "keep caches for at most `N` repositories")
	fl.StringArrayVar(&cfg.registries, "registry", nil, "decide only releases on registry `HOST` (repeatable; default any)")
	fl.DurationVar(&cfg.verifyTimeout, "verify-timeout", 30*time.Second, "give up a decision after `D`")
	fl.BoolVar(&cfg.plainHTTP, "plain-http", false, "talk to registries over HTTP, not HTTPS")
	fl.StringVar(&cfg.ociLayout, "oci-layout", "", "decide releases in the OCI image layout `DIR`, not in registries")
	cmd.MarkFlagsMutuallyExclusive("plain-http", "oci-layout")
	cmd.MarkFlagsMutuallyExclusive("registry", "oci-layout")
	_ = cmd.MarkFlagRequired("key")

	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "gate: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		return exitError
	}
	return exitOK
}

// serve listens on cfg.listen and serves the gate until ctx is done, then
// shuts down gracefully.
func serve(ctx context.Context, cfg config, stdout io.Writer) error {
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	srv, err := newServer(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", srv.Addr)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	fmt.Fprintf(stdout, "gate: listening on http://%s\n", ln.Addr())
	cfg.logger.Info("listening", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	cfg.logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// newServer checks cfg, loads the keys and the policy, and returns the
// gate as an http.Server for cfg.listen, with its timeouts set. It reads
// nothing from registries.
func newServer(cfg config) (*http.Server, error) {
	g, err := newGate(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/decide", g.decide) // every method: 405 with a JSON body
	mux.HandleFunc("GET /v1/stats", g.stats)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok")
	})
	return &http.Server{
		Addr:              cfg.listen,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      cfg.verifyTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}, nil
}

// gate answers the requests: one release.Verifier per repository, made
// on first use, at most cfg.maxRepos of them, the least recently used
// dropped first.
type gate struct {
	cfg     config
	log     *slog.Logger
	trusted []signature.Verifier
	opts    release.VerifierOptions
	client  *auth.Client  // shared by every repository: one token cache
	layout  *layoutSource // with --oci-layout

	mu        sync.Mutex
	verifiers map[string]*list.Element // by repository ("" for the layout), values *repoVerifier
	lru       *list.List
	dropped   release.VerifierStats // what the dropped verifiers did
}

type repoVerifier struct {
	name string
	v    *release.Verifier
}

func newGate(cfg config) (*gate, error) {
	switch {
	case len(cfg.keys) == 0:
		return nil, errors.New("--key: at least one trusted key is required")
	case cfg.ttl <= 0:
		return nil, fmt.Errorf("--ttl %s: want a positive duration", cfg.ttl)
	case cfg.cacheSize <= 0:
		return nil, fmt.Errorf("--cache-size %d: want a positive number", cfg.cacheSize)
	case cfg.maxRepos <= 0:
		return nil, fmt.Errorf("--max-repositories %d: want a positive number", cfg.maxRepos)
	case cfg.verifyTimeout <= 0:
		return nil, fmt.Errorf("--verify-timeout %s: want a positive duration", cfg.verifyTimeout)
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	g := &gate{cfg: cfg, log: cfg.logger, verifiers: map[string]*list.Element{}, lru: list.New()}
	var err error
	if g.trusted, err = loadKeys("--key", cfg.keys); err != nil {
		return nil, err
	}
	decisionKeys, err := loadKeys("--decision-key", cfg.decisionKeys)
	if err != nil {
		return nil, err
	}
	var policy *release.Policy
	if cfg.policy != "" {
		if policy, err = release.ReadPolicyFile(cfg.policy); err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
	}
	g.opts = release.VerifierOptions{
		Policy: policy,
		Verify: release.VerifyOptions{DecisionKeys: decisionKeys},
		Size:   cfg.cacheSize,
		TTL:    cfg.ttl,
	}
	for _, h := range cfg.registries {
		if h == "" || strings.ContainsAny(h, "/@") {
			return nil, fmt.Errorf("--registry %q: want a host such as registry.example.com or 127.0.0.1:5000", h)
		}
	}
	if cfg.ociLayout != "" {
		if fi, err := os.Stat(cfg.ociLayout); err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("--oci-layout %q: not a directory", cfg.ociLayout)
		}
		l, err := build.OpenLayout(context.Background(), cfg.ociLayout)
		if err != nil {
			return nil, fmt.Errorf("--oci-layout: %w", err)
		}
		g.layout = &layoutSource{l: l, loaded: time.Now()}
		return g, nil
	}
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker credentials: %w", err)
	}
	transport := cfg.transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	g.client = &auth.Client{
		Client:     &http.Client{Transport: retry.NewTransport(transport)},
		Cache:      auth.NewCache(),
		Credential: credentials.Credential(store),
	}
	return g, nil
}

// loadKeys reads the public key files paths; flag names them in errors.
func loadKeys(flag string, paths []string) ([]signature.Verifier, error) {
	var out []signature.Verifier
	for _, p := range paths {
		v, err := attest.LoadPublicKeyFile(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// decideRequest is the body of POST /v1/decide.
type decideRequest struct {
	Ref string `json:"ref"`
}

// answer is the body of a decision: the decision's JSON, with the
// verification error when there was one.
type answer struct {
	*release.Decision
	Error string `json:"error,omitempty"`
}

// decide serves POST /v1/decide.
func (g *gate) decide(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s: POST a JSON body such as {\"ref\":\"HOST/REPO:TAG\"}", r.Method))
		return
	}
	req, status, err := readRequest(w, r)
	if err != nil {
		g.log.Info("refused", "status", status, "error", err.Error())
		writeError(w, status, err.Error())
		return
	}
	shown := redact(req.Ref)
	v, ref, status, err := g.verifierFor(req.Ref)
	if err != nil {
		g.log.Info("refused", "ref", shown, "status", status, "error", err.Error())
		writeError(w, status, err.Error())
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.verifyTimeout)
	defer cancel()
	d, err := v.Decide(ctx, ref)
	took := time.Since(start)
	if d == nil {
		if r.Context().Err() != nil {
			g.log.Info("client gone", "ref", shown, "duration", took)
			return
		}
		status, msg := failure(err, g.cfg.verifyTimeout)
		g.log.Warn("no decision", "ref", shown, "status", status, "duration", took, "error", err.Error())
		writeError(w, status, msg)
		return
	}
	a := answer{Decision: d}
	var ve *release.VerifyError
	if err != nil && !(errors.As(err, &ve) && ve.Check == "policy") {
		a.Error = err.Error() // verification failed: the decision has one finding, this
	}
	g.log.Info("decision", "ref", shown, "digest", d.Release.Digest.String(), "verdict", string(d.Verdict),
		"status", http.StatusOK, "duration", took, "verification_failed", a.Error != "")
	writeJSON(w, http.StatusOK, a)
}

// readRequest reads the body of a decision request, at most maxBody
// bytes of one JSON object, and returns the status to refuse it with.
func readRequest(w http.ResponseWriter, r *http.Request) (decideRequest, int, error) {
	var req decideRequest
	body := http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil {
		// Exactly one JSON value: the rest must be white space.
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("data after the JSON object")
			var mbe *http.MaxBytesError
			if errors.As(extra, &mbe) {
				err = extra
			}
		}
	}
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return req, http.StatusRequestEntityTooLarge, fmt.Errorf("body over %d KiB", maxBody>>10)
	case err != nil:
		return req, http.StatusBadRequest, fmt.Errorf("malformed body: want {\"ref\":\"HOST/REPO:TAG\"}: %v", err)
	case strings.TrimSpace(req.Ref) == "":
		return req, http.StatusBadRequest, errors.New("malformed body: no ref; want {\"ref\":\"HOST/REPO:TAG\"}")
	}
	return req, 0, nil
}

// verifierFor returns the verifier of the repository ref is in and what
// to decide there (a tag or a digest), or the status and error to refuse
// ref with.
func (g *gate) verifierFor(ref string) (*release.Verifier, string, int, error) {
	if g.layout != nil {
		if !isTag(ref) && digest.Digest(ref).Validate() != nil {
			return nil, "", http.StatusBadRequest, fmt.Errorf("ref %q: want a tag or a digest of the layout", redact(ref))
		}
		v, err := g.verifier("", func() oras.ReadOnlyGraphTarget { return g.layout })
		if err != nil {
			return nil, "", http.StatusInternalServerError, err
		}
		return v, ref, 0, nil
	}
	parsed, err := registry.ParseReference(ref)
	if err != nil || parsed.Reference == "" {
		return nil, "", http.StatusBadRequest, fmt.Errorf("ref %q: want HOST/REPO:TAG or HOST/REPO@sha256:…", redact(ref))
	}
	if len(g.cfg.registries) > 0 && !slices.Contains(g.cfg.registries, parsed.Registry) {
		return nil, "", http.StatusForbidden, fmt.Errorf("ref %q: registry %s is not one this gate decides for", redact(ref), parsed.Registry)
	}
	name := parsed.Registry + "/" + parsed.Repository
	v, err := g.verifier(name, func() oras.ReadOnlyGraphTarget {
		return &remote.Repository{
			Client:    g.client,
			Reference: registry.Reference{Registry: parsed.Registry, Repository: parsed.Repository},
			PlainHTTP: g.cfg.plainHTTP,
		}
	})
	if err != nil {
		return nil, "", http.StatusInternalServerError, err
	}
	return v, parsed.Reference, 0, nil
}

// verifier returns the verifier of the repository name, making it from
// the store open gives if there is none.
func (g *gate) verifier(name string, open func() oras.ReadOnlyGraphTarget) (*release.Verifier, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if el, ok := g.verifiers[name]; ok {
		g.lru.MoveToFront(el)
		return el.Value.(*repoVerifier).v, nil
	}
	v, err := release.NewVerifier(open(), g.trusted, g.opts)
	if err != nil {
		return nil, err
	}
	g.verifiers[name] = g.lru.PushFront(&repoVerifier{name: name, v: v})
	for g.lru.Len() > g.cfg.maxRepos {
		last := g.lru.Back()
		rv := g.lru.Remove(last).(*repoVerifier)
		delete(g.verifiers, rv.name)
		st := rv.v.Stats()
		st.Entries = 0 // gone with it
		g.dropped = add(g.dropped, st)
	}
	return v, nil
}

// statsAnswer is the body of GET /v1/stats.
type statsAnswer struct {
	Repositories int    `json:"repositories"`
	Entries      int    `json:"entries"`
	Hits         uint64 `json:"hits"`
	Misses       uint64 `json:"misses"`
	Rechecks     uint64 `json:"rechecks"`
	Shared       uint64 `json:"shared"`
	Evictions    uint64 `json:"evictions"`
}

// stats serves GET /v1/stats: what the verifiers did, summed.
func (g *gate) stats(w http.ResponseWriter, _ *http.Request) {
	g.mu.Lock()
	sum := g.dropped
	n := g.lru.Len()
	for el := g.lru.Front(); el != nil; el = el.Next() {
		sum = add(sum, el.Value.(*repoVerifier).v.Stats())
	}
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, statsAnswer{
		Repositories: n, Entries: sum.Entries, Hits: sum.Hits, Misses: sum.Misses,
		Rechecks: sum.Rechecks, Shared: sum.Shared, Evictions: sum.Evictions,
	})
}

func add(a, b release.VerifierStats) release.VerifierStats {
	return release.VerifierStats{
		Hits: a.Hits + b.Hits, Misses: a.Misses + b.Misses, Rechecks: a.Rechecks + b.Rechecks,
		Shared: a.Shared + b.Shared, Evictions: a.Evictions + b.Evictions, Entries: a.Entries + b.Entries,
	}
}

// failure returns the status and message for a request that got no
// decision: the registry could not be reached or failed (502), the
// decision took too long (504), or the ref names nothing (404).
func failure(err error, timeout time.Duration) (int, string) {
	var ne net.Error
	var resp *errcode.ErrorResponse
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout, fmt.Sprintf("no decision within %s: %v", timeout, err)
	case errors.Is(err, errdef.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		return http.StatusBadGateway, fmt.Sprintf("the registry refused the gate's credentials: %v", err)
	}
	return http.StatusBadGateway, fmt.Sprintf("the store cannot be read: %v", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client may be gone
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// redact returns ref fit for logs and errors: without a scheme, user
// info before the host, a query or a fragment, and at most maxRefLog
// bytes. A ref has no place for credentials, but a client may send a URL.
func redact(ref string) string {
	if _, rest, ok := strings.Cut(ref, "://"); ok {
		ref = rest
	}
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		ref = ref[:i]
	}
	host, path, hasPath := strings.Cut(ref, "/")
	if i := strings.LastIndexByte(host, '@'); i >= 0 && (hasPath || digest.Digest(host[i+1:]).Validate() != nil) {
		ref = "REDACTED@" + host[i+1:]
		if hasPath {
			ref += "/" + path
		}
	}
	if len(ref) > maxRefLog {
		ref = ref[:maxRefLog] + "…"
	}
	return ref
}

// isTag reports whether s is a tag as the OCI distribution spec has it.
func isTag(s string) bool {
	return registry.Reference{Reference: s}.ValidateReferenceAsTag() == nil
}

// layoutSource reads an OCI image layout, reloading its view from disk
// when it is older than layoutRefresh, so that tags and evidence another
// process writes are seen: a [build.Layout] reads the view it loaded
// last.
type layoutSource struct {
	mu     sync.Mutex
	l      *build.Layout
	loaded time.Time
}

var _ oras.ReadOnlyGraphTarget = (*layoutSource)(nil)

func (s *layoutSource) view(ctx context.Context) (*build.Layout, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.loaded) > layoutRefresh {
		// An Update that changes nothing reloads the view and saves nothing.
		if err := s.l.Update(ctx, func(oras.Target) error { return nil }); err != nil {
			return nil, err
		}
		s.loaded = time.Now()
	}
	return s.l, nil
}

// Resolve resolves reference in a fresh view of the layout.
func (s *layoutSource) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	l, err := s.view(ctx)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return l.Resolve(ctx, reference)
}

// Fetch reads a blob or manifest of the layout.
func (s *layoutSource) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	l, err := s.view(ctx)
	if err != nil {
		return nil, err
	}
	return l.Fetch(ctx, target)
}

// Exists reports whether the layout holds target.
func (s *layoutSource) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	l, err := s.view(ctx)
	if err != nil {
		return false, err
	}
	return l.Exists(ctx, target)
}

// Predecessors lists the manifests of the layout that refer to node.
func (s *layoutSource) Predecessors(ctx context.Context, node ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	l, err := s.view(ctx)
	if err != nil {
		return nil, err
	}
	return l.Predecessors(ctx, node)
}
