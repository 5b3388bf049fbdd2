package release

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"
	"oras.land/oras-go/v2"
)

// AdminOptions are the settings of [Admin]. Operator is required.
type AdminOptions struct {
	// Operator names who runs the process (a person, a pipeline), as the
	// caller knows them; it is recorded.
	Operator string
	// Host names the machine; if empty, os.Hostname().
	Host string
	// Stdin, Stdout and Stderr are the process's streams; nil means none
	// (the null device). What the process writes is hashed on its way,
	// never stored.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Now is the clock of the record; if nil, time.Now.
	Now func() time.Time
	// StopDelay is how long the process has to exit after SIGTERM once
	// ctx is done, before it is killed; if zero, 10 seconds.
	StopDelay time.Duration
	// Sign are the settings of the audit attestation.
	Sign SignOptions
}

// defaultStopDelay is AdminOptions.StopDelay's default.
const defaultStopDelay = 10 * time.Second

// Admin runs the admin one-off process name of the opened release o with
// args, exactly as the release's own processes run ([Opened.Command]: in
// its directory, with its environment), and records the run as a signed
// audit attestation about the release in dst ([PredicateAdminRun]): the
// release, process, command, arguments, operator, host, start, end, exit
// status and the digests of stdout and stderr, never the output or a
// value of the environment.
//
// It refuses, before anything runs, a name the build does not declare
// ([ErrNoProcess]), a declared process that is not an admin one-off
// ([ErrNotAdmin]), and a release that is not go: opened with a policy that
// said no-go ([ErrNoGo]). A release that fails verification or is
// revoked cannot be opened at all.
//
// The record is written whether the process succeeds, fails or cannot
// start. Admin returns it with a nil error when the process ran to its
// end, whatever its exit status (see [AuditRecord.ExitCode]); with the
// start error when it could not run; and joined with the storage error
// when the record could not be stored.
func Admin(ctx context.Context, dst oras.Target, o *Opened, name string, args []string, s signature.Signer, opts AdminOptions) (*AuditRecord, error) {
	if o == nil || s == nil {
		return nil, fmt.Errorf("release: admin: %w: no opened release or no signer", ErrInvalidOptions)
	}
	r := o.Release()
	p, ok := r.build.Process(name)
	switch {
	case !ok:
		return nil, fmt.Errorf("release: admin %q: %w: %s v%d in %s declares %s", name, ErrNoProcess, r.App(), r.Version(), r.Environment(), processNames(r))
	case !p.Admin:
		return nil, fmt.Errorf("release: admin %q: %w: it is one of the app's processes", name, ErrNotAdmin)
	case strings.TrimSpace(opts.Operator) == "":
		return nil, fmt.Errorf("release: admin %q: %w: no operator", name, ErrInvalidOptions)
	}
	v := o.Verified()
	if d := v.Decision; d != nil && !d.Go() {
		return nil, fmt.Errorf("release: admin %q: %w", name, d.Err())
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	host := opts.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	cmd := o.command(ctx, p, args)
	// On cancellation the process gets SIGTERM and StopDelay to finish
	// (a migration may need to roll back), then SIGKILL.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = opts.StopDelay
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = defaultStopDelay
	}
	stdout, stderr := newOutputHash(opts.Stdout), newOutputHash(opts.Stderr)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, stdout, stderr

	rec := &AuditRecord{
		Release:  DecisionSubject{App: r.App(), Environment: r.Environment(), Version: r.Version(), Digest: r.Digest()},
		Process:  name,
		Command:  p.Command,
		Args:     slices.Clone(args),
		Operator: opts.Operator,
		Host:     host,
	}
	if rec.Args == nil {
		rec.Args = []string{}
	}
	if v.Decision != nil {
		rec.Policy = v.Decision.Policy
	}
	rec.StartedOn = now().UTC()
	runErr := cmd.Run()
	rec.FinishedOn = now().UTC()
	if rec.FinishedOn.Before(rec.StartedOn) {
		rec.FinishedOn = rec.StartedOn
	}
	rec.Stdout, rec.Stderr = stdout.sum(), stderr.sum()
	var exitErr *exec.ExitError
	switch {
	case runErr == nil:
		rec.ExitCode = 0
	case errors.As(runErr, &exitErr) && exitErr.Exited():
		rec.ExitCode = exitErr.ExitCode()
		runErr = nil // it ran to its end; the record says how
	default:
		rec.ExitCode = -1
		rec.Error = runErr.Error()
	}
	// The record is stored even when the caller's context is done: a run
	// that happened is recorded.
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := recordAudit(recCtx, dst, r, rec, s, opts.Sign); err != nil {
		return rec, errors.Join(runErr, err)
	}
	if runErr != nil {
		return rec, fmt.Errorf("release: admin %q: %w", name, runErr)
	}
	return rec, nil
}

func processNames(r *Release) string {
	var names []string
	for _, p := range r.Processes() {
		names = append(names, p.Name)
	}
	if len(names) == 0 {
		return "no process"
	}
	return strings.Join(names, ", ")
}

// outputHash passes what a process writes on to w (if any) and counts
// and hashes it.
type outputHash struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func newOutputHash(w io.Writer) *outputHash { return &outputHash{w: w, h: sha256.New()} }

func (o *outputHash) Write(p []byte) (int, error) {
	o.h.Write(p)
	o.size += int64(len(p))
	if o.w != nil {
		if _, err := o.w.Write(p); err != nil {
			// The caller's writer failed; the process's output is still
			// hashed and the process is not disturbed.
			o.w = nil
		}
	}
	return len(p), nil
}

func (o *outputHash) sum() OutputDigest {
	return OutputDigest{Digest: digest.NewDigest(digest.SHA256, o.h), Size: o.size}
}
