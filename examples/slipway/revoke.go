package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/release"
)

type revokeFlags struct {
	key       string
	reason    string
	revokedBy string
	plainHTTP bool
	ociLayout bool
}

func newRevokeCmd() *cobra.Command {
	var f revokeFlags
	cmd := &cobra.Command{
		Use:   "revoke --key KEY --reason TEXT [flags] REF",
		Short: "Revoke a release: sign a revocation attestation with the reason",
		Long: `Revoke signs a revocation of the release REF names with KEY and attaches it
to the release: the reason (--reason), who revoked it (--revoked-by) and when.
From then on slipway verify, and every deploy tool or gate that verifies with
release.Verify and trusts KEY's public key, refuses the release, whatever its
policy or a recorded decision says. A revocation is final: nothing recorded
later undoes it. Release a new version, or roll back, instead.

Revoke checks only that REF names a slipway release, not its signatures: a
release that no longer verifies can be revoked too.

The reason is required: at most 4 KiB, no control characters but newlines
and tabs.

Exit status: 0 when the revocation was attached, 2 on bad input or an
operational error.`,
		Example: `  slipway revoke --key keys/slipway.key --reason "CVE-2026-0001 is exploited" \
    --revoked-by security@acme.example 127.0.0.1:5000/shop:prod-v2`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.key, "key", "", "sign the revocation with the private key in `KEY` (PEM, or a cosign key; password from SLIPWAY_PASSWORD, else COSIGN_PASSWORD; required)")
	fl.StringVar(&f.reason, "reason", "", "why the release is revoked, in `TEXT` (required)")
	fl.StringVar(&f.revokedBy, "revoked-by", "", "record `WHO` revoked it (a person or a pipeline)")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func (f *revokeFlags) run(ctx context.Context, ref string, stdout, stderr io.Writer) error {
	if strings.TrimSpace(f.reason) == "" {
		return fmt.Errorf("--reason: empty: say why the release is revoked")
	}
	signer, err := loadSigner(f.key, stderr)
	if err != nil {
		return err
	}
	dst, _, err := openNamed(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	r, err := release.Load(ctx, dst.store, dst.reference())
	if err != nil {
		return notFound(ctx, err, dst)
	}
	rev, err := release.Revoke(ctx, dst.store, r, signer, release.RevokeOptions{Reason: f.reason, RevokedBy: f.revokedBy})
	if err != nil {
		return err
	}
	id, err := attest.KeyIDOf(ctx, signer)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Revoked %s v%d in %s: %s\n", r.App(), r.Version(), r.Environment(), oneLine(rev.Reason))
	fmt.Fprintf(stdout, "Signed: revocation attestation (%s) by key %s\n", release.PredicateRevocation, id)
	fmt.Fprintln(stdout, dst.ref(r.Digest()))
	return nil
}

// oneLine is text a caller wrote, on one line of a terminal: line breaks
// and tabs become "; " and " ", other control characters "?".
func oneLine(s string) string {
	return safeText(strings.NewReplacer("\r\n", "; ", "\n", "; ", "\t", " ").Replace(strings.TrimSpace(s)))
}
