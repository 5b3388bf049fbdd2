package attest

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Media types of sigstore bundles and cosign's legacy signature payloads.
const (
	// BundleMediaType is a sigstore bundle v0.3: the media type of the
	// bundle JSON, of the referrer manifest's artifactType and of its
	// layer.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// bundleMediaTypeAlt is the other spelling of v0.3 that sigstore
	// clients accept.
	bundleMediaTypeAlt = "application/vnd.dev.sigstore.bundle+json;version=0.3"
	// SimpleSigningMediaType is the payload of a legacy cosign signature
	// (a layer of a sha256-<hex>.sig manifest).
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// simpleSigningType is the critical.type of a cosign image signature.
	simpleSigningType = "cosign container image signature"
)

// Annotations cosign reads on bundle referrers and legacy layers.
const (
	AnnotationBundleContent       = "dev.sigstore.bundle.content"
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationLegacySignature     = "dev.cosignproject.cosign/signature"
	AnnotationLegacyPredicateType = "predicateType"
)

// Bundle is a key-based sigstore bundle v0.3: a DSSE envelope and the
// hint of the key that signed it. The hint is not trusted: verification
// tries every trusted key.
type Bundle struct {
	KeyHint  string
	Envelope *Envelope
}

type bundleWire struct {
	MediaType            string           `json:"mediaType"`
	VerificationMaterial *materialWire    `json:"verificationMaterial,omitempty"`
	DSSEEnvelope         *dsse.Envelope   `json:"dsseEnvelope,omitempty"`
	MessageSignature     *json.RawMessage `json:"messageSignature,omitempty"`
}

type materialWire struct {
	PublicKey *struct {
		Hint string `json:"hint"`
	} `json:"publicKey,omitempty"`
}

// MarshalJSON encodes the bundle as sigstore bundle v0.3 JSON.
func (b *Bundle) MarshalJSON() ([]byte, error) {
	if b.Envelope == nil {
		return nil, fmt.Errorf("attest: %w: bundle without an envelope", ErrInvalidOptions)
	}
	w := bundleWire{MediaType: BundleMediaType, VerificationMaterial: &materialWire{}, DSSEEnvelope: b.Envelope.wire()}
	w.VerificationMaterial.PublicKey = &struct {
		Hint string `json:"hint"`
	}{Hint: b.KeyHint}
	return json.Marshal(w)
}

// ParseBundle reads a sigstore bundle. Only v0.3 is read: another version
// is [ErrUnknownFormat], as is a bundle holding a bare message signature
// rather than a DSSE envelope; unreadable JSON is [ErrMalformed].
func ParseBundle(raw []byte) (*Bundle, error) {
	if len(raw) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: bundle of %d bytes (limit %d)", ErrMalformed, len(raw), MaxEnvelopeSize)
	}
	var w bundleWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("%w: bundle: %w", ErrMalformed, err)
	}
	if w.MediaType != BundleMediaType && w.MediaType != bundleMediaTypeAlt {
		return nil, fmt.Errorf("%w: bundle media type %q (this reader knows %s)", ErrUnknownFormat, w.MediaType, BundleMediaType)
	}
	if w.DSSEEnvelope == nil {
		if w.MessageSignature != nil {
			return nil, fmt.Errorf("%w: bundle holds a message signature, not a DSSE envelope", ErrUnknownFormat)
		}
		return nil, fmt.Errorf("%w: bundle without dsseEnvelope", ErrMalformed)
	}
	env, err := fromWire(w.DSSEEnvelope)
	if err != nil {
		return nil, err
	}
	b := &Bundle{Envelope: env}
	if w.VerificationMaterial != nil && w.VerificationMaterial.PublicKey != nil {
		b.KeyHint = w.VerificationMaterial.PublicKey.Hint
	}
	return b, nil
}

// simpleSigning is cosign's legacy signature payload.
type simpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// simpleSigningPayload returns the legacy payload naming d in repository
// name.
func simpleSigningPayload(name string, d digest.Digest) ([]byte, error) {
	var p simpleSigning
	p.Critical.Identity.DockerReference = name
	p.Critical.Image.DockerManifestDigest = d.String()
	p.Critical.Type = simpleSigningType
	return json.Marshal(p)
}

// parseSimpleSigning reads a legacy payload and returns the digest it
// signs.
func parseSimpleSigning(raw []byte) (digest.Digest, error) {
	var p simpleSigning
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", fmt.Errorf("%w: signature payload: %w", ErrMalformed, err)
	}
	if !strings.EqualFold(p.Critical.Type, simpleSigningType) {
		return "", fmt.Errorf("%w: signature payload type %q", ErrUnknownFormat, p.Critical.Type)
	}
	d, err := digest.Parse(p.Critical.Image.DockerManifestDigest)
	if err != nil {
		return "", fmt.Errorf("%w: signature payload digest: %w", ErrMalformed, err)
	}
	return d, nil
}
