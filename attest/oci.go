package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/slipway-dev/slipway/internal/artifact"
)

// Limits on what verification reads from a store.
const (
	// MaxManifestSize is the largest signature or attestation manifest
	// read: 4 MiB.
	MaxManifestSize = 4 << 20
	// MaxReferrers is the most referrers of one artifact that
	// verification reads; an artifact with more is refused
	// ([ErrMalformed]) rather than judged on a part of them.
	MaxReferrers = 1024
	// maxPayloadSize bounds a legacy signature payload.
	maxPayloadSize = 1 << 20
)

// The suffixes of cosign's legacy tags.
const (
	legacySig = ".sig"
	legacyAtt = ".att"
)

// LegacyTag returns the tag of cosign's legacy signatures (suffix ".sig")
// or attestations (".att") of the manifest d: "sha256-<hex>.sig".
func LegacyTag(d digest.Digest, suffix string) string {
	return string(d.Algorithm()) + "-" + d.Encoded() + suffix
}

// Sign signs the manifest subject in dst with s, in the forms cosign v3
// reads: a sigstore bundle v0.3 referrer holding a DSSE envelope of an
// in-toto statement of type [PredicateSign], and a layer of the legacy
// tag sha256-<hex>.sig, whose signature is over a simple-signing payload.
// Signatures already stored are kept. The legacy tag (and, on a registry
// without the referrers API, the referrers tag) is read, extended and
// written back, with no conditional write to guard it; Sign checks that
// its update holds a moment after, and repeats it if a concurrent writer
// dropped it, so that concurrent signers and attesters keep every entry
// (see settle for the limits). The two forms are written at once.
func Sign(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, s signature.Signer, opts SignOptions) error {
	if err := checkSign(subject, s, opts); err != nil {
		return err
	}
	name := subjectName(dst, opts)
	var g errgroup.Group
	if !opts.SkipBundle {
		st, err := NewStatement(name, subject.Digest, PredicateSign, nil)
		if err != nil {
			return err
		}
		g.Go(func() error { return pushStatement(ctx, dst, subject, st, s) })
	}
	if !opts.SkipLegacyTags {
		payload, err := simpleSigningPayload(name, subject.Digest)
		if err != nil {
			return err
		}
		sig, err := s.SignMessage(bytes.NewReader(payload), options.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("attest: sign %s: %w", subject.Digest, err)
		}
		layer := ocispec.Descriptor{
			MediaType:   SimpleSigningMediaType,
			Digest:      digest.FromBytes(payload),
			Size:        int64(len(payload)),
			Annotations: map[string]string{AnnotationLegacySignature: base64.StdEncoding.EncodeToString(sig)},
		}
		g.Go(func() error { return appendLegacy(ctx, dst, subject.Digest, legacySig, layer, payload) })
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("attest: sign %s: %w", subject.Digest, err)
	}
	return nil
}

// Attest signs the statement that predicate (a JSON object, as bytes,
// [json.RawMessage] or a value to marshal) of predicateType holds about
// the manifest subject in dst, and stores it as cosign v3 reads
// attestations: a sigstore bundle v0.3 referrer, and a layer of the legacy
// tag sha256-<hex>.att. It returns the statement as signed.
func Attest(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, predicateType string, predicate any, s signature.Signer, opts SignOptions) (*Statement, error) {
	if err := checkSign(subject, s, opts); err != nil {
		return nil, err
	}
	st, err := NewStatement(subjectName(dst, opts), subject.Digest, predicateType, predicate)
	if err != nil {
		return nil, err
	}
	var g errgroup.Group
	if !opts.SkipBundle {
		g.Go(func() error { return pushStatement(ctx, dst, subject, st, s) })
	}
	if !opts.SkipLegacyTags {
		env, err := signStatement(ctx, st, s)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(env)
		if err != nil {
			return nil, err
		}
		layer := ocispec.Descriptor{
			MediaType: EnvelopeMediaType,
			Digest:    digest.FromBytes(raw),
			Size:      int64(len(raw)),
			Annotations: map[string]string{
				AnnotationLegacySignature:     "",
				AnnotationLegacyPredicateType: predicateType,
			},
		}
		g.Go(func() error { return appendLegacy(ctx, dst, subject.Digest, legacyAtt, layer, raw) })
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("attest: attest %s (%s): %w", subject.Digest, predicateType, err)
	}
	return st, nil
}

func checkSign(subject ocispec.Descriptor, s signature.Signer, opts SignOptions) error {
	switch {
	case s == nil:
		return fmt.Errorf("attest: %w: no signer", ErrInvalidOptions)
	case subject.Digest.Validate() != nil || subject.Size <= 0 || subject.MediaType == "":
		return fmt.Errorf("attest: %w: subject is not a stored manifest's descriptor", ErrInvalidOptions)
	case opts.SkipBundle && opts.SkipLegacyTags:
		return fmt.Errorf("attest: %w: SignOptions.SkipBundle and SkipLegacyTags both set: nothing to write", ErrInvalidOptions)
	}
	return nil
}

func subjectName(dst oras.ReadOnlyTarget, opts SignOptions) string {
	if opts.Name != "" {
		return opts.Name
	}
	if r, ok := dst.(*remote.Repository); ok {
		return r.Reference.Registry + "/" + r.Reference.Repository
	}
	return ""
}

func signStatement(ctx context.Context, st *Statement, s signature.Signer) (*Envelope, error) {
	payload, err := st.Bytes()
	if err != nil {
		return nil, err
	}
	return SignEnvelope(ctx, s, PayloadType, payload)
}

// pushStatement signs st and stores it as a bundle referrer of subject.
func pushStatement(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, st *Statement, s signature.Signer) error {
	env, err := signStatement(ctx, st, s)
	if err != nil {
		return err
	}
	hint, err := signerKeyID(ctx, s)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(&Bundle{KeyHint: hint, Envelope: env})
	if err != nil {
		return err
	}
	layer := ocispec.Descriptor{MediaType: BundleMediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: BundleMediaType,
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			AnnotationBundleContent:       "dsse-envelope",
			AnnotationBundlePredicateType: st.PredicateType,
		},
	}
	if err := artifact.PushBytes(ctx, dst, ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON.Data); err != nil {
		return fmt.Errorf("push empty config: %w", err)
	}
	if err := artifact.PushBytes(ctx, dst, layer, raw); err != nil {
		return fmt.Errorf("push bundle: %w", err)
	}
	mraw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	mdesc := manifestDescriptor(mraw, BundleMediaType)
	start := time.Now()
	if err := artifact.PushBytes(ctx, dst, mdesc, mraw); err != nil {
		return fmt.Errorf("push bundle manifest: %w", err)
	}
	span := time.Since(start)
	g, ok := dst.(oras.ReadOnlyGraphTarget)
	if !ok {
		return nil
	}
	if _, err := dst.Resolve(ctx, LegacyTag(subject.Digest, "")); errors.Is(err, errdef.ErrNotFound) {
		return nil // no referrers tag: the registry indexes referrers itself, no writer can drop one
	}
	// On a registry without the referrers API, the referrers tag is read,
	// changed and written back by each writer; another writer's update
	// can drop this referrer from it. Pushing the manifest again indexes
	// it again.
	return settle(ctx, dst, span, "bundle referrer "+mdesc.Digest.String(), func() (bool, error) {
		refs, err := listReferrers(ctx, g, subject)
		return slices.ContainsFunc(refs, func(d ocispec.Descriptor) bool { return d.Digest == mdesc.Digest }), err
	}, func() error {
		if err := dst.Push(ctx, mdesc, bytes.NewReader(mraw)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) && !artifact.StaleIndexKept(err) {
			return fmt.Errorf("push bundle manifest again: %w", err)
		}
		return nil
	})
}

// settleAttempts bounds how often a write is checked and repeated until it
// holds; minQuiet is the least time it must stay visible to hold.
const (
	settleAttempts = 24
	minQuiet       = 10 * time.Millisecond
)

// settle checks that a write to a registry holds, and while it does not,
// repeats it after a growing, jittered pause. Writers that update one tag
// at once (cosign's legacy tags, the referrers tag schema) each read,
// change and write it back, and distribution has no conditional write, so
// one's update can drop another's. A write holds when it is seen twice, a
// quiet period apart: twice span, the time this writer's own
// read-change-write took, so that a writer that read the tag before this
// write, and is as fast, has written its update by the second look. A
// writer much slower than this one can still drop an entry; the referrers
// API, where a registry has it, has no such race. Other stores are
// written in process, under a lock (see appendLegacyOnce), and are
// checked once.
func settle(ctx context.Context, dst oras.Target, span time.Duration, what string, seen func() (bool, error), again func() error) error {
	_, remoteStore := dst.(*remote.Repository)
	quiet := max(minQuiet, 2*span)
	pause := 5 * time.Millisecond
	confirmed := false
	for range settleAttempts {
		ok, err := seen()
		switch {
		case err != nil:
			return fmt.Errorf("check %s: %w", what, err)
		case ok && (confirmed || !remoteStore):
			return nil
		case ok:
			confirmed = true
			if err := sleep(ctx, quiet+rand.N(quiet/2)); err != nil {
				return err
			}
			continue
		}
		confirmed = false
		if err := sleep(ctx, pause+rand.N(pause)); err != nil {
			return err
		}
		pause = min(2*pause, 200*time.Millisecond)
		if err := again(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: still overwritten by concurrent writers after %d tries", what, settleAttempts)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// tagLocks serializes the read-change-write of a legacy tag by writers in
// this process, per repository (or store value) and tag, whichever client
// they use; writers in other processes rely on settle.
var tagLocks sync.Map // string → *sync.Mutex

func lockTag(dst oras.Target, tag string) func() {
	key := fmt.Sprintf("%p %s", dst, tag)
	if r, ok := dst.(*remote.Repository); ok {
		key = r.Reference.Registry + "/" + r.Reference.Repository + ":" + tag
	}
	m, _ := tagLocks.LoadOrStore(key, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func appendLegacy(ctx context.Context, dst oras.Target, d digest.Digest, suffix string, layer ocispec.Descriptor, data []byte) error {
	start := time.Now()
	if err := appendLegacyOnce(ctx, dst, d, suffix, layer, data); err != nil {
		return err
	}
	span := time.Since(start)
	tag := LegacyTag(d, suffix)
	return settle(ctx, dst, span, "layer "+layer.Digest.String()+" of "+tag, func() (bool, error) {
		desc, err := dst.Resolve(ctx, tag)
		if err != nil {
			return false, err
		}
		m, err := fetchManifest(ctx, dst, desc)
		if err != nil {
			return false, err
		}
		return hasLayer(m.Layers, layer), nil
	}, func() error { return appendLegacyOnce(ctx, dst, d, suffix, layer, data) })
}

// hasLayer reports whether layers hold layer with its signature.
func hasLayer(layers []ocispec.Descriptor, layer ocispec.Descriptor) bool {
	for _, l := range layers {
		if l.Digest == layer.Digest && l.Annotations[AnnotationLegacySignature] == layer.Annotations[AnnotationLegacySignature] {
			return true
		}
	}
	return false
}

// appendLegacyOnce reads the legacy tag of d, adds layer and writes it
// back: one read-change-write, which a concurrent writer may undo.
func appendLegacyOnce(ctx context.Context, dst oras.Target, d digest.Digest, suffix string, layer ocispec.Descriptor, data []byte) error {
	tag := LegacyTag(d, suffix)
	defer lockTag(dst, tag)()
	var layers []ocispec.Descriptor
	switch desc, err := dst.Resolve(ctx, tag); {
	case errors.Is(err, errdef.ErrNotFound):
	case err != nil:
		return fmt.Errorf("resolve %s: %w", tag, err)
	default:
		m, err := fetchManifest(ctx, dst, desc)
		if err != nil {
			return fmt.Errorf("read %s: %w", tag, err)
		}
		layers = m.Layers
	}
	if hasLayer(layers, layer) {
		return nil
	}
	layers = append(layers, layer)
	if err := artifact.PushBytes(ctx, dst, layer, data); err != nil {
		return fmt.Errorf("push %s layer: %w", tag, err)
	}
	img := ocispec.Image{RootFS: ocispec.RootFS{Type: "layers"}}
	for _, l := range layers {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, l.Digest)
	}
	craw, err := json.Marshal(img)
	if err != nil {
		return err
	}
	cdesc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.FromBytes(craw), Size: int64(len(craw))}
	if err := artifact.PushBytes(ctx, dst, cdesc, craw); err != nil {
		return fmt.Errorf("push %s config: %w", tag, err)
	}
	mraw, err := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cdesc,
		Layers:    layers,
	})
	if err != nil {
		return err
	}
	mdesc := manifestDescriptor(mraw, "")
	if err := artifact.PushBytes(ctx, dst, mdesc, mraw); err != nil {
		return fmt.Errorf("push %s manifest: %w", tag, err)
	}
	if err := dst.Tag(ctx, mdesc, tag); err != nil && !artifact.StaleIndexKept(err) {
		return fmt.Errorf("tag %s: %w", tag, err)
	}
	return nil
}

func manifestDescriptor(raw []byte, artifactType string) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: artifactType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
}

// fetchManifest reads and decodes the image manifest desc, at most
// MaxManifestSize bytes, checking its digest.
func fetchManifest(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) (*ocispec.Manifest, error) {
	raw, err := fetchLimited(ctx, src, desc, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest %s: %w", ErrMalformed, desc.Digest, err)
	}
	if m.SchemaVersion != 2 || (m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest) {
		return nil, fmt.Errorf("%w: %s is not an OCI image manifest", ErrUnknownFormat, desc.Digest)
	}
	return &m, nil
}

// fetchLimited reads desc whole if it is at most limit bytes, and checks
// its size and digest.
func fetchLimited(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if desc.Size < 0 || desc.Size > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes (limit %d)", ErrMalformed, desc.Digest, desc.Size, limit)
	}
	raw, err := content.FetchAll(ctx, src, desc)
	switch {
	case errors.Is(err, content.ErrMismatchedDigest), errors.Is(err, content.ErrTrailingData):
		return nil, fmt.Errorf("%w: %s: %w", ErrDigestMismatch, desc.Digest, err)
	case err != nil:
		return nil, fmt.Errorf("fetch %s: %w", desc.Digest, err)
	}
	return raw, nil
}
