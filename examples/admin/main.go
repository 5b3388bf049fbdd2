// Command admin runs a declared admin one-off, typically a migration,
// against the current release of an environment, and reports the outcome
// as one JSON object a chat-ops bot or a CI job can post. It is written
// over the public API of github.com/slipway-dev/slipway/release, as a
// platform team would put it behind its bot.
//
// Usage:
//
//	admin --key OPS_KEY --verify-key PUB [--policy FILE] --operator WHO \
//		[--plain-http | --oci-layout] [--timeout D] [--dry-run] \
//		REPOSITORY ENVIRONMENT PROCESS [-- ARGS...]
//
// For example, from the repository's root:
//
//	go run ./examples/admin --key ops.key --verify-key slipway.pub --policy policy.json \
//		--operator @alice registry.example.com/acme/shop prod migrate -- --to 42
//
// REPOSITORY is HOST/REPO, with registry credentials from the docker
// configuration ($DOCKER_CONFIG/config.json or ~/.docker/config.json and
// its credential helpers), or an OCI image layout directory with
// --oci-layout. ENVIRONMENT names the environment's head tag ("prod").
//
// The runner resolves the head tag once, to a digest, and uses that
// release from then on: a release that lands meanwhile does not change
// what runs. It opens the release (release.Open): verified with the
// --verify-key keys, refused if revoked, judged go by --policy if given,
// the config's env:// and file:// secret references resolved from the
// runner's environment and files, the build extracted into a temporary
// directory removed afterwards. Then release.Admin runs PROCESS, which the
// build must declare as an admin one-off, with ARGS, stdin closed, its
// stdout and stderr streamed to the runner's stderr (the job's log), and
// records the run as an audit attestation signed with --key, whatever its
// outcome. --timeout and SIGINT or SIGTERM kill the process; the record is
// still written. With --dry-run it opens and decides only: nothing runs,
// nothing is recorded.
//
// Stdout holds exactly one JSON object:
//
//	{"status":"ok"|"failed"|"refused"|"error", "repository":…, "environment":…,
//	 "release":{"app","environment","version","digest"}, "process":…, "args":[…],
//	 "operator":…, "dryRun":true (with --dry-run), "exitCode":N (when it ran),
//	 "durationMs":N, "audit":{the signed record} (when it ran),
//	 "reason":… (refused, error, killed), "decision":{…} (with --policy)}
//
// It never holds a secret value or the process's output. Stderr has the
// process's output and a short human summary.
//
// Exit status: the process's when it ran (0 ok; 128+N when signal N ended
// it), 1 when the run was refused (verification failure, revoked, no-go,
// PROCESS not a declared admin one-off), 2 on bad input or an operational
// error. `slipway audit REPOSITORY:ENVIRONMENT` lists the records.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// Exit codes besides the process's own.
const (
	exitOK      = 0
	exitRefused = 1
	exitError   = 2
)

// passwordEnv are the variables an encrypted --key's password is read
// from, in order. The runner never prompts: a bot has no terminal.
var passwordEnv = []string{"SLIPWAY_PASSWORD", "COSIGN_PASSWORD"}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// settings are the runner's flags.
type settings struct {
	key        string   // private key signing the audit record
	verifyKeys []string // public keys trusted for the release
	policy     string   // go / no-go policy file; "" for none
	operator   string
	plainHTTP  bool
	ociLayout  bool
	timeout    time.Duration // 0: none
	dryRun     bool
	secretRoot string // confines file:// references; "" for none
}

// run runs the runner with the command line args (without the program
// name): the report on stdout, the process's output and a summary on
// stderr. It returns the exit status. ctx cancels the run, as SIGINT and
// SIGTERM do.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	var s settings
	rep := &report{Args: []string{}}
	code, ran := exitError, false
	cmd := &cobra.Command{
		Use:   "admin --key OPS_KEY --verify-key PUB --operator WHO [flags] REPOSITORY ENVIRONMENT PROCESS [-- ARGS...]",
		Short: "Run a declared admin one-off against the current release of an environment, recorded and reported as JSON",
		Args: func(cmd *cobra.Command, args []string) error {
			if at := cmd.ArgsLenAtDash(); at >= 0 && at != 3 {
				return fmt.Errorf("want REPOSITORY, ENVIRONMENT and PROCESS before --, got %d arguments", at)
			}
			if len(args) < 3 {
				return fmt.Errorf("want REPOSITORY, ENVIRONMENT and PROCESS arguments, got %d", len(args))
			}
			return nil
		},
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ran = true
			rep.Repository, rep.Environment, rep.Process = args[0], args[1], args[2]
			rep.Args = slices.Clone(args[3:])
			if rep.Args == nil {
				rep.Args = []string{}
			}
			rep.Operator, rep.DryRun = s.operator, s.dryRun
			code = s.admin(cmd.Context(), rep, stderr)
			return nil
		},
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	cmd.SetOut(stderr) // --help too: stdout is the bot's, for the report only
	cmd.SetErr(stderr)
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	cmd.SetArgs(args)
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&s.key, "key", "", "sign the audit record with the private key in `OPS_KEY` (PEM or cosign; password from SLIPWAY_PASSWORD, else COSIGN_PASSWORD; required)")
	fl.StringArrayVar(&s.verifyKeys, "verify-key", nil, "trust the PEM public key in `PUB` for the release's signature (repeatable; required)")
	fl.StringVar(&s.policy, "policy", "", "run only if the go / no-go policy in the JSON `FILE` says go")
	fl.StringVar(&s.operator, "operator", "", "record `WHO` runs it, as the bot knows them (required)")
	fl.BoolVar(&s.plainHTTP, "plain-http", false, "talk to the registry over HTTP, not HTTPS")
	fl.BoolVar(&s.ociLayout, "oci-layout", false, "REPOSITORY is an OCI image layout directory, not HOST/REPO")
	fl.DurationVar(&s.timeout, "timeout", 0, "kill the run after `D`, checks included (default: no limit)")
	fl.BoolVar(&s.dryRun, "dry-run", false, "open the release and decide only: run nothing, record nothing")
	fl.StringVar(&s.secretRoot, "secret-root", "", "resolve file:// secret references only below the absolute directory `DIR`")
	cmd.MarkFlagsMutuallyExclusive("plain-http", "oci-layout")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("verify-key")
	_ = cmd.MarkFlagRequired("operator")

	if err := cmd.ExecuteContext(ctx); err != nil {
		rep.Status, rep.Reason, code = statusError, reason(err), exitError
	} else if !ran {
		return exitOK // --help
	}
	rep.DurationMs = time.Since(start).Milliseconds()
	if err := rep.write(stdout); err != nil {
		fmt.Fprintf(stderr, "admin: write the report: %v\n", err)
		if code == exitOK {
			code = exitError
		}
	}
	fmt.Fprintln(stderr, rep.line())
	return code
}

// admin checks the settings, opens the release the environment's head
// names, and runs or (with --dry-run) judges the process, filling rep.
// It returns the exit status.
func (s *settings) admin(ctx context.Context, rep *report, log io.Writer) int {
	fail := func(status string, code int, err error) int {
		rep.Status, rep.Reason = status, reason(err)
		return code
	}
	bad := func(err error) int { return fail(statusError, exitError, err) }
	env, name := rep.Environment, rep.Process
	switch {
	case strings.TrimSpace(s.operator) == "" || safeText(s.operator) != s.operator:
		return bad(fmt.Errorf("--operator %q: want a name without control characters", s.operator))
	case s.timeout < 0:
		return bad(fmt.Errorf("--timeout %s: want a positive duration, or 0 for none", s.timeout))
	case !isTag(env):
		return bad(fmt.Errorf("ENVIRONMENT %q: want the environment's head tag, such as prod", env))
	case strings.TrimSpace(name) == "":
		return bad(errors.New("PROCESS: empty"))
	}
	signer, err := loadSigner(s.key)
	if err != nil {
		return bad(err)
	}
	trusted, err := loadVerifiers(s.verifyKeys)
	if err != nil {
		return bad(err)
	}
	var pol *release.Policy
	if s.policy != "" {
		if pol, err = release.ReadPolicyFile(s.policy); err != nil {
			return bad(fmt.Errorf("--policy: %w", err))
		}
	}
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, s.timeout, fmt.Errorf("--timeout %s passed", s.timeout))
		defer cancel()
	}
	store, err := openStore(ctx, rep.Repository, s.plainHTTP, s.ociLayout)
	if err != nil {
		return bad(err)
	}

	// Resolve once: from here on the release is its digest.
	desc, err := store.Resolve(ctx, env)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return bad(fmt.Errorf("%s: no tag %q: no release in that environment: %w", rep.Repository, env, err))
		}
		return bad(canceled(ctx, fmt.Errorf("%s: resolve %q: %w", rep.Repository, env, err)))
	}
	rep.Release = &subject{Digest: desc.Digest}
	fmt.Fprintf(log, "admin: %s of %s is %s, pinned for this run: a release that lands meanwhile does not change what runs\n",
		env, rep.Repository, desc.Digest)

	dir, err := os.MkdirTemp("", "slipway-admin-*")
	if err != nil {
		return bad(fmt.Errorf("temporary directory: %w", err))
	}
	defer os.RemoveAll(dir)
	o, err := release.Open(ctx, pinned{ReadOnlyGraphTarget: store, tag: env, desc: desc}, env, dir, trusted, release.OpenOptions{
		Verify: release.VerifyOptions{Policy: pol},
		Resolver: config.Schemes{
			"env":  config.EnvResolver{},
			"file": config.FileResolver{Root: s.secretRoot},
		},
	})
	if err != nil {
		var ne *release.NoGoError
		if errors.As(err, &ne) && ne.Decision != nil {
			// Judged, so verified: the decision names it.
			rep.Decision, rep.Release = ne.Decision, verified(ne.Decision.Release)
		}
		status, code, err := openFailure(ctx, store, env, desc, err)
		return fail(status, code, err)
	}
	r := o.Release()
	rep.Release = verified(release.DecisionSubject{App: r.App(), Environment: r.Environment(), Version: r.Version(), Digest: r.Digest()})
	rep.Decision = o.Verified().Decision
	if r.Environment() != env {
		// A version tag such as prod-v3 verifies as what it names, not
		// as a head.
		return bad(fmt.Errorf("ENVIRONMENT %q names %s of environment %q: give the environment's name, whose head tag names its current release", env, r.Tag(), r.Environment()))
	}

	if s.dryRun {
		if err := declaredAdmin(o, name); err != nil {
			return fail(statusRefused, exitRefused, err)
		}
		rep.Status = statusOK
		return exitOK
	}

	out := &lockedWriter{w: log}
	rec, err := release.Admin(ctx, store, o, name, rep.Args, signer, release.AdminOptions{
		Operator: s.operator,
		Stdout:   out,
		Stderr:   out,
	})
	if rec == nil {
		if errors.Is(err, release.ErrNoProcess) || errors.Is(err, release.ErrNotAdmin) || errors.Is(err, release.ErrNoGo) {
			return fail(statusRefused, exitRefused, err)
		}
		return bad(err)
	}
	rep.Audit = rec
	if err != nil && stored(err) {
		// The process ran, or failed to, but its record is not stored:
		// the run is not accounted for.
		if rec.ExitCode >= 0 {
			rep.ExitCode = &rec.ExitCode
		}
		rep.Audit = nil
		return bad(fmt.Errorf("the audit record of the run could not be stored: %w", err))
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		code := rec.ExitCode
		rep.ExitCode = &code
		rep.Status = statusOK
		if code != 0 {
			rep.Status = statusFailed
		}
		return code
	case errors.As(err, &ee):
		// Killed: by --timeout, a signal to the runner, or from outside.
		code := 128 + int(syscall.SIGKILL)
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		rep.ExitCode = &code
		rep.Status = statusFailed
		rep.Reason = reason(canceled(ctx, fmt.Errorf("%s did not exit by itself: %s", name, rec.Error)))
		return code
	}
	return bad(canceled(ctx, err)) // it could not start; the record says so
}

// openFailure says how a run whose release.Open failed with err ends:
// refused (exit 1) when err is a verdict on the release, with the check
// and its kind in front; an error (exit 2) otherwise. A release that is
// not the newest of its environment is refused, unless the head tag no
// longer names desc, the release it named when resolved: then a release
// landed between the resolve and the check, and running again takes it.
func openFailure(ctx context.Context, store oras.ReadOnlyTarget, env string, desc ocispec.Descriptor, err error) (string, int, error) {
	if !refused(ctx, err) {
		return statusError, exitError, canceled(ctx, err)
	}
	if errors.Is(err, release.ErrNotHead) {
		if now, rerr := store.Resolve(ctx, env); rerr == nil && now.Digest != desc.Digest {
			return statusError, exitError, fmt.Errorf("%s moved from %s to %s while the release was checked; nothing ran: run again: %w", env, desc.Digest, now.Digest, err)
		}
	}
	return statusRefused, exitRefused, headline(err)
}

// verdicts are the errors of release.Open that are a verdict on the
// release itself (exit 1), as opposed to an operational error such as an
// unreachable registry or a secret that does not resolve (exit 2).
var verdicts = []error{
	// Verification.
	release.ErrNotSigned, release.ErrUntrustedKey, release.ErrSubjectMismatch, release.ErrDigestMismatch,
	release.ErrMissingAttestation, release.ErrSummaryMismatch, release.ErrMalformed, release.ErrUnknownFormat,
	release.ErrMediaType, release.ErrUnknownVersion, release.ErrInvalidRecord, release.ErrRecordMismatch,
	release.ErrMissingBlob,
	// The ledger.
	release.ErrNotOnLedger, release.ErrNotHead, release.ErrTagMismatch, release.ErrBrokenChain,
	release.ErrCycle, release.ErrForeignLink,
	// Judgement.
	release.ErrRevoked, release.ErrNoGo, release.ErrNoDecision,
	// A build unsafe to extract.
	release.ErrUnsafePath, release.ErrUnsafeLink, release.ErrUnsupportedEntry, release.ErrLimit,
}

// refused reports whether err, from release.Open with ctx, is a verdict on
// the release rather than an operational error. A run canceled midway is
// never refused, whatever the check it stopped.
func refused(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	return slices.ContainsFunc(verdicts, func(v error) bool { return errors.Is(err, v) })
}

// headline puts in front of err, a refusal by release.Open, the check that
// refused and its kind, for a chat message that shows the start only:
// "signature: no trusted key verifies the signature: release: verify …".
func headline(err error) error {
	i := slices.IndexFunc(verdicts, func(v error) bool { return errors.Is(err, v) })
	if i < 0 {
		return err
	}
	head := verdicts[i].Error()
	var ve *release.VerifyError
	if errors.As(err, &ve) {
		head = ve.Check + ": " + head
	}
	return fmt.Errorf("%s: %w", head, err)
}

// stored reports whether err, from release.Admin with a record, says the
// record could not be stored: Admin joins the storage error with the run's
// (errors.Join, even when the run had none), and returns a run error
// alone otherwise.
func stored(err error) bool {
	_, joined := err.(interface{ Unwrap() []error })
	return joined
}

// canceled adds to err why ctx ended, if it did: the --timeout passed, or
// a signal arrived.
func canceled(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("canceled (%v): %w", context.Cause(ctx), err)
}

// declaredAdmin checks, as release.Admin does before it runs anything,
// that the release declares name as an admin one-off.
func declaredAdmin(o *release.Opened, name string) error {
	r := o.Release()
	ps := o.Processes()
	i := slices.IndexFunc(ps, func(p build.Process) bool { return p.Name == name })
	if i < 0 {
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Name
		}
		return fmt.Errorf("%q: %w: %s v%d in %s declares %s", name, release.ErrNoProcess, r.App(), r.Version(), r.Environment(), strings.Join(names, ", "))
	}
	if !ps[i].Admin {
		return fmt.Errorf("%q: %w: it is one of the app's processes", name, release.ErrNotAdmin)
	}
	return nil
}

// loadSigner reads the --key private key, decrypting it with the password
// in SLIPWAY_PASSWORD or COSIGN_PASSWORD.
func loadSigner(path string) (signature.Signer, error) {
	s, err := attest.LoadPrivateKeyFile(path, func() ([]byte, error) {
		for _, name := range passwordEnv {
			if v, ok := os.LookupEnv(name); ok {
				return []byte(v), nil
			}
		}
		return nil, errors.New("the key is encrypted: set SLIPWAY_PASSWORD or COSIGN_PASSWORD")
	})
	if err != nil {
		return nil, fmt.Errorf("--key: %w", err)
	}
	return s, nil
}

// loadVerifiers reads the --verify-key public keys.
func loadVerifiers(paths []string) ([]signature.Verifier, error) {
	var out []signature.Verifier
	for _, p := range paths {
		v, err := attest.LoadPublicKeyFile(p)
		if err != nil {
			return nil, fmt.Errorf("--verify-key: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}
