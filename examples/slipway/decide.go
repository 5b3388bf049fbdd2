package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/release"
)

type decideFlags struct {
	key        string
	verifyKeys []string
	policy     string
	decidedBy  string
	json       bool
	plainHTTP  bool
	ociLayout  bool
}

func newDecideCmd() *cobra.Command {
	var f decideFlags
	cmd := &cobra.Command{
		Use:   "decide --key KEY --policy FILE [flags] REF",
		Short: "Decide go / no-go for a release and record the signed decision",
		Long: `Decide verifies the release REF names as slipway verify does, judges it by
the go / no-go policy in FILE, and records the decision, go or no-go, as a
decision attestation signed with KEY: the policy's digest, every finding, who
decided (--decided-by) and when. A deploy tool can then require a go decision
by that key: slipway verify --decision-key PUB, or release.VerifyOptions.
DecisionKeys.

The release's signature is checked with the --verify-key keys, by default
the public half of KEY. A release that fails verification gets no decision.

Exit status: 0 when a go was recorded, 1 when a no-go was recorded (every
finding on stdout), 2 on bad input, a release that does not verify, or an
operational error.`,
		Example: `  slipway decide --key keys/gate.key --verify-key keys/slipway.pub \
    --policy policy.json --decided-by ci@acme.example 127.0.0.1:5000/shop:prod`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringVar(&f.key, "key", "", "sign the decision with the private key in `KEY` (PEM, or a cosign key; password from SLIPWAY_PASSWORD, else COSIGN_PASSWORD; required)")
	fl.StringArrayVar(&f.verifyKeys, "verify-key", nil, "trust the PEM public key in `PUB` for the release's signature (repeatable; default: KEY's public key)")
	fl.StringVar(&f.policy, "policy", "", "the go / no-go policy, a JSON `FILE` (required)")
	fl.StringVar(&f.decidedBy, "decided-by", "", "record `WHO` decided (a person or a pipeline)")
	fl.BoolVar(&f.json, "json", false, "print the recorded decision as JSON")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("policy")
	return cmd
}

func (f *decideFlags) run(ctx context.Context, ref string, stdout, stderr io.Writer) error {
	pol, err := release.ReadPolicyFile(f.policy)
	if err != nil {
		return err
	}
	signer, err := loadSigner(f.key, stderr)
	if err != nil {
		return err
	}
	trusted, err := verifyKeysOr(f.verifyKeys, signer, f.key)
	if err != nil {
		return err
	}
	src, graph, err := openNamed(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	v, err := release.Verify(ctx, graph, src.reference(), trusted, release.VerifyOptions{Policy: pol})
	var ve *release.VerifyError
	if err != nil && !(errors.As(err, &ve) && ve.Check == "policy") {
		if ve != nil && ve.Check != "resolve" {
			return fmt.Errorf("no decision recorded: %w", err)
		}
		return notFound(ctx, err, src)
	}
	d, err := release.RecordDecision(ctx, graph, v.Release, v.Decision, signer, release.DecisionOptions{DecidedBy: f.decidedBy})
	if err != nil {
		return err
	}
	if err := writeDecision(stdout, d, src, f.json, true); err != nil {
		return err
	}
	if !f.json {
		id, err := attest.KeyIDOf(ctx, signer)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Signed: decision attestation (%s) by key %s\n", release.PredicateDecision, id)
	}
	if !d.Go() {
		return errNo
	}
	return nil
}
