package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/spf13/cobra"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/release"
)

// attestationTypes maps cosign's short names of predicate types (its
// --type values) to the types.
var attestationTypes = map[string]string{
	"slsaprovenance1": attest.PredicateSLSAProvenance,
}

type verifyFlags struct {
	keys         []string
	attestations []string
	policy       string
	decisionKeys []string
	json         bool
	plainHTTP    bool
	ociLayout    bool
}

func newVerifyCmd() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --key PUB [flags] REF",
		Short: "Verify a release: signature, attestations, content and ledger",
		Long: `Verify checks the release REF names, failing closed, in this order:

  signature     a signature of the release by one of the trusted keys (--key),
                as a sigstore bundle or a legacy cosign signature, and an
                attestation signed by one of them of each required type
                (--attestation; SLSA provenance by default);
  release       the manifest, record, config, build manifest and build record
                hash to their digests and agree;
  revocation    no trusted key revoked the release (slipway revoke); a revoked
                release is refused whatever --policy or --decision-key say,
                with the reason, who revoked it and when;
  summary       every piece of evidence the security summary names (SBOM, scans,
                VEX) is attested by a trusted key, and the summary recomputed
                from those attestations equals the signed one;
  build         every file and piece of evidence of the build hashes to its
                digest;
  ledger        the release's version tag names it; a head tag (prod) names the
                newest version; a version tag (prod-v3) names that version; the
                previous release is the version before and its tag names it;
  policy        with --policy, the go / no-go policy in FILE judges the release's
                summary, recomputed with every scan and VEX document a trusted
                key attested about the release since (docs/policy.md);
  decision      with --decision-key, the newest decision attestation signed by
                one of those keys (slipway decide) must be go.

REF is HOST[:PORT]/REPO:TAG, HOST[:PORT]/REPO@DIGEST, or with --oci-layout
DIR:TAG or DIR@DIGEST. PUB is a PEM public key, such as slipway keygen or cosign
generate-key-pair writes.

Exit status: 0 if the release verified (and with --policy, is go), 1 if it
was rejected, revoked or is no-go (the reason and every finding on stdout), 2 on bad
input, a policy that does not load, or an operational error.`,
		Example: `  slipway verify --key keys/slipway.pub 127.0.0.1:5000/shop:prod
  slipway verify --key cosign.pub --attestation none 127.0.0.1:5000/shop@sha256:…
  slipway verify --oci-layout --key keys/slipway.pub ./shop:prod-v3
  slipway verify --key keys/slipway.pub --policy policy.json 127.0.0.1:5000/shop:prod
  slipway verify --key keys/slipway.pub --decision-key keys/gate.pub 127.0.0.1:5000/shop:prod`,
		Args: wantArgs("REF"),
		RunE: action(func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
		}),
	}
	fl := cmd.Flags()
	fl.SortFlags = false
	fl.StringArrayVar(&f.keys, "key", nil, "trust the PEM public key in `PUB` (repeatable; required)")
	fl.StringArrayVar(&f.attestations, "attestation", []string{"slsaprovenance1"},
		"require an attestation of `TYPE`: slsaprovenance1 or a predicate type URI; none for the signature only (repeatable)")
	fl.StringVar(&f.policy, "policy", "", "decide go / no-go with the policy in the JSON `FILE`")
	fl.StringArrayVar(&f.decisionKeys, "decision-key", nil, "require a go decision signed by the PEM public key in `PUB` (repeatable)")
	fl.BoolVar(&f.json, "json", false, "print the decision as JSON (with --policy or --decision-key); a release that fails verification is a no-go whose one finding names the check")
	addTargetFlags(cmd, &f.plainHTTP, &f.ociLayout)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func (f *verifyFlags) run(ctx context.Context, ref string, stdout, stderr io.Writer) error {
	trusted, err := loadVerifiers(f.keys)
	if err != nil {
		return err
	}
	require, err := requiredTypes(f.attestations)
	if err != nil {
		return err
	}
	var pol *release.Policy
	if f.policy != "" {
		if pol, err = release.ReadPolicyFile(f.policy); err != nil {
			return err
		}
	}
	var decisionKeys []signature.Verifier
	if len(f.decisionKeys) > 0 {
		if decisionKeys, err = loadVerifiers(f.decisionKeys); err != nil {
			return err
		}
	}
	if f.json && pol == nil && decisionKeys == nil {
		return fmt.Errorf("--json: needs --policy or --decision-key")
	}
	src, graph, err := openNamed(ctx, ref, f.plainHTTP, f.ociLayout)
	if err != nil {
		return err
	}
	opts := release.VerifyOptions{Require: require, Policy: pol, DecisionKeys: decisionKeys}
	v, err := release.Verify(ctx, graph, src.reference(), trusted, opts)
	var ve *release.VerifyError
	if f.json && errors.As(err, &ve) && ve.Check != "resolve" && (v == nil || (v.Decision == nil && v.Recorded == nil)) {
		// Rejected before any decision: a no-go for programs too.
		d := &release.Decision{
			Verdict:  release.VerdictNoGo,
			Release:  release.DecisionSubject{Digest: ve.Digest},
			Time:     time.Now().UTC(),
			Findings: []release.Finding{{Rule: ve.Check, Message: oneLine(ve.Err.Error()), Blocking: true}},
		}
		if pol != nil {
			d.Policy = pol.Digest()
		}
		if err := writeDecision(stdout, d, src, true, false); err != nil {
			return err
		}
		return errNo
	}
	if errors.As(err, &ve) && (ve.Check == "policy" || ve.Check == "decision") && v != nil {
		d := v.Decision
		if ve.Check == "decision" {
			d = v.Recorded
		}
		if d == nil { // no decision by a required key at all
			fmt.Fprintf(stdout, "No-go %s\nCheck: decision\nReason: %s\n", src, strings.ReplaceAll(ve.Err.Error(), "\n", "; "))
			return errNo
		}
		if err := writeDecision(stdout, d, src, f.json, ve.Check == "decision"); err != nil {
			return err
		}
		return errNo
	}
	var re *release.RevokedError
	if errors.As(err, &re) && re.Revocation != nil {
		rev := re.Revocation
		who := safeText(rev.RevokedBy)
		if who == "" {
			who = "(not named)"
		}
		fmt.Fprintf(stderr, "slipway: revoked %s: %s\n", src, strings.ReplaceAll(err.Error(), "\n", "; "))
		fmt.Fprintf(stdout, "Revoked %s\n", src)
		fmt.Fprintf(stdout, "Release: %s v%d in %s\n", safeText(rev.Release.App), rev.Release.Version, safeText(rev.Release.Environment))
		fmt.Fprintf(stdout, "Reason: %s\n", oneLine(rev.Reason))
		fmt.Fprintf(stdout, "Revoked by: %s at %s\n", who, rev.Time.UTC().Format(time.RFC3339))
		fmt.Fprintf(stdout, "Key: %s\n", re.KeyID)
		fmt.Fprintln(stdout, src.ref(rev.Release.Digest))
		return errNo
	}
	if errors.As(err, &ve) && ve.Check != "resolve" {
		fmt.Fprintf(stderr, "slipway: rejected %s: %s\n", src, strings.ReplaceAll(ve.Err.Error(), "\n", "; "))
		fmt.Fprintf(stdout, "Rejected %s\nCheck: %s\nReason: %s\n", src, ve.Check, reason(ve.Err))
		return errNo
	}
	if err != nil {
		return notFound(ctx, err, src)
	}
	r := v.Release
	if f.json {
		d := v.Decision
		if d == nil {
			d = v.Recorded
		}
		return writeDecision(stdout, d, src, true, false)
	}
	fmt.Fprintf(stdout, "Verified %s v%d in %s\n", r.App(), r.Version(), r.Environment())
	fmt.Fprintf(stdout, "Signatures: %s\n", evidenceSummary(v.Signatures, false))
	if len(v.Attestations) > 0 {
		fmt.Fprintf(stdout, "Attestations: %s\n", evidenceSummary(v.Attestations, true))
	}
	if line := summaryLine(r.Summary()); line != "" {
		fmt.Fprintf(stdout, "Summary: %s (recomputed from the attested evidence)\n", line)
	}
	if later := len(v.Summary.Evidence) - len(r.Summary().Evidence); later > 0 {
		fmt.Fprintf(stdout, "Now: %s (with %s attested since)\n", summaryLine(v.Summary), count(int64(later), "piece of evidence", "pieces of evidence"))
	}
	fmt.Fprintf(stdout, "Build: %s\n", src.ref(r.Build().Digest()))
	if prev, ok := r.Previous(); ok {
		fmt.Fprintf(stdout, "Ledger: %s follows v%d %s\n", r.Tag(), r.Version()-1, src.ref(prev.Digest))
	} else {
		fmt.Fprintf(stdout, "Ledger: %s, the first release\n", r.Tag())
	}
	if v.Decision != nil {
		fmt.Fprintf(stdout, "Decision: go (policy %s)\n", v.Decision.Policy)
		writeFindings(stdout, v.Decision.Findings)
	}
	if d := v.Recorded; d != nil {
		fmt.Fprintf(stdout, "Recorded decision: go, %s%s\n", d.Time.Format(time.RFC3339), by(d.DecidedBy))
	}
	fmt.Fprintln(stdout, src.ref(r.Digest()))
	return nil
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return " by " + safeText(who)
}

// writeDecision prints d: as JSON, or as the verdict, the policy and
// every finding. recorded says d was read from a decision attestation.
func writeDecision(w io.Writer, d *release.Decision, src *target, asJSON, recorded bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	verdict := "Go"
	if !d.Go() {
		verdict = "No-go"
	}
	fmt.Fprintf(w, "%s %s\n", verdict, src.ref(d.Release.Digest))
	fmt.Fprintf(w, "Release: %s v%d in %s\n", safeText(d.Release.App), d.Release.Version, safeText(d.Release.Environment))
	if recorded {
		fmt.Fprintf(w, "Recorded decision: %s, %s%s\n", d.Verdict, d.Time.Format(time.RFC3339), by(d.DecidedBy))
	}
	fmt.Fprintf(w, "Policy: %s\n", d.Policy)
	writeFindings(w, d.Findings)
	return nil
}

// writeFindings prints findings as a table, blocking ones first.
func writeFindings(w io.Writer, fs []release.Finding) {
	if len(fs) == 0 {
		return
	}
	var block int
	for _, f := range fs {
		if f.Blocking {
			block++
		}
	}
	fmt.Fprintf(w, "Findings: %d blocking, %d other\n", block, len(fs)-block)
	width := 0
	for _, f := range fs {
		width = max(width, len(safeText(f.Rule)))
	}
	for _, f := range fs {
		mark := "block"
		if !f.Blocking {
			mark = "note "
		}
		fmt.Fprintf(w, "  %s  %-*s  %s\n", mark, width, safeText(f.Rule), safeText(f.Message))
	}
}

// requiredTypes turns --attestation values into predicate types.
func requiredTypes(values []string) ([]string, error) {
	out := []string{}
	for _, v := range values {
		switch t, ok := attestationTypes[v]; {
		case v == "none":
			if len(values) > 1 {
				return nil, fmt.Errorf("--attestation none: given with other types")
			}
		case ok:
			out = append(out, t)
		case strings.Contains(v, "://"):
			out = append(out, v)
		default:
			return nil, fmt.Errorf("--attestation %q: want slsaprovenance1, a predicate type URI, or none", v)
		}
	}
	return out, nil
}

// reason names the kind of a verification failure in a few words.
func reason(err error) string {
	kinds := []struct {
		err  error
		text string
	}{
		{release.ErrNotSigned, "not signed"},
		{release.ErrUntrustedKey, "no trusted key signed it"},
		{release.ErrSubjectMismatch, "a signature is about another artifact"},
		{release.ErrDigestMismatch, "stored bytes do not match their digest"},
		{release.ErrMissingAttestation, "a required attestation is missing"},
		{release.ErrSummaryMismatch, "its security summary says other than its attested evidence"},
		{attest.ErrMalformed, "malformed evidence"},
		{attest.ErrUnknownFormat, "evidence of an unknown format"},
		{release.ErrUnknownVersion, "an unknown release format version"},
		{release.ErrNotOnLedger, "not on its ledger"},
		{release.ErrNotHead, "the head tag does not name the newest release"},
		{release.ErrTagMismatch, "the tag names another version"},
		{release.ErrBrokenChain, "the ledger's history was changed"},
		{release.ErrMediaType, "not a slipway release"},
		{release.ErrRevoked, "revoked"},
	}
	var out []string
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			out = append(out, k.text)
		}
	}
	if len(out) == 0 {
		return "failed verification"
	}
	return strings.Join(out, "; ")
}

// evidenceSummary describes verified evidence: forms and key IDs, and
// with types, the predicate types.
func evidenceSummary(es []attest.Evidence, types bool) string {
	type group struct{ what, key string }
	forms := map[group][]string{}
	var order []group
	for _, e := range es {
		g := group{key: e.KeyID}
		if types {
			g.what = e.Statement.PredicateType
		}
		if _, ok := forms[g]; !ok {
			order = append(order, g)
		}
		if !slices.Contains(forms[g], e.Form) {
			forms[g] = append(forms[g], e.Form)
		}
	}
	parts := make([]string, 0, len(order))
	for _, g := range order {
		fs := forms[g]
		slices.Sort(fs)
		s := strings.Join(fs, " and ") + " by key " + g.key
		if types {
			s = g.what + " (" + s + ")"
		}
		parts = append(parts, s)
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// summaryLine says in one line what a verified release's evidence adds up
// to, or "" when it has none.
func summaryLine(s attest.Summary) string {
	var parts []string
	if v := s.Vulnerabilities; v != nil {
		parts = append(parts, "open "+countsLine(v.Open), fmt.Sprintf("%d suppressed by VEX", len(v.Suppressed)))
	}
	if sb := s.SBOM; sb != nil {
		parts = append(parts, fmt.Sprintf("SBOM of %s", count(int64(sb.Components), "component", "components")))
	}
	return strings.Join(parts, "; ")
}
