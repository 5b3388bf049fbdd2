package cosigntest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Version is the cosign release this package is written against; .ci/run
// pins the same one (COSIGN_VERSION). [Binary] refuses any other.
const Version = "v3.1.3"

// Timeouts bounding each cosign process.
const (
	// RunTimeout bounds one cosign invocation, on top of the caller's
	// context; the process is killed when it expires.
	RunTimeout = 2 * time.Minute
	// versionTimeout bounds `cosign version --json` in [Binary].
	versionTimeout = 30 * time.Second
	// waitDelay is how long a killed cosign may keep its output open.
	waitDelay = 5 * time.Second
)

// Flags passed by the helpers, so that every call is key-based, writes and
// reads no transparency log, and needs no network beyond 127.0.0.1.
var (
	// signFlags turn off the TUF-provided signing config (the default would
	// fetch it from tuf-repo-cdn.sigstore.dev even with --key) and the Rekor
	// upload. They work for both output formats; the non-deprecated
	// alternative, --signing-config and --trusted-root files without
	// services, refuses --new-bundle-format=false.
	signFlags = []string{"--use-signing-config=false", "--tlog-upload=false", "--allow-http-registry"}
	// verifyFlags skip the transparency log check, without which cosign
	// fetches the trusted root from TUF.
	verifyFlags = []string{"--insecure-ignore-tlog", "--allow-http-registry"}
)

// Binary returns the path of the cosign executable the interop tests run:
// $XDG_CACHE_HOME/slipway-ci/bin/cosign (~/.cache when XDG_CACHE_HOME is
// empty), where .ci/run installs it, else cosign on PATH. The binary must
// report [Version] in `cosign version --json`.
//
// When there is none, or it reports another version, Binary calls t.Fatal
// if the environment variable CI is "true" (CI must run the interop tests)
// and t.Skip otherwise, with a message saying how to install it.
func Binary(t testing.TB) string {
	t.Helper()
	path, err := find()
	if err == nil {
		err = checkVersion(t.Context(), path)
	}
	if err != nil {
		msg := fmt.Sprintf("cosigntest: %v: run .ci/run, which installs cosign %s into %s, or `go install github.com/sigstore/cosign/v3/cmd/cosign@%s`",
			err, Version, cachedPath(), Version)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		} else {
			t.Skip(msg)
		}
	}
	return path
}

// cachedPath is where .ci/run installs cosign ("" if no home is known).
func cachedPath() string {
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, "slipway-ci", "bin", "cosign")
}

// find returns the cached cosign if it is an executable file, else cosign
// from PATH.
func find() (string, error) {
	if p := cachedPath(); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath("cosign")
	if err != nil {
		return "", errors.New("cosign not installed")
	}
	return p, nil
}

// checkVersion fails unless `path version --json` reports Version.
func checkVersion(ctx context.Context, path string) error {
	ctx, cancel := context.WithTimeout(ctx, versionTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "version", "--json")
	cmd.Env = []string{} // nothing of ours; version reads no file
	cmd.WaitDelay = waitDelay
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s version --json: %w", path, err)
	}
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return fmt.Errorf("%s version --json: %w", path, err)
	}
	if v.GitVersion != Version {
		return fmt.Errorf("%s is cosign %q, want %s", path, v.GitVersion, Version)
	}
	return nil
}

// Cosign runs the cosign CLI hermetically: each process gets an environment
// built from scratch, with HOME, the XDG directories, TMPDIR, DOCKER_CONFIG
// and TUF_ROOT inside a t.TempDir(), so cosign never reads or writes the
// user's ~/.sigstore or ~/.docker, and nothing is inherited from the test's
// environment (no COSIGN_*, SIGSTORE_*, TUF_ROOT or proxy settings). Stdin is
// empty, so a confirmation prompt fails instead of waiting. Commands run in a
// scratch directory: pass absolute paths.
//
// Network: HTTP_PROXY and HTTPS_PROXY point at a trap on 127.0.0.1 that
// answers 403 and records the host asked for (see [Cosign.Egress]); loopback
// addresses are never proxied, so registries on 127.0.0.1 are reached
// directly while any attempt to reach TUF, Rekor or Fulcio fails at once.
//
// A password is handed over only in COSIGN_PASSWORD, never on the command
// line, and nothing is logged: the helpers return cosign's output for the
// caller to assert on. Methods may be called concurrently.
type Cosign struct {
	bin  string
	home string // HOME, and the parent of the other private directories
	work string // the working directory of every command
	env  []string
	trap *egressTrap
}

// New returns a [Cosign] running the binary [Binary] finds (skipping or
// failing t as Binary does), with its private directories in t.TempDir()
// and its egress trap closed by t.Cleanup.
func New(t testing.TB) *Cosign {
	t.Helper()
	bin := Binary(t)
	home := t.TempDir()
	work := filepath.Join(home, "work")
	for _, d := range []string{work, filepath.Join(home, "tmp")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatalf("cosigntest: %v", err)
		}
	}
	trap, err := newEgressTrap()
	if err != nil {
		t.Fatalf("cosigntest: %v", err)
	}
	t.Cleanup(trap.close)
	proxy := "http://" + trap.addr()
	const noProxy = "127.0.0.1,localhost,::1"
	env := []string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
		"TMPDIR=" + filepath.Join(home, "tmp"),
		"DOCKER_CONFIG=" + filepath.Join(home, ".docker"),
		"TUF_ROOT=" + filepath.Join(home, ".sigstore", "root"),
		"HTTP_PROXY=" + proxy, "http_proxy=" + proxy,
		"HTTPS_PROXY=" + proxy, "https_proxy=" + proxy,
		"NO_PROXY=" + noProxy, "no_proxy=" + noProxy,
	}
	return &Cosign{bin: bin, home: home, work: work, env: env, trap: trap}
}

// Path returns the cosign executable c runs.
func (c *Cosign) Path() string { return c.bin }

// Home returns the private HOME of c's processes; tests may check that
// cosign left nothing there (such as a TUF cache in .sigstore).
func (c *Cosign) Home() string { return c.home }

// Egress returns the hosts ("host:port") c's processes tried to reach
// through the proxy since [New], in order. Registries on 127.0.0.1 do not
// appear; anything here is a call to the outside world that failed.
func (c *Cosign) Egress() []string { return c.trap.hosts() }

// Run runs `cosign args...` without a password and returns its combined
// stdout and stderr. It fails with an error wrapping *exec.ExitError when
// cosign exits non-zero (the output still returned), and with ctx's error
// as well when ctx ends or [RunTimeout] passes first.
func (c *Cosign) Run(ctx context.Context, args ...string) (string, error) {
	return c.run(ctx, c.work, nil, args)
}

// run runs cosign with args in dir, COSIGN_PASSWORD set to *password when
// password is not nil.
func (c *Cosign) run(ctx context.Context, dir string, password *string, args []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, RunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = dir
	cmd.Env = c.env
	if password != nil {
		cmd.Env = append(append([]string(nil), c.env...), "COSIGN_PASSWORD="+*password)
	}
	var out bytes.Buffer // one writer for both: a single pipe keeps cosign's order
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return out.String(), fmt.Errorf("cosign %s: %w", strings.Join(args, " "), err)
	}
	return out.String(), nil
}

// GenerateKeyPair runs `cosign generate-key-pair` in dir, creating dir if
// needed, and returns the absolute paths of the encrypted private key
// (dir/cosign.key, PEM "ENCRYPTED SIGSTORE PRIVATE KEY", ECDSA P-256) and of
// the public key (dir/cosign.pub). password may be empty. It fails t,
// with cosign's output, if cosign fails, which it does when dir already
// holds a key pair.
func (c *Cosign) GenerateKeyPair(t testing.TB, dir, password string) (keyPath, pubPath string) {
	t.Helper()
	dir, err := filepath.Abs(dir)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		t.Fatalf("cosigntest: %v", err)
	}
	out, err := c.run(t.Context(), dir, &password, []string{"generate-key-pair"})
	if err != nil {
		t.Fatalf("cosigntest: %v\n%s", err, out)
	}
	return filepath.Join(dir, "cosign.key"), filepath.Join(dir, "cosign.pub")
}

// Sign runs `cosign sign --key keyPath` on ref (a reference by digest,
// "127.0.0.1:PORT/repo@sha256:…") with the flags for key-based signing
// without transparency log or TUF (--use-signing-config=false
// --tlog-upload=false) and --allow-http-registry, then extra, and returns
// cosign's output. By default cosign v3 pushes a Sigstore bundle referrer;
// extra "--new-bundle-format=false" pushes the legacy sha256-<hex>.sig tag
// instead. Errors are as for [Cosign.Run].
func (c *Cosign) Sign(ctx context.Context, ref, keyPath, password string, extra ...string) (string, error) {
	args := append([]string{"sign", "--key", keyPath}, signFlags...)
	args = append(append(args, extra...), ref)
	return c.run(ctx, c.work, &password, args)
}

// Attest runs `cosign attest --key keyPath --type typ --predicate
// predicatePath` on ref with the signing flags of [Cosign.Sign], then extra,
// and returns cosign's output. typ is a cosign predicate type name
// ("slsaprovenance1", "cyclonedx", "custom", …) or a type URI. By default
// cosign v3 pushes a bundle referrer; extra "--new-bundle-format=false"
// adds a layer to the legacy sha256-<hex>.att tag instead. Errors are as for
// [Cosign.Run].
func (c *Cosign) Attest(ctx context.Context, ref, keyPath, password, predicatePath, typ string, extra ...string) (string, error) {
	args := append([]string{"attest", "--key", keyPath, "--type", typ, "--predicate", predicatePath}, signFlags...)
	args = append(append(args, extra...), ref)
	return c.run(ctx, c.work, &password, args)
}

// Verify runs `cosign verify --key pubPath --insecure-ignore-tlog
// --allow-http-registry`, then extra, on ref and returns cosign's output;
// [Signatures] reads the verified payloads from it. cosign exits non-zero,
// and Verify returns an error as [Cosign.Run] does, when no signature
// verifies with the key or there is none. It reads bundle referrers when
// there are any, the legacy .sig tag otherwise, and counts any bundle
// signed by the key as a signature, attestations included.
func (c *Cosign) Verify(ctx context.Context, ref, pubPath string, extra ...string) (string, error) {
	args := append([]string{"verify", "--key", pubPath}, verifyFlags...)
	args = append(append(args, extra...), ref)
	return c.run(ctx, c.work, nil, args)
}

// VerifyAttestation runs `cosign verify-attestation --key pubPath --type
// typ --insecure-ignore-tlog --allow-http-registry`, then extra, on ref and
// returns cosign's output; [Attestations] reads the verified envelopes from
// it. It fails as [Cosign.Verify] does, and also when no verified
// attestation has predicate type typ.
func (c *Cosign) VerifyAttestation(ctx context.Context, ref, pubPath, typ string, extra ...string) (string, error) {
	args := append([]string{"verify-attestation", "--key", pubPath, "--type", typ}, verifyFlags...)
	args = append(append(args, extra...), ref)
	return c.run(ctx, c.work, nil, args)
}
