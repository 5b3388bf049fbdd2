// Command slipway stores builds as OCI artifacts, in a registry or in an OCI
// image layout on disk. It is a thin command line over the public API of
// package github.com/slipway-dev/slipway/build, written as a deploy tool
// would write it.
//
// Usage:
//
//	slipway build --dir DIR --app NAME [flags] REF
//
// REF is HOST[:PORT]/REPO[:TAG] for a registry, or DIR[:TAG] with
// --oci-layout. The build's files, processes and source become one
// content-addressed build; the last line of the output is its reference by
// digest, ready for the next stage.
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
// Registry credentials come from the docker configuration
// ($DOCKER_CONFIG/config.json or ~/.docker/config.json and its credential
// helpers), as `docker login` or `oras login` leave them; slipway never
// prints them.
//
// Exit status: 0 on success, 1 when a check's verdict is no (reserved: build
// has no such check yet), 2 on bad input or an operational error, with one
// message on stderr. Errors in the command line itself are followed by the
// command's usage.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Exit codes of every command.
const (
	exitOK    = 0 // success
	exitNo    = 1 // a check ran and its verdict is no; reserved, build has none
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
		Short: "Store builds as verifiable OCI artifacts",
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
	root.AddCommand(newBuildCmd())

	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "slipway: %v%s\n", err, hint(err))
	var re *runError
	if !errors.As(err, &re) && cmd != nil {
		fmt.Fprintf(stderr, "\n%s", cmd.UsageString())
	}
	return exitError
}

// hint adds advice to errors whose fix is known.
func hint(err error) string {
	var resp *errcode.ErrorResponse
	switch {
	case errors.Is(err, auth.ErrBasicCredentialNotFound),
		errors.As(err, &resp) && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		return " (log in with docker login or oras login; credentials come from the docker configuration)"
	}
	return ""
}

// runError is an error a command met while it ran, after its command line
// was accepted: run reports it without the usage.
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// action makes fn a cobra RunE whose errors are runErrors.
func action(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := fn(cmd, args); err != nil {
			return &runError{err}
		}
		return nil
	}
}
