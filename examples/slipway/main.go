// Command slipway stores builds and releases as OCI artifacts, in a
// registry or in an OCI image layout on disk. It is a thin command line over
// the public API of the packages github.com/slipway-dev/slipway/build,
// config and release, written as a deploy tool would write it.
//
// Usage:
//
//	slipway build --dir DIR --app NAME [flags] REF
//	slipway release --build BUILD --config FILE [flags] REF
//	slipway history [flags] REF
//	slipway rollback --to N [flags] REF
//	slipway diff [flags] REF1 REF2
//	slipway keygen --out DIR
//	slipway verify --key PUB [flags] REF
//	slipway revoke --key KEY --reason TEXT [flags] REF
//	slipway inspect [flags] REF
//	slipway run --key PUB [flags] REF PROCESS [-- ARGS...]
//
// REF is HOST[:PORT]/REPO[:TAG] for a registry, or DIR[:TAG] with
// --oci-layout; history and diff also take HOST[:PORT]/REPO@DIGEST and
// DIR@DIGEST. The commands that store something end their output with its
// reference by digest, on a line of its own, ready for the next stage.
//
// Examples:
//
//	# A build in a local registry, over plain HTTP:
//	slipway build --plain-http --dir dist --app shop \
//		--process web="bin/server --port 8080" --admin migrate="bin/migrate up" \
//		127.0.0.1:5000/shop:v1
//
//	# The same into an OCI image layout, with processes from a Procfile
//	# and the source it came from:
//	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) slipway build --oci-layout \
//		--dir dist --app shop --procfile Procfile \
//		--source https://github.com/acme/shop --revision "$(git rev-parse HEAD)" \
//		./builds:v1
//
//	# A build that must pass a build policy (docs/policy.md): if it breaks
//	# the policy, nothing is stored, every finding is listed and the exit
//	# status is 1:
//	slipway build --oci-layout --dir dist --app shop --scan trivy.json \
//		--policy build-policy.json ./builds:v1
//
//	# Release that build with the config of prod, then look back:
//	slipway release --plain-http --build v1 --config prod.json 127.0.0.1:5000/shop:prod
//	slipway history --plain-http 127.0.0.1:5000/shop:prod
//	slipway diff --plain-http 127.0.0.1:5000/shop:prod-v1 127.0.0.1:5000/shop:prod
//	slipway rollback --plain-http --to 1 127.0.0.1:5000/shop:prod
//
//	# Sign releases with a key of your own, then verify before deploying:
//	slipway keygen --out keys
//	slipway release --plain-http --key keys/slipway.key --build v1 --config prod.json 127.0.0.1:5000/shop:prod
//	slipway verify --plain-http --key keys/slipway.pub 127.0.0.1:5000/shop:prod
//
//	# Run a process of a verified release, in a temporary directory:
//	slipway run --plain-http --key keys/slipway.pub 127.0.0.1:5000/shop:prod migrate -- --dry-run
//
// Registry credentials come from the docker configuration
// ($DOCKER_CONFIG/config.json or ~/.docker/config.json and its credential
// helpers), as `docker login` or `oras login` leave them; slipway never
// prints them. Nor does it print config values that look like secrets: a
// config file holding one is refused, naming the variable only.
//
// Exit status: 0 on success, 1 when a check's verdict is no (verify
// rejected the release, diff --exit-code found releases that differ, a build
// broke its --policy and was not stored, run refused a release), 2 on bad
// input or an operational error, with one message on stderr; run exits with
// its process's status once the process ran. Errors in the command line itself are
// followed by the command's usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/release"
)

// Exit codes of every command.
const (
	exitOK    = 0 // success
	exitNo    = 1 // a check ran and its verdict is no, e.g. diff --exit-code found changes
	exitError = 2 // bad input or an operational error
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line args (without the program name), writing
// results to stdout and diagnostics to stderr, and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:   "slipway",
		Short: "Store builds and releases as verifiable OCI artifacts",
		// run reports errors itself: one line, then the usage only for
		// errors in the command line.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetOut(stdout)
	root.SetErr(stderr)
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root.SetArgs(args)
	root.AddCommand(newBuildCmd(), newReleaseCmd(), newHistoryCmd(), newRollbackCmd(), newDiffCmd(), newKeygenCmd(), newVerifyCmd(), newInspectCmd(),
		newDecideCmd(), newAttestCmd(), newRevokeCmd(), newRunCmd(), newAdminCmd(), newAuditCmd())

	cmd, err := root.ExecuteContextC(ctx)
	var status *exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &status):
		return status.code // the process run ran said what it had to
	case errors.Is(err, errNo):
		return exitNo // the command said why on stdout
	}
	// One line: errors joined by the library (one per variable of a
	// config, say) go on it side by side.
	msg := strings.ReplaceAll(err.Error(), "\n", "; ")
	fmt.Fprintf(stderr, "slipway: %s%s\n", msg, hint(err))
	var re *runError
	if !errors.As(err, &re) && cmd != nil {
		fmt.Fprintf(stderr, "\n%s", cmd.UsageString())
	}
	return exitError
}

// errNo is what a command returns when its check ran and the verdict is
// no: run exits with exitNo and prints nothing more.
var errNo = errors.New("the verdict is no")

// hint adds advice to errors whose fix is known.
func hint(err error) string {
	var resp *errcode.ErrorResponse
	var h *hinted
	switch {
	case errors.As(err, &h):
		return " (" + h.hint + ")"
	case errors.Is(err, config.ErrPlaintextSecret):
		return " (keep secret values out of config files: name them under \"secrets\" by reference, such as vault://kv/app/env#key or env://NAME; if the value is no secret, allow it with --allow-plaintext NAME)"
	case errors.Is(err, release.ErrNoVersion):
		return " (slipway history lists the versions of the ledger)"
	case errors.Is(err, release.ErrBrokenChain), errors.Is(err, release.ErrCycle), errors.Is(err, release.ErrForeignLink):
		return " (the ledger is damaged at that version: a release it links to was changed, moved or deleted; nothing was stored)"
	case errors.Is(err, auth.ErrBasicCredentialNotFound),
		errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		return " (log in with docker login or oras login; credentials come from the docker configuration)"
	}
	return ""
}

// hinted is an error with advice only the command that met it can give.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }

// runError is an error a command met while it ran, after its command line
// was accepted: run reports it without the usage.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// wantArgs returns a cobra.PositionalArgs that wants exactly the arguments
// names.
func wantArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == len(names):
			return nil
		case len(names) == 1:
			return fmt.Errorf("want one %s argument, got %d", names[0], len(args))
		}
		return fmt.Errorf("want %d arguments, %s, got %d", len(names), strings.Join(names, " and "), len(args))
	}
}

// action makes fn a cobra RunE whose errors are runErrors.
func action(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := fn(cmd, args); err != nil {
			return &runError{err}
		}
		return nil
	}
}
