package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/user"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/release"
)

type adminFlags struct {
	key        string
	verifyKeys []string
	operator   string
	openFlags
}

func newAdminCmd() *cobra.Command {
	var f adminFlags
	cmd := &cobra.Command{
		Use:   "admin --key KEY [flags] REF NAME [-- ARGS...]",
		Short: "Run an admin one-off against a release, and record it signed",
		Long: `Admin runs NAME, an admin one-off process (a migration, a console) that the
build of the release REF declares, exactly as slipway run runs the app's
processes: the release verified with the --verify-key keys (default: the
public half of KEY), judged go by --policy if given, refused if revoked,
extracted safely, and NAME run in it with the config's environment.

Every run, whether the process succeeds, fails or cannot start, leaves an
audit record: an attestation about the release signed with KEY, naming the
release, the process, ARGS, the operator (--operator, default the OS user),
the host, start, end, exit status and the digests of stdout and stderr, never
the output or the environment. slipway audit REF lists them.

Exit status: the process's once it ran; 1 when the run was refused
(verification, no-go, revocation, NAME not a declared admin one-off) and
nothing ran; 2 on bad input or an operational error.`,
		Example: `  slipway admin --key keys/ops.key --verify-key keys/slipway.pub --policy policy.json \
    --operator alice 127.0.0.1:5000/shop:prod migrate -- --to 42`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fmt.Errorf("want REF and NAME arguments, got %d", len(args))
			}
			if at := cmd.ArgsLenAtDash(); at >= 0 && at != 2 {
				return fmt.Errorf("want REF and NAME before --, got %d arguments", at)
			}
			return nil
		},
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], args[1], args[2:], cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.key, "key", "", "sign the audit record with the private key in `KEY` (PEM, or a cosign key; password from SLIPWAY_PASSWORD, else COSIGN_PASSWORD; required)")
	fl.StringArrayVar(&f.verifyKeys, "verify-key", nil, "trust the PEM public key in `PUB` for the release's signature (repeatable; default: KEY's public key)")
	fl.StringVar(&f.operator, "operator", "", "record `WHO` runs it (default: the OS user)")
	addOpenFlags(cmd, &f.openFlags)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func (f *adminFlags) run(ctx context.Context, ref, name string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	signer, err := loadSigner(f.key, stderr)
	if err != nil {
		return err
	}
	trusted, err := verifyKeysOr(f.verifyKeys, signer, f.key)
	if err != nil {
		return err
	}
	operator := f.operator
	if operator == "" {
		u, err := user.Current()
		if err != nil {
			return fmt.Errorf("--operator: not given, and the OS user is unknown: %w", err)
		}
		operator = u.Username
	}
	o, src, close, err := f.open(ctx, ref, trusted, stderr)
	if err != nil {
		return err
	}
	defer close()
	dst, ok := src.store.(oras.Target)
	if !ok {
		return fmt.Errorf("REF %q: the store cannot be written", ref)
	}
	rec, err := release.Admin(ctx, dst, o, name, args, signer, release.AdminOptions{
		Operator: operator, Stdin: stdin, Stdout: stdout, Stderr: stderr,
	})
	if errors.Is(err, release.ErrNoProcess) || errors.Is(err, release.ErrNotAdmin) || errors.Is(err, release.ErrNoGo) {
		fmt.Fprintf(stderr, "slipway: refused %s: %s\n", src, safeText(err.Error()))
		return errNo
	}
	if rec == nil {
		return err
	}
	fmt.Fprintf(stderr, "slipway: %s of %s v%d in %s by %s: %s; audit record signed and attached to %s\n",
		name, rec.Release.App, rec.Release.Version, rec.Release.Environment, safeText(operator), outcome(rec), src.ref(rec.Release.Digest))
	switch {
	case err != nil:
		return err
	case rec.ExitCode != 0:
		return &exitStatus{rec.ExitCode}
	}
	return nil
}

// outcome says in a few words how a recorded run ended.
func outcome(a *release.AuditRecord) string {
	took := a.FinishedOn.Sub(a.StartedOn).Round(time.Millisecond)
	if a.ExitCode < 0 {
		return fmt.Sprintf("did not run to its end (%s) after %s", safeText(a.Error), took)
	}
	return fmt.Sprintf("exit %d after %s", a.ExitCode, took)
}

// verifyKeysOr loads the --verify-key keys, or returns the public half of
// signer, loaded from keyPath, when there are none.
func verifyKeysOr(paths []string, signer signature.Signer, keyPath string) ([]signature.Verifier, error) {
	if len(paths) > 0 {
		return loadVerifiers(paths)
	}
	v, ok := signer.(signature.Verifier)
	if !ok {
		return nil, fmt.Errorf("--key %s: cannot derive a public key; give --verify-key", keyPath)
	}
	return []signature.Verifier{v}, nil
}

type auditFlags struct {
	keys      []string
	json      bool
	plainHTTP bool
	ociLayout bool
}

func newAuditCmd() *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit --key PUB [flags] REF",
		Short: "List the admin runs against a release, newest first",
		Long: `Audit lists the audit records of the admin one-offs run against the release
REF names (slipway admin), newest first: when, who, where, which process with
which arguments, and how it ended. Only records signed by one of the --key
keys are listed; a record that does not parse, or names another release,
fails the listing rather than leave a gap.

Exit status: 0, 2 on bad input or an operational error.`,
		Example: `  slipway audit --key keys/ops.pub 127.0.0.1:5000/shop:prod
  slipway audit --key keys/ops.pub --json 127.0.0.1:5000/shop:prod-v3 | jq '.[0]'`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringArrayVar(&f.keys, "key", nil, "list records signed by the PEM public key in `PUB` (repeatable; required)")
	fl.BoolVar(&f.json, "json", false, "print the records as a JSON array")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func (f *auditFlags) run(ctx context.Context, ref string, stdout io.Writer) error {
	keys, err := loadVerifiers(f.keys)
	if err != nil {
		return err
	}
	src, graph, err := openNamed(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	r, err := release.Load(ctx, graph, src.reference())
	if err != nil {
		return notFound(ctx, err, src)
	}
	audits, err := release.Audits(ctx, graph, r, keys)
	if err != nil {
		return err
	}
	if f.json {
		recs := make([]release.AuditRecord, len(audits))
		for i, a := range audits {
			recs[i] = a.AuditRecord
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(recs)
	}
	fmt.Fprintf(stdout, "Admin runs of %s v%d in %s (%s): %d\n", r.App(), r.Version(), r.Environment(), src.ref(r.Digest()), len(audits))
	for _, a := range audits {
		fmt.Fprintf(stdout, "\n%s  %s %s\n", a.StartedOn.Format(time.RFC3339), safeText(a.Process), safeText(strings.Join(a.Args, " ")))
		fmt.Fprintf(stdout, "  operator  %s on %s\n", safeText(a.Operator), safeText(a.Host))
		fmt.Fprintf(stdout, "  command   %s\n", safeText(a.Command))
		fmt.Fprintf(stdout, "  outcome   %s\n", outcome(&a.AuditRecord))
		fmt.Fprintf(stdout, "  stdout    %d bytes, %s\n", a.Stdout.Size, a.Stdout.Digest)
		fmt.Fprintf(stdout, "  stderr    %d bytes, %s\n", a.Stderr.Size, a.Stderr.Digest)
		if a.Policy != "" {
			fmt.Fprintf(stdout, "  policy    %s (go)\n", a.Policy)
		}
		fmt.Fprintf(stdout, "  signed    by key %s\n", a.KeyID)
	}
	return nil
}
