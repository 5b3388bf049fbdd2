package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"
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
// Signatures already stored are kept. The legacy tag is read, extended
// and written back: two signers of the same manifest at the same moment
// may lose one legacy signature (bundles are separate manifests and do
// not race).
func Sign(ctx context.Context, dst oras.Target, subject ocispec.Descriptor, s signature.Signer, opts SignOptions) error {
	if err := checkSign(subject, s, opts); err != nil {
		return err
	}
	name := subjectName(dst, opts)
	if !opts.SkipBundle {
		st, err := NewStatement(name, subject.Digest, PredicateSign, nil)
		if err != nil {
			return err
		}
		if err := pushStatement(ctx, dst, subject, st, s); err != nil {
			return fmt.Errorf("attest: sign %s: %w", subject.Digest, err)
		}
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
		if err := appendLegacy(ctx, dst, subject.Digest, legacySig, layer, payload); err != nil {
			return fmt.Errorf("attest: sign %s: %w", subject.Digest, err)
		}
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
	if !opts.SkipBundle {
		if err := pushStatement(ctx, dst, subject, st, s); err != nil {
			return nil, fmt.Errorf("attest: attest %s (%s): %w", subject.Digest, predicateType, err)
		}
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
		if err := appendLegacy(ctx, dst, subject.Digest, legacyAtt, layer, raw); err != nil {
			return nil, fmt.Errorf("attest: attest %s (%s): %w", subject.Digest, predicateType, err)
		}
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
	if err := artifact.PushBytes(ctx, dst, manifestDescriptor(mraw, BundleMediaType), mraw); err != nil {
		return fmt.Errorf("push bundle manifest: %w", err)
	}
	return nil
}

// appendLegacy adds layer (with its content data) to the legacy manifest
// tagged for d with suffix, unless an equal layer is there already.
func appendLegacy(ctx context.Context, dst oras.Target, d digest.Digest, suffix string, layer ocispec.Descriptor, data []byte) error {
	tag := LegacyTag(d, suffix)
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
	for _, l := range layers {
		if l.Digest == layer.Digest && l.Annotations[AnnotationLegacySignature] == layer.Annotations[AnnotationLegacySignature] {
			return nil
		}
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
