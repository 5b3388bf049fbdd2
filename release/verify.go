package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
)

// Verified is a release that verified, with the evidence that did.
type Verified struct {
	// Release is the release, read with its build and config.
	Release *Release
	// Signatures and Attestations are what trusted keys signed about it.
	Signatures   []attest.Evidence
	Attestations []attest.Evidence
	// Summary is the release's security summary as the evidence now
	// says: the signed one, recomputed with every scan and VEX document
	// a trusted key attested about the release since. It equals
	// Release.Summary() when nothing was attested later.
	Summary attest.Summary
	// Decision is the policy's decision when [VerifyOptions.Policy] was
	// given.
	Decision *Decision
	// Recorded is the newest decision signed by one of
	// [VerifyOptions.DecisionKeys], when they were given.
	Recorded *Decision
}

// Verify reads the release ref names in src (a ledger tag such as "prod"
// or "prod-v7", or a digest) and checks, failing closed, in this order:
//
//   - signature: a signature of the release manifest by one of the trusted
//     keys, as a sigstore bundle or a legacy cosign signature, and an
//     attestation of each required type ([attest.Verify]);
//   - release: the manifest, record, config, build manifest, build record
//     and every layer of the build hash to their digests and agree
//     ([Load]);
//   - revocation: no trusted key revoked the release ([Revoke]): a
//     revocation among the attestations of the trusted keys that names
//     the release fails with a [*RevokedError] ([ErrRevoked]), and one
//     that does not parse ([ErrMalformed]) or names another release
//     ([ErrSubjectMismatch]) fails too. It comes before the policy and
//     the decisions, so nothing they say makes a revoked release go; no
//     Decision is made;
//   - summary: each piece of evidence the security summary names (SBOM,
//     scans, VEX) is attested by a trusted key ([ErrMissingAttestation]),
//     and the summary recomputed from those attestations, and from the
//     provenance when one verified, equals the one in the record
//     ([ErrSummaryMismatch]). Evidence attested later, such as a newer
//     scan, is not part of the release's summary and does not fail it;
//   - ledger: the release's version tag names it ([ErrNotOnLedger]); a
//     head tag names the newest version ([ErrNotHead]); a version tag
//     names its version ([ErrTagMismatch]); the previous release is
//     version N-1 of the same ledger and its version tag still names it
//     ([ErrBrokenChain]).
//
// Every failure is a [*VerifyError] naming the check, wrapping one of the
// Err values of this package or of attest (which this package re-exports:
// [ErrNotSigned], [ErrUntrustedKey], …) for [errors.Is].
func Verify(ctx context.Context, src oras.ReadOnlyGraphTarget, ref string, trusted []signature.Verifier, opts VerifyOptions) (*Verified, error) {
	v, _, err := verify(ctx, src, ref, trusted, opts)
	return v, err
}

// verify is [Verify], also returning what the policy judges, or would
// judge without one: the release, its current summary and the key IDs of
// its verified signatures, so that a [Verifier] can judge it again later
// without verifying it again. The input is nil exactly when the Verified
// is.
func verify(ctx context.Context, src oras.ReadOnlyGraphTarget, ref string, trusted []signature.Verifier, opts VerifyOptions) (*Verified, *Input, error) {
	desc, err := src.Resolve(ctx, ref)
	if err != nil {
		return nil, nil, &VerifyError{Ref: ref, Check: "resolve", Err: err}
	}
	fail := func(check string, err error) error {
		return &VerifyError{Ref: ref, Digest: desc.Digest, Check: check, Err: err}
	}
	require := opts.Require
	if require == nil {
		require = []string{attest.PredicateSLSAProvenance}
	}
	desc = ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	raw, err := fetchAll(ctx, src, desc, maxManifest)
	if err != nil {
		return nil, nil, fail("manifest", digestErr(err))
	}
	res, err := attest.Verify(ctx, src, desc, trusted, attest.VerifyOptions{Require: require})
	if err != nil {
		return nil, nil, fail("signature", err)
	}
	r, err := loadManifest(ctx, src, desc, raw) // the bytes whose digest the signatures name
	if err != nil {
		return nil, nil, fail("release", digestErr(err))
	}
	// Before anything else is judged: no policy, decision or later
	// evidence makes a revoked release go.
	if err := checkRevocations(r, res.Attestations); err != nil {
		return nil, nil, fail("revocation", err)
	}
	evidence := attestedEvidence(res.Attestations)
	if err := checkSummary(r, res.Attestations, evidence); err != nil {
		return nil, nil, fail("summary", err)
	}
	// The build's layers and the ledger are read at once; the first
	// failure in this order is reported.
	layers := r.build.Layers()
	errs := make([]error, len(layers)+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	g.Go(func() error {
		errs[len(layers)] = checkLedger(gctx, src, ref, r)
		return nil
	})
	for i, l := range layers {
		if opts.extracting && l.Annotations[ocispec.AnnotationTitle] != "" {
			continue // Open checks it as it writes it
		}
		g.Go(func() error {
			errs[i] = checkBlob(gctx, src, l)
			return nil
		})
	}
	_ = g.Wait() // the functions report through errs
	for i, err := range errs {
		switch {
		case err == nil:
		case i < len(layers):
			return nil, nil, fail("build", err)
		default:
			return nil, nil, fail("ledger", err)
		}
	}
	v := &Verified{Release: r, Signatures: res.Signatures, Attestations: res.Attestations}
	if v.Summary, err = currentSummary(r, evidence); err != nil {
		return nil, nil, fail("summary", err)
	}
	signers := keyIDs(res.Signatures)
	in := &Input{Release: r, Summary: v.Summary, Signers: signers, Now: opts.Now}
	if opts.Policy == nil && len(opts.DecisionKeys) == 0 {
		return v, in, nil
	}
	var decisions []attest.Evidence
	if extra := extraKeys(opts); len(extra) > 0 {
		more, err := attest.Find(ctx, src, desc, extra)
		if err != nil {
			return nil, nil, fail("signature", err)
		}
		in.Signers = append(signers, keyIDs(more.Signatures)...)
		decisions = more.Attestations
	}
	if opts.Policy != nil {
		v.Decision = opts.Policy.Evaluate(*in)
		if err := v.Decision.Err(); err != nil {
			return v, in, fail("policy", err)
		}
	}
	if len(opts.DecisionKeys) > 0 {
		d, err := latestDecision(ctx, r, decisions, opts.DecisionKeys)
		v.Recorded = d
		if err != nil {
			return v, in, fail("decision", err)
		}
	}
	return v, in, nil
}

// keyIDs returns the distinct key IDs of evidence, sorted.
func keyIDs(ev []attest.Evidence) []string {
	var out []string
	for _, e := range ev {
		out = append(out, e.KeyID)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// extraKeys are the keys besides the trusted ones that opts needs
// evidence of: the policy's required signers and the decision keys.
func extraKeys(opts VerifyOptions) []signature.Verifier {
	out := slices.Clone(opts.DecisionKeys)
	if opts.Policy != nil {
		out = append(out, opts.Policy.keys...)
	}
	return out
}

// currentSummary is r's signed summary recomputed with the scans and VEX
// documents trusted keys attested about r after it was signed, so that a
// new finding, or a VEX statement about one, counts. Without such
// evidence it is the signed summary.
func currentSummary(r *Release, byDigest map[string]attest.Predicate) (attest.Summary, error) {
	signed := r.rec.Summary
	named := map[string]bool{}
	for _, e := range signed.Evidence {
		named[e.Digest] = true
	}
	var later []string
	for d, p := range byDigest {
		if !named[d] && (p.Type == attest.PredicateVuln || p.Type == attest.PredicateOpenVEX) {
			later = append(later, d)
		}
	}
	slices.Sort(later)
	if len(later) == 0 {
		return signed.Clone(), nil
	}
	var preds []attest.Predicate
	for _, e := range signed.Evidence {
		preds = append(preds, byDigest[e.Digest]) // checkSummary found each
	}
	for _, d := range later {
		preds = append(preds, byDigest[d])
	}
	got, err := attest.Summarize(preds, r.build.Products())
	if err != nil {
		return attest.Summary{}, fmt.Errorf("evidence attested after the release: %w", err)
	}
	got.Provenance, got.Policy, got.Config = signed.Provenance, signed.Policy, signed.Config
	return got.Clone(), nil
}

// checkBlob streams desc from src and checks its size and digest.
func checkBlob(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) error {
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return fmt.Errorf("%w: %s: %w", ErrMissingBlob, desc.Digest, err)
		}
		return fmt.Errorf("fetch %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, desc)
	if _, err := io.Copy(io.Discard, vr); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDigestMismatch, desc.Digest, err)
	}
	if err := vr.Verify(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDigestMismatch, desc.Digest, err)
	}
	return nil
}

// digestErr marks a content digest or size mismatch as ErrDigestMismatch.
func digestErr(err error) error {
	if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrDigestMismatch, err)
	}
	return err
}

// checkLedger checks r's place on its ledger as ref reached it.
func checkLedger(ctx context.Context, src oras.ReadOnlyTarget, ref string, r *Release) error {
	env, n := r.Environment(), r.Version()
	if err := tagNames(ctx, src, VersionTag(env, n), r.Digest(), ErrNotOnLedger); err != nil {
		return err
	}
	if _, err := digest.Parse(ref); err != nil && !strings.Contains(ref, "@") {
		tag := ref
		if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
			tag = ref[i+1:]
		}
		switch e, k, ok := parseVersionTag(tag); {
		case tag == env:
			// The head: no newer version may exist.
			if _, err := src.Resolve(ctx, VersionTag(env, n+1)); err == nil {
				return fmt.Errorf("%w: %q names version %d, but %s exists", ErrNotHead, tag, n, VersionTag(env, n+1))
			} else if !errors.Is(err, errdef.ErrNotFound) {
				return fmt.Errorf("resolve %s: %w", VersionTag(env, n+1), err)
			}
		case ok && e == env && k == n:
		default:
			return fmt.Errorf("%w: tag %q names release %s of %s", ErrTagMismatch, tag, VersionTag(env, n), r.App())
		}
	}
	prev, ok := r.Previous()
	if !ok {
		return nil
	}
	l := &ledger{app: r.App(), env: env}
	p, err := l.link(ctx, src, prev, n-1)
	if err != nil {
		if errors.Is(err, ErrBrokenChain) {
			return err
		}
		return fmt.Errorf("%w: the previous release: %w", ErrBrokenChain, err)
	}
	return tagNames(ctx, src, p.Tag(), p.Digest(), ErrBrokenChain)
}

// tagNames checks that tag names d in src; kind is the error otherwise.
func tagNames(ctx context.Context, src oras.ReadOnlyTarget, tag string, d digest.Digest, kind error) error {
	got, err := src.Resolve(ctx, tag)
	switch {
	case errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%w: %s does not exist", kind, tag)
	case err != nil:
		return fmt.Errorf("resolve %s: %w", tag, err)
	case got.Digest != d:
		return fmt.Errorf("%w: %s names %s, not %s", kind, tag, got.Digest, d)
	}
	return nil
}

// parseVersionTag splits "prod-v7" into "prod" and 7.
func parseVersionTag(tag string) (string, int, bool) {
	i := strings.LastIndex(tag, "-v")
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(tag[i+2:])
	if err != nil || n < 1 || VersionTag(tag[:i], n) != tag {
		return "", 0, false
	}
	return tag[:i], n, true
}

// attestedEvidence indexes the evidence among atts (SBOMs, scans, VEX
// documents) by the digest of the predicate, as its kind.
func attestedEvidence(atts []attest.Evidence) map[string]attest.Predicate {
	out := map[string]attest.Predicate{}
	for _, a := range atts {
		st := a.Statement
		if st == nil {
			continue
		}
		if k := attest.PredicateKind(st.PredicateType); k != "" {
			out[digest.FromBytes(st.Predicate).String()] = attest.Predicate{Type: k, Data: st.Predicate}
		}
	}
	return out
}

// checkSummary recomputes r's summary from the attestations that verified
// and compares it with the one r's record holds.
func checkSummary(r *Release, atts []attest.Evidence, byDigest map[string]attest.Predicate) error {
	want := r.rec.Summary
	var prov *attest.Statement
	for _, a := range atts {
		if st := a.Statement; st != nil && st.PredicateType == attest.PredicateSLSAProvenance {
			prov = st
			break
		}
	}
	var preds []attest.Predicate
	for _, e := range want.Evidence {
		p, ok := byDigest[e.Digest]
		if !ok || p.Type != e.PredicateType {
			return fmt.Errorf("%w: evidence %s (%s) that the summary names is not attested by a trusted key", ErrMissingAttestation, e.Digest, e.PredicateType)
		}
		preds = append(preds, p)
	}
	got := &attest.Summary{}
	if len(preds) > 0 {
		var err error
		if got, err = attest.Summarize(preds, r.build.Products()); err != nil {
			return fmt.Errorf("%w: %w", ErrSummaryMismatch, err)
		}
	}
	if diff := summaryDiff(want, *got); diff != "" {
		return fmt.Errorf("%w: %s", ErrSummaryMismatch, diff)
	}
	if prov != nil && want.Provenance != nil {
		var p attest.Provenance
		if err := json.Unmarshal(prov.Predicate, &p); err != nil {
			return fmt.Errorf("%w: provenance: %w", ErrMalformed, err)
		}
		if p.RunDetails.Builder.ID != want.Provenance.Builder {
			return fmt.Errorf("%w: provenance builder is %q, the summary says %q", ErrSummaryMismatch, p.RunDetails.Builder.ID, want.Provenance.Builder)
		}
		var src struct {
			Source struct {
				Repository string `json:"repository"`
				Revision   string `json:"revision"`
			} `json:"source"`
		}
		if b, err := json.Marshal(p.BuildDefinition.ExternalParameters); err == nil {
			_ = json.Unmarshal(b, &src)
		}
		if src.Source.Repository != want.Provenance.Source || src.Source.Revision != want.Provenance.Revision {
			return fmt.Errorf("%w: provenance source is %q at %q, the summary says %q at %q", ErrSummaryMismatch,
				src.Source.Repository, src.Source.Revision, want.Provenance.Source, want.Provenance.Revision)
		}
	}
	return nil
}

// summaryDiff names the first part of the evidence-derived summary where
// want and got differ, or returns "".
func summaryDiff(want, got attest.Summary) string {
	switch {
	case !sameJSON(want.SBOM, got.SBOM):
		return fmt.Sprintf("sbom: the record says %s, the evidence %s", sbomText(want.SBOM), sbomText(got.SBOM))
	case (want.Vulnerabilities == nil) != (got.Vulnerabilities == nil):
		return "vulnerabilities: one of the record and the evidence has scans, the other none"
	case want.Vulnerabilities == nil:
		return ""
	}
	w, g := want.Vulnerabilities, got.Vulnerabilities
	for _, s := range attest.Severities {
		if w.Open.Of(s) != g.Open.Of(s) {
			return fmt.Sprintf("open %s vulnerabilities: the record says %d, the evidence %d", s, w.Open.Of(s), g.Open.Of(s))
		}
	}
	switch {
	case !sameJSON(w.Findings, g.Findings):
		return "open findings differ from the evidence"
	case !sameJSON(w.Suppressed, g.Suppressed):
		return "suppressed findings differ from the evidence"
	case !sameJSON(w.Scans, g.Scans):
		return "scans differ from the evidence"
	}
	return ""
}

// sameJSON compares two values as the record stores them, where an empty
// list and none are the same.
func sameJSON(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	norm := func(p []byte) string {
		if s := string(p); s != "[]" {
			return s
		}
		return "null"
	}
	return errA == nil && errB == nil && norm(x) == norm(y)
}

func sbomText(s *attest.SBOMSummary) string {
	if s == nil {
		return "none"
	}
	return fmt.Sprintf("%s with %d components", s.Digest, s.Components)
}
