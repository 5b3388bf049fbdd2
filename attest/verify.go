package attest

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// Forms in which signatures and attestations are stored.
const (
	// FormBundle is a sigstore bundle v0.3 referrer.
	FormBundle = "bundle"
	// FormLegacy is a layer of cosign's sha256-<hex>.sig or .att tag.
	FormLegacy = "legacy"
)

// Result is what verification found valid: each signature and
// attestation that a trusted key verified and that is about the subject.
// Evidence that did not verify is not listed.
type Result struct {
	Subject      ocispec.Descriptor
	Signatures   []Evidence
	Attestations []Evidence
}

// Evidence is one verified signature or attestation.
type Evidence struct {
	// Form is FormBundle or FormLegacy.
	Form string
	// Source is the bundle referrer's manifest, or the legacy tag's.
	Source ocispec.Descriptor
	// Layer is the blob within Source that holds the evidence.
	Layer ocispec.Descriptor
	// KeyID is the [KeyID] of the trusted key that verified it.
	KeyID string
	// Statement is the signed statement; nil for a legacy signature,
	// which signs a simple-signing payload.
	Statement *Statement
}

// Statements returns the verified statements of predicateType.
func (r *Result) Statements(predicateType string) []*Statement {
	var out []*Statement
	for _, e := range r.Attestations {
		if e.Statement.PredicateType == predicateType {
			out = append(out, e.Statement)
		}
	}
	return out
}

// Verify checks the signatures and attestations of the manifest subject
// in src against the trusted keys. It reads bundle referrers (through the
// referrers API or the referrers tag schema) and cosign's legacy .sig and
// .att tags; a signature counts in whichever form it is stored, so a
// store holding both forms verifies when either holds a valid signature.
//
// It fails closed. With no signature at all the error wraps
// [ErrNotSigned]; otherwise, when no signature verifies, the error joins
// the reason of each one ([ErrUntrustedKey], [ErrSubjectMismatch],
// [ErrMalformed], [ErrUnknownFormat], [ErrDigestMismatch], each in an
// [EvidenceError] naming it), so that [errors.Is] matches every reason. A
// required predicate type without a valid attestation wraps
// [ErrMissingAttestation] joined with the reasons of the ones that
// failed. Predicate types are trusted only from the signed statement.
func Verify(ctx context.Context, src oras.ReadOnlyGraphTarget, subject ocispec.Descriptor, trusted []signature.Verifier, opts VerifyOptions) (*Result, error) {
	v, err := collect(ctx, src, subject, trusted)
	if err != nil {
		return nil, err
	}
	var errs []error
	if len(v.res.Signatures) == 0 {
		if fails := v.failed[PredicateSign]; len(fails) > 0 {
			errs = append(errs, fails...)
		} else {
			errs = append(errs, ErrNotSigned)
		}
	}
	for _, typ := range opts.Require {
		if len(v.res.Statements(typ)) > 0 {
			continue
		}
		if fails := v.failed[typ]; len(fails) > 0 {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrMissingAttestation, typ, errors.Join(fails...)))
		} else {
			errs = append(errs, fmt.Errorf("%w: %s", ErrMissingAttestation, typ))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("attest: verify %s: %w", subject.Digest, errors.Join(errs...))
	}
	return &v.res, nil
}

// Find returns the signatures and attestations about the manifest subject
// in src that one of keys verifies, read as [Verify] reads them, each with
// the [KeyID] of its key. Unlike Verify it requires nothing: a subject
// without any is an empty [Result], and evidence that does not verify is
// left out. It fails only when the store cannot be read, or on invalid
// arguments ([ErrInvalidOptions]). Use it to read evidence by keys other
// than the ones a subject's signature is checked with, such as the keys
// of a decision or a required co-signer.
func Find(ctx context.Context, src oras.ReadOnlyGraphTarget, subject ocispec.Descriptor, keys []signature.Verifier) (*Result, error) {
	v, err := collect(ctx, src, subject, keys)
	if err != nil {
		return nil, err
	}
	return &v.res, nil
}

// collect reads every signature and attestation of subject in src and
// checks each against trusted.
func collect(ctx context.Context, src oras.ReadOnlyGraphTarget, subject ocispec.Descriptor, trusted []signature.Verifier) (*verification, error) {
	keys, err := trustedKeys(ctx, trusted)
	if err != nil {
		return nil, err
	}
	if subject.Digest.Validate() != nil {
		return nil, fmt.Errorf("attest: %w: subject digest %q", ErrInvalidOptions, subject.Digest)
	}
	v := &verification{keys: keys, subject: subject, failed: map[string][]error{}}
	v.res.Subject = subject
	// Both forms at once, each piece of evidence in its own goroutine: a
	// registry round trip is the cost of verification.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return v.bundles(gctx, src) })
	g.Go(func() error { return v.legacy(gctx, src) })
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("attest: verify %s: %w", subject.Digest, err)
	}
	v.sort()
	return v, nil
}

// fetchConcurrency is how many pieces of evidence are read at once.
const fetchConcurrency = 8

type verification struct {
	mu      sync.Mutex // guards res and failed
	keys    []trustedKey
	subject ocispec.Descriptor
	res     Result
	// failed holds the reasons evidence was refused, by the predicate
	// type it claims (unsigned routing only; PredicateSign for
	// signatures).
	failed map[string][]error
}

func (v *verification) fail(kind, source string, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failed[kind] = append(v.failed[kind], &EvidenceError{Source: source, Err: err})
}

func (v *verification) accept(e Evidence) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if e.Statement == nil || e.Statement.PredicateType == PredicateSign {
		v.res.Signatures = append(v.res.Signatures, e)
		return
	}
	v.res.Attestations = append(v.res.Attestations, e)
}

// bundles reads the bundle referrers of the subject.
func (v *verification) bundles(ctx context.Context, src oras.ReadOnlyGraphTarget) error {
	refs, err := listReferrers(ctx, src, v.subject)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for _, ref := range refs {
		if !maybeBundle(ref) {
			continue
		}
		g.Go(func() error {
			v.bundle(gctx, src, ref)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// bundle checks the referrer ref, which may be a bundle.
func (v *verification) bundle(ctx context.Context, src oras.ReadOnlyGraphTarget, ref ocispec.Descriptor) {
	source := "bundle " + string(ref.Digest)
	kind := ref.Annotations[AnnotationBundlePredicateType]
	m, err := fetchManifest(ctx, src, manifestOnly(ref))
	if err != nil {
		if ref.ArtifactType == BundleMediaType {
			v.fail(orSign(kind), source, err)
		}
		return
	}
	if m.ArtifactType != BundleMediaType {
		if isBundleType(m.ArtifactType) {
			v.fail(orSign(m.Annotations[AnnotationBundlePredicateType]), source, fmt.Errorf("%w: bundle version %q", ErrUnknownFormat, m.ArtifactType))
		}
		return
	}
	kind = orSign(m.Annotations[AnnotationBundlePredicateType])
	if m.Subject == nil || m.Subject.Digest != v.subject.Digest {
		v.fail(kind, source, fmt.Errorf("%w: referrer's subject is not %s", ErrSubjectMismatch, v.subject.Digest))
		return
	}
	if len(m.Layers) != 1 || m.Layers[0].MediaType != BundleMediaType {
		v.fail(kind, source, fmt.Errorf("%w: want one layer of %s", ErrMalformed, BundleMediaType))
		return
	}
	raw, err := fetchLimited(ctx, src, m.Layers[0], MaxEnvelopeSize)
	if err != nil {
		v.fail(kind, source, err)
		return
	}
	b, err := ParseBundle(raw)
	if err != nil {
		v.fail(kind, source, err)
		return
	}
	st, id, err := v.statement(ctx, b.Envelope)
	if err != nil {
		v.fail(kind, source, err)
		return
	}
	v.accept(Evidence{Form: FormBundle, Source: manifestOnly(ref), Layer: m.Layers[0], KeyID: id, Statement: st})
}

// statement verifies env and checks that its statement is about the
// subject.
func (v *verification) statement(ctx context.Context, env *Envelope) (*Statement, string, error) {
	st, id, err := env.verifyStatement(ctx, v.keys)
	if err != nil {
		return nil, "", err
	}
	if !st.About(v.subject.Digest) {
		return nil, "", fmt.Errorf("%w: statement of type %s is not about %s", ErrSubjectMismatch, st.PredicateType, v.subject.Digest)
	}
	return st, id, nil
}

// legacy reads cosign's .sig and .att tags of the subject.
func (v *verification) legacy(ctx context.Context, src oras.ReadOnlyGraphTarget) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, suffix := range []string{legacySig, legacyAtt} {
		g.Go(func() error { return v.legacyTag(gctx, src, suffix) })
	}
	return g.Wait()
}

// legacyTag reads the legacy tag of the subject with suffix, checking its
// layers concurrently.
func (v *verification) legacyTag(ctx context.Context, src oras.ReadOnlyGraphTarget, suffix string) error {
	tag := LegacyTag(v.subject.Digest, suffix)
	desc, err := src.Resolve(ctx, tag)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolve %s: %w", tag, err)
	}
	kind := PredicateSign
	m, err := fetchManifest(ctx, src, manifestOnly(desc))
	if err != nil {
		if suffix == legacyAtt {
			kind = "" // attributed to no type: it fails no requirement by itself
		}
		v.fail(kind, "tag "+tag, err)
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(fetchConcurrency)
	for i, layer := range m.Layers {
		source := fmt.Sprintf("tag %s layer %d", tag, i)
		g.Go(func() error {
			if suffix == legacySig {
				v.legacySignature(gctx, src, manifestOnly(desc), layer, source)
			} else {
				v.legacyAttestation(gctx, src, manifestOnly(desc), layer, source)
			}
			return nil
		})
	}
	return g.Wait()
}

func (v *verification) legacySignature(ctx context.Context, src oras.ReadOnlyGraphTarget, manifest, layer ocispec.Descriptor, source string) {
	if layer.MediaType != SimpleSigningMediaType {
		v.fail(PredicateSign, source, fmt.Errorf("%w: layer media type %q", ErrUnknownFormat, layer.MediaType))
		return
	}
	sig, err := base64.StdEncoding.DecodeString(layer.Annotations[AnnotationLegacySignature])
	if err != nil || len(sig) == 0 {
		v.fail(PredicateSign, source, fmt.Errorf("%w: no signature", ErrNotSigned))
		return
	}
	payload, err := fetchLimited(ctx, src, layer, maxPayloadSize)
	if err != nil {
		v.fail(PredicateSign, source, err)
		return
	}
	id, err := verifyAny(ctx, v.keys, []Signature{{Sig: sig}}, payload)
	if err != nil {
		v.fail(PredicateSign, source, err)
		return
	}
	d, err := parseSimpleSigning(payload)
	if err != nil {
		v.fail(PredicateSign, source, err)
		return
	}
	if d != v.subject.Digest {
		v.fail(PredicateSign, source, fmt.Errorf("%w: signature payload names %s", ErrSubjectMismatch, d))
		return
	}
	v.accept(Evidence{Form: FormLegacy, Source: manifest, Layer: layer, KeyID: id})
}

func (v *verification) legacyAttestation(ctx context.Context, src oras.ReadOnlyGraphTarget, manifest, layer ocispec.Descriptor, source string) {
	kind := layer.Annotations[AnnotationLegacyPredicateType]
	if layer.MediaType != EnvelopeMediaType {
		v.fail(kind, source, fmt.Errorf("%w: layer media type %q", ErrUnknownFormat, layer.MediaType))
		return
	}
	raw, err := fetchLimited(ctx, src, layer, MaxEnvelopeSize)
	if err != nil {
		v.fail(kind, source, err)
		return
	}
	env, err := ParseEnvelope(raw)
	if err != nil {
		v.fail(kind, source, err)
		return
	}
	st, id, err := v.statement(ctx, env)
	if err != nil {
		v.fail(kind, source, err)
		return
	}
	v.accept(Evidence{Form: FormLegacy, Source: manifest, Layer: layer, KeyID: id, Statement: st})
}

// maybeBundle reports whether a listed referrer may be a bundle: its
// listed artifactType says so, or says nothing useful (some registries
// list the config media type instead).
func maybeBundle(d ocispec.Descriptor) bool {
	switch d.ArtifactType {
	case "", ocispec.MediaTypeEmptyJSON:
		return d.MediaType == ocispec.MediaTypeImageManifest
	}
	return isBundleType(d.ArtifactType)
}

func isBundleType(t string) bool {
	return strings.HasPrefix(t, "application/vnd.dev.sigstore.bundle")
}

func orSign(kind string) string {
	if kind == "" {
		return PredicateSign
	}
	return kind
}

func manifestOnly(d ocispec.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, ArtifactType: d.ArtifactType}
}

// sort puts what was found in an order that does not depend on timing:
// by form, then source and layer digest; reasons by their text.
func (v *verification) sort() {
	byPlace := func(a, b Evidence) int {
		return cmp.Or(strings.Compare(a.Form, b.Form), strings.Compare(string(a.Source.Digest), string(b.Source.Digest)),
			strings.Compare(string(a.Layer.Digest), string(b.Layer.Digest)))
	}
	slices.SortFunc(v.res.Signatures, byPlace)
	slices.SortFunc(v.res.Attestations, byPlace)
	for _, errs := range v.failed {
		slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	}
}

// errTooMany stops a referrers listing at MaxReferrers.
var errTooMany = fmt.Errorf("%w: more than %d referrers", ErrMalformed, MaxReferrers)

// listReferrers lists the referrers of subject, page by page where the
// store pages them, and stops reading past MaxReferrers.
func listReferrers(ctx context.Context, src oras.ReadOnlyGraphTarget, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	var refs []ocispec.Descriptor
	var err error
	if rl, ok := src.(registry.ReferrerLister); ok {
		err = rl.Referrers(ctx, subject, "", func(page []ocispec.Descriptor) error {
			if len(refs)+len(page) > MaxReferrers {
				return errTooMany
			}
			refs = append(refs, page...)
			return nil
		})
	} else {
		refs, err = registry.Referrers(ctx, src, subject, "")
		if err == nil && len(refs) > MaxReferrers {
			err = errTooMany
		}
	}
	switch {
	case errors.Is(err, errTooMany):
		return nil, err
	case errors.Is(err, errdef.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("list referrers: %w", err)
	}
	return refs, nil
}
