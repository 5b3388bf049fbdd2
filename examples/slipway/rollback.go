package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/release"
)

// rollbackFlags are the settings of slipway rollback, as its flags give
// them.
type rollbackFlags struct {
	to        int
	plainHTTP bool
	ociLayout bool
	key       string
}

func newRollbackCmd() *cobra.Command {
	var f rollbackFlags
	cmd := &cobra.Command{
		Use:   "rollback --to N [flags] REF",
		Short: "Release an earlier version's build and config again",
		Long: `Rollback adds a release to the ledger of an environment that restores the build
and config of its version N: a new version, with the rollback noted in it.
History is never rewritten; slipway history shows the rollback as the newest
release. Version N is found by walking the ledger from its newest release and
checking every link, so a version tag moved by hand is not followed.

REF is the app's repository with the environment as its tag:
  HOST[:PORT]/REPO:ENV     in a registry (HTTPS; --plain-http for HTTP)
  DIR:ENV                  in an OCI image layout, with --oci-layout

Another publisher may add to the same ledger at the same time; when it does,
rollback tries again, up to 8 times, saying so on stderr. The creation time is
the current time, or SOURCE_DATE_EPOCH if set. The output ends with the new
release's reference by digest, on a line of its own.

Exit status: 0 if the rollback is stored, 2 on bad input, an unknown version, a
broken ledger or any other error.`,
		Example: `  slipway history --plain-http 127.0.0.1:5000/shop:prod
  slipway rollback --plain-http --to 3 127.0.0.1:5000/shop:prod`,
		Args: wantArgs("REF"),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("to") && f.to < 1 { // unset: cobra says it is required
				return fmt.Errorf("--to %d: want a version, 1 or more", f.to)
			}
			return nil
		},
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}

	fl := cmd.Flags()
	fl.SortFlags = false
	fl.IntVar(&f.to, "to", 0, "restore version `N` of the environment (required)")
	fl.StringVar(&f.key, "key", "", "sign the new release with the private key in `KEY` (PEM, or a cosign key; password from SLIPWAY_PASSWORD, else COSIGN_PASSWORD)")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	_ = cmd.MarkFlagRequired("to") // errors only for an undefined flag
	return cmd
}

// run adds the rollback to the ledger and reports it on stdout, its
// reference by digest last; retries go to stderr.
func (f *rollbackFlags) run(ctx context.Context, ref string, stdout, stderr io.Writer) error {
	opts, err := newReleaseOptions(f.key, stderr)
	if err != nil {
		return err
	}
	dst, err := openTarget(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	if dst.tag == "" {
		return fmt.Errorf("REF %q: names no environment; add it as the tag, e.g. %s:prod", ref, dst.name)
	}
	var r *release.Release
	err = retryConflict(ctx, stderr, conflictWait, func() (err error) {
		r, err = release.Rollback(ctx, dst.store, dst.tag, f.to, opts)
		return err
	})
	if err != nil {
		return err
	}
	reportRelease(stdout, fmt.Sprintf("Rolled back %s in %s to v%d: v%d restores its build and config", r.App(), r.Environment(), f.to, r.Version()), r, dst, opts.Signer != nil)
	return nil
}
