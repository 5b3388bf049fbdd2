package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// stopDelay is how long run waits for a process it sent SIGTERM to before
// it kills it.
const stopDelay = 10 * time.Second

type runFlags struct {
	keys []string
	openFlags
}

func newRunCmd() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --key PUB [flags] REF PROCESS [-- ARGS...]",
		Short: "Verify a release, extract it and run one of its processes",
		Long: `Run verifies the release REF names as verify does, failing closed (a trusted
signature, SLSA provenance, every blob, the ledger, and with --policy a go),
extracts its build into a directory, safely (no path or link leaves it, no
device or setuid file, size and count limits, every byte checked against its
digest), resolves its config's secret references, and runs PROCESS, one of the
processes the release declares, with ARGS. An admin one-off (a migration)
is refused: slipway admin runs it, and records the run.

The process runs in the directory, with its stdin, stdout and stderr connected
to slipway's, and with exactly the config's environment: its plain variables
and its secrets, resolved here. Nothing of slipway's own environment is passed
on: set PATH and the like in the config if the process needs them. Its command
comes from the signed record and runs as /bin/sh -c 'exec COMMAND "$@"'; ARGS
are its positional parameters, never shell text. SIGINT and SIGTERM are passed
on to it as SIGTERM; it is killed if it has not exited 10 seconds later.

Secret references resolved: env://NAME from slipway's environment, and
file:///path from a file (with --secret-root, only below that directory). Any
other scheme, such as vault://, is not resolved and nothing runs.

Without --dir the build is extracted into a new temporary directory, removed
when the process exits. With --dir it is extracted there and kept; the
directory must be empty or missing, unless --overwrite (docs/run.md says what
is replaced and what is kept).

Exit status: the process's (128+N if signal N ended it) once it ran; 1 if the
release was refused (not verified, no-go, unsafe to extract, or PROCESS not
declared), with the reason on stderr and nothing run; 2 on bad input or an
operational error, such as a secret that does not resolve.`,
		Example: `  slipway run --key keys/slipway.pub 127.0.0.1:5000/shop:prod web
  slipway run --key keys/slipway.pub --policy policy.json 127.0.0.1:5000/shop:prod migrate -- --dry-run
  slipway run --oci-layout --key keys/slipway.pub --dir /srv/shop --overwrite ./shop:prod web`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fmt.Errorf("want REF and PROCESS arguments, got %d", len(args))
			}
			if at := cmd.ArgsLenAtDash(); at >= 0 && at != 2 {
				return fmt.Errorf("want REF and PROCESS before --, got %d arguments", at)
			}
			return nil
		},
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], args[1], args[2:], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringArrayVar(&f.keys, "key", nil, "trust the PEM public key in `PUB` (repeatable; required)")
	addOpenFlags(cmd, &f.openFlags)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// openFlags are the flags of the commands that open a release: run and
// admin.
type openFlags struct {
	policy     string
	dir        string
	overwrite  bool
	secretRoot string
	plainHTTP  bool
	ociLayout  bool
}

// open opens the release ref names, verified with trusted, into the
// --dir or a temporary directory that close removes. A refusal of the
// release is reported on stderr and returned as errNo.
func (f *openFlags) open(ctx context.Context, ref string, trusted []signature.Verifier, stderr io.Writer) (o *release.Opened, src *target, close func(), err error) {
	var pol *release.Policy
	if f.policy != "" {
		if pol, err = release.ReadPolicyFile(f.policy); err != nil {
			return nil, nil, nil, err
		}
	}
	if f.overwrite && f.dir == "" {
		return nil, nil, nil, fmt.Errorf("--overwrite: needs --dir")
	}
	src, graph, err := openNamed(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return nil, nil, nil, err
	}
	dir, close := f.dir, func() {}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "slipway-run-*"); err != nil {
			return nil, nil, nil, err
		}
		close = func() { os.RemoveAll(dir) }
	}
	resolver := config.Schemes{
		"env":  config.EnvResolver{},
		"file": config.FileResolver{Root: f.secretRoot},
	}
	o, err = release.Open(ctx, graph, src.reference(), dir, trusted, release.OpenOptions{
		Verify:    release.VerifyOptions{Policy: pol},
		Resolver:  resolver,
		Overwrite: f.overwrite,
	})
	if err != nil {
		close()
		return nil, nil, nil, refused(ctx, err, src, stderr)
	}
	return o, src, close, nil
}

// addOpenFlags adds the flags of f to cmd.
func addOpenFlags(cmd *cobra.Command, f *openFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.policy, "policy", "", "run only if the go / no-go policy in the JSON `FILE` says go")
	fl.StringVar(&f.dir, "dir", "", "extract into `DIR`, made if missing, and keep it (default: a temporary directory, removed afterwards)")
	fl.BoolVar(&f.overwrite, "overwrite", false, "allow a --dir that holds files: the build's files replace those at their paths")
	fl.StringVar(&f.secretRoot, "secret-root", "", "resolve file:// secret references only below the absolute directory `DIR`")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
}

func (f *runFlags) run(ctx context.Context, ref, process string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	trusted, err := loadVerifiers(f.keys)
	if err != nil {
		return err
	}
	o, src, close, err := f.open(ctx, ref, trusted, stderr)
	if err != nil {
		return err
	}
	defer close()
	cmd, err := o.Command(ctx, process, args...)
	if errors.Is(err, release.ErrNoProcess) {
		fmt.Fprintf(stderr, "slipway: refused %s: %s\n", src, safeText(err.Error()))
		return errNo
	}
	if errors.Is(err, release.ErrAdminProcess) {
		fmt.Fprintf(stderr, "slipway: refused %s: %s is an admin one-off: run it with slipway admin, which records it\n", src, safeText(process))
		return errNo
	}
	if err != nil {
		return err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopDelay
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return &exitStatus{code}
	}
	if err != nil {
		return fmt.Errorf("run %s of %s: %w", process, src.ref(o.Release().Digest()), err)
	}
	return nil
}

// refused reports why Open refused the release: a verdict of no (exit 1,
// the reason on stderr) when the release failed verification, was no-go or
// was unsafe to extract, and otherwise the error itself (exit 2).
func refused(ctx context.Context, err error, src *target, stderr io.Writer) error {
	var ve *release.VerifyError
	if errors.As(err, &ve) && ve.Check != "resolve" {
		why := reason(ve.Err)
		if errors.Is(err, release.ErrNoGo) {
			why = "no-go"
		}
		fmt.Fprintf(stderr, "slipway: refused %s: %s: %s\n", src, ve.Check, why)
		fmt.Fprintf(stderr, "slipway: %s\n", safeText(strings.ReplaceAll(ve.Err.Error(), "\n", "; ")))
		var ne *release.NoGoError
		if errors.As(err, &ne) && ne.Decision != nil {
			writeFindings(stderr, ne.Decision.Findings)
		}
		return errNo
	}
	unsafe := errors.Is(err, release.ErrUnsafePath) || errors.Is(err, release.ErrUnsafeLink) ||
		errors.Is(err, release.ErrUnsupportedEntry) || errors.Is(err, release.ErrLimit) || errors.Is(err, release.ErrDigestMismatch)
	if unsafe {
		fmt.Fprintf(stderr, "slipway: refused %s: unsafe to extract: %s\n", src, safeText(err.Error()))
		return errNo
	}
	if errors.Is(err, config.ErrUnresolved) {
		return &hinted{err, "slipway run resolves env:// and file:// references; for others, such as vault://, use a deploy tool with a resolver for them"}
	}
	if errors.Is(err, release.ErrNotEmpty) {
		return &hinted{err, "give an empty or new --dir, or --overwrite"}
	}
	return notFound(ctx, err, src)
}

// exitStatus is the exit status of a process run ran: run exits with it
// and prints nothing more.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("the process exited with status %d", e.code) }
