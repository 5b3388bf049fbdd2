package release_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

func newKey(t testing.TB) signature.SignerVerifier {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	sv, err := signature.LoadECDSASignerVerifier(k, crypto.SHA256)
	require.NoError(t, err)
	return sv
}

type graphTarget interface {
	oras.Target
	oras.ReadOnlyGraphTarget
}

func TestVerifyEveryStore(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key, other := newKey(t), newKey(t)
			b := newBuild(t, dst, "shop", "v1")
			r1, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			r2, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "debug"), release.Options{Created: at(2), Signer: key})
			require.NoError(t, err)

			v, err := release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{})
			require.NoError(t, err)
			assert.Equal(t, r2.Digest(), v.Release.Digest())
			assert.Len(t, v.Signatures, 2, "bundle and legacy signature")
			require.Len(t, v.Attestations, 2, "provenance as bundle and legacy attestation")
			st := v.Attestations[0].Statement
			assert.Equal(t, attest.PredicateSLSAProvenance, st.PredicateType)
			var prov attest.Provenance
			require.NoError(t, json.Unmarshal(st.Predicate, &prov))
			assert.Equal(t, attest.BuildTypeSlipway, prov.BuildDefinition.BuildType)
			assert.Equal(t, release.DefaultBuilderID, prov.RunDetails.Builder.ID)
			assert.Equal(t, "git+https://example.com/acme/shop", prov.BuildDefinition.ResolvedDependencies[0].URI)
			assert.Equal(t, map[string]string{"gitCommit": "0123456789abcdef0123456789abcdef01234567"}, prov.BuildDefinition.ResolvedDependencies[0].Digest)

			refs := []string{"prod-v1", r1.Digest().String()}
			if s.name == "memory" {
				refs = refs[:1] // memory.Store resolves tags only
			}
			for _, ref := range refs {
				v, err = release.Verify(ctx, dst, ref, []signature.Verifier{other, key}, release.VerifyOptions{})
				require.NoError(t, err, ref)
				assert.Equal(t, r1.Digest(), v.Release.Digest())
			}

			_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{other}, release.VerifyOptions{})
			assert.ErrorIs(t, err, release.ErrUntrustedKey)
			var ve *release.VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "signature", ve.Check)
			assert.Equal(t, r2.Digest(), ve.Digest)
		})
	}
}

// fixture is a ledger of two releases of shop in prod, v2 the head, each
// signed by key unless a row asks otherwise.
type fixture struct {
	dst      graphTarget
	key      signature.SignerVerifier
	b1, b2   *build.Build
	r1, r2   *release.Release
	layout   string // the layout's directory, for rows that edit blobs in place
	registry bool
}

// tamper is one way to attack a release; verification must refuse it.
type tamper struct {
	name string
	// sign2 is how v2 is signed before the tamper; nil: signature and
	// provenance in both forms.
	sign2      *release.SignOptions
	unsigned   bool // v2 is not signed at all
	evidence   bool // v2's build carries an SBOM, a scan and a VEX document
	layoutOnly bool // edits blobs in place, which only a layout allows
	// do tampers and returns the reference to verify.
	do   func(t *testing.T, f *fixture) string
	want error
	// cosign is the verdict of the real cosign on the tampered release
	// in a registry: "reject" when cosign verify --key refuses it too,
	// "reject-attestation" when only cosign verify-attestation --type
	// slsaprovenance1 does, "accept" when cosign accepts it because the
	// check is slipway's own (format, content, ledger); empty for rows
	// that only a layout allows.
	cosign string
}

func tampers() []tamper {
	return []tamper{
		{name: "modified record", want: release.ErrNotSigned, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				m, rec := manifestAndRecord(t, f, f.r2)
				rec = bytes.Replace(rec, []byte(`T02:00:00Z`), []byte(`T03:00:00Z`), 1)
				require.NotEqual(t, f.r2.Digest(), digest.FromBytes(rec))
				return f.repush(t, m, rec, "prod", "prod-v2")
			}},
		{name: "record replaced in place", layoutOnly: true, want: release.ErrDigestMismatch,
			do: func(t *testing.T, f *fixture) string {
				_, recDesc := f.r2.Record()
				f.overwrite(t, recDesc.Digest, []byte(`{"app":"evil"}`))
				return "prod"
			}},
		{name: "swapped config blob", layoutOnly: true, want: release.ErrDigestMismatch,
			do: func(t *testing.T, f *fixture) string {
				f.overwrite(t, f.r2.Config().Digest(), f.r1.Config().Bytes())
				return "prod"
			}},
		{name: "swapped layer", layoutOnly: true, want: release.ErrDigestMismatch,
			do: func(t *testing.T, f *fixture) string {
				f.overwrite(t, f.b2.Layers()[0].Digest, []byte("#!/bin/sh\nrm -rf /\n"))
				return "prod"
			}},
		{name: "changed subject, re-signed", want: release.ErrRecordMismatch, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				m, rec := manifestAndRecord(t, f, f.r2)
				bd := f.b1.Descriptor()
				m.Subject = &ocispec.Descriptor{MediaType: bd.MediaType, Digest: bd.Digest, Size: bd.Size}
				ref := f.repush(t, m, rec, "prod", "prod-v2")
				desc, err := f.dst.Resolve(t.Context(), ref)
				require.NoError(t, err)
				require.NoError(t, attest.Sign(t.Context(), f.dst, desc, f.key, attest.SignOptions{}))
				_, err = attest.Attest(t.Context(), f.dst, desc, attest.PredicateSLSAProvenance, nil, f.key, attest.SignOptions{})
				require.NoError(t, err)
				return ref
			}},
		{name: "signature by another key", unsigned: true, want: release.ErrUntrustedKey, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				require.NoError(t, release.Sign(t.Context(), f.dst, f.r2, newKey(t), release.SignOptions{}))
				return "prod"
			}},
		{name: "signature about another digest", unsigned: true, want: release.ErrSubjectMismatch, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				// v1's legacy signature copied to v2's signature tag.
				ctx := t.Context()
				desc, err := f.dst.Resolve(ctx, attest.LegacyTag(f.r1.Digest(), ".sig"))
				require.NoError(t, err)
				require.NoError(t, f.dst.Tag(ctx, desc, attest.LegacyTag(f.r2.Digest(), ".sig")))
				return "prod"
			}},
		{name: "statement about another subject", unsigned: true, want: release.ErrSubjectMismatch, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				st, err := attest.NewStatement("shop", f.r1.Digest(), attest.PredicateSign, nil)
				require.NoError(t, err)
				payload, err := st.Bytes()
				require.NoError(t, err)
				f.pushBundle(t, f.r2, f.envelope(t, attest.PayloadType, payload, true), attest.PredicateSign)
				return "prod"
			}},
		{name: "truncated envelope", unsigned: true, want: attest.ErrMalformed, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				raw := f.signBundle(t, f.r2)
				f.pushBundleRaw(t, f.r2, raw[:len(raw)/2], attest.PredicateSign)
				return "prod"
			}},
		{name: "wrong payloadType", unsigned: true, want: attest.ErrUnknownFormat, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				payload := f.signPayload(t, f.r2)
				f.pushBundle(t, f.r2, f.envelope(t, "application/json", payload, true), attest.PredicateSign)
				return "prod"
			}},
		{name: "empty signature list", unsigned: true, want: release.ErrNotSigned, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				payload := f.signPayload(t, f.r2)
				f.pushBundle(t, f.r2, f.envelope(t, attest.PayloadType, payload, false), attest.PredicateSign)
				return "prod"
			}},
		{name: "unknown bundle version", unsigned: true, want: attest.ErrUnknownFormat, cosign: "reject",
			do: func(t *testing.T, f *fixture) string {
				raw := f.signBundle(t, f.r2)
				var b map[string]any
				require.NoError(t, json.Unmarshal(raw, &b))
				b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.9+json"
				raw, err := json.Marshal(b)
				require.NoError(t, err)
				f.pushBundleRaw(t, f.r2, raw, attest.PredicateSign)
				return "prod"
			}},
		{name: "missing signature", unsigned: true, want: release.ErrNotSigned, cosign: "reject",
			do: func(t *testing.T, f *fixture) string { return "prod" }},
		{name: "missing provenance", sign2: &release.SignOptions{SkipProvenance: true}, want: release.ErrMissingAttestation, cosign: "reject-attestation",
			do: func(t *testing.T, f *fixture) string { return "prod" }},
		{name: "re-pointed ledger tag", want: release.ErrNotHead, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				require.NoError(t, f.dst.Tag(t.Context(), f.r1.Descriptor(), "prod"))
				return "prod"
			}},
		{name: "history link rewritten", want: release.ErrBrokenChain, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				// prod-v1 now names another signed release than the one v2 follows.
				other, err := release.New(t.Context(), f.dst, f.b1, newConfig(t, "shop", "prod", "warn"), release.Options{Created: at(9), Signer: f.key})
				require.NoError(t, err)
				require.NoError(t, f.dst.Tag(t.Context(), other.Descriptor(), "prod-v1"))
				return "prod-v2"
			}},
		{name: "older release replayed on a newer tag", want: release.ErrTagMismatch, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				require.NoError(t, f.dst.Tag(t.Context(), f.r1.Descriptor(), "prod-v2"))
				return "prod-v2"
			}},
		{name: "release off the ledger", want: release.ErrNotOnLedger, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				require.NoError(t, f.dst.Tag(t.Context(), f.r1.Descriptor(), "prod-v2"))
				return f.r2.Digest().String()
			}},
		{name: "lying summary, re-signed", evidence: true, want: release.ErrSummaryMismatch, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				// The signer's own record hides the critical finding that the
				// attested scan holds: counts and findings agree with each
				// other, not with the evidence.
				m, rec := manifestAndRecord(t, f, f.r2)
				rec = hideCritical(t, rec)
				ref := f.repush(t, m, rec, "prod", "prod-v2")
				f.signAll(t, ref)
				return ref
			}},
		{name: "evidence not attested", evidence: true, unsigned: true, want: release.ErrMissingAttestation, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				ctx := t.Context()
				require.NoError(t, attest.Sign(ctx, f.dst, f.r2.Descriptor(), f.key, attest.SignOptions{}))
				_, err := attest.Attest(ctx, f.dst, f.r2.Descriptor(), attest.PredicateSLSAProvenance, release.Provenance(f.r2), f.key, attest.SignOptions{})
				require.NoError(t, err)
				return "prod"
			}},
		{name: "revocation naming another release, signed", want: release.ErrSubjectMismatch, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				// A statement about v2 whose predicate revokes v1: the
				// trusted key said something about v2, so it is refused
				// rather than ignored.
				rev := &release.Revocation{Release: subject(f.r1), Reason: "v1 leaks credentials", Time: at(3)}
				_, err := attest.Attest(t.Context(), f.dst, f.r2.Descriptor(), release.PredicateRevocation, rev, f.key, attest.SignOptions{})
				require.NoError(t, err)
				return "prod"
			}},
		{name: "unknown major version", unsigned: true, want: release.ErrUnknownVersion, cosign: "accept",
			do: func(t *testing.T, f *fixture) string {
				m, rec := manifestAndRecord(t, f, f.r2)
				m.ArtifactType = "application/vnd.slipway.release.v2+json"
				m.Config.MediaType = m.ArtifactType
				ref := f.repush(t, m, rec, "prod", "prod-v2")
				desc, err := f.dst.Resolve(t.Context(), ref)
				require.NoError(t, err)
				require.NoError(t, attest.Sign(t.Context(), f.dst, desc, f.key, attest.SignOptions{}))
				_, err = attest.Attest(t.Context(), f.dst, desc, attest.PredicateSLSAProvenance, nil, f.key, attest.SignOptions{})
				require.NoError(t, err)
				return ref
			}},
	}
}

func TestVerifyTamper(t *testing.T) {
	rows := tampers()
	require.GreaterOrEqual(t, len(rows), 15)
	kinds := []struct {
		name string
		open func(t *testing.T, repo string) (graphTarget, string)
	}{
		{"layout", func(t *testing.T, _ string) (graphTarget, string) {
			dir := t.TempDir()
			l, err := build.OpenLayout(t.Context(), dir)
			require.NoError(t, err)
			return l, dir
		}},
	}
	for _, reg := range registrytest.All(t) {
		kinds = append(kinds, struct {
			name string
			open func(t *testing.T, repo string) (graphTarget, string)
		}{reg.Name, func(t *testing.T, repo string) (graphTarget, string) { return reg.Repository(t, repo), "" }})
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for i, row := range rows {
				if row.layoutOnly && k.name != "layout" {
					continue
				}
				t.Run(row.name, func(t *testing.T) {
					dst, dir := k.open(t, fmt.Sprintf("acme/tamper%d", i))
					f := newFixture(t, dst, dir, row)
					ref := row.do(t, f)
					_, err := release.Verify(t.Context(), f.dst, ref, []signature.Verifier{f.key}, release.VerifyOptions{})
					require.Error(t, err)
					assert.ErrorIs(t, err, row.want)
					var ve *release.VerifyError
					assert.ErrorAs(t, err, &ve)
				})
			}
		})
	}
}

func newFixture(t *testing.T, dst graphTarget, dir string, row tamper) *fixture {
	ctx := t.Context()
	f := &fixture{dst: dst, key: newKey(t), layout: dir}
	f.b1 = newBuild(t, dst, "shop", "v1")
	f.b2 = newBuild(t, dst, "shop", "v2")
	if row.evidence {
		f.b2 = newEvidenceBuild(t, dst, "shop", "v2")
	}
	var err error
	f.r1, err = release.New(ctx, dst, f.b1, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: f.key})
	require.NoError(t, err)
	opts := release.Options{Created: at(2), Signer: f.key}
	if row.sign2 != nil {
		opts.Sign = *row.sign2
	}
	if row.unsigned {
		opts.Signer = nil
	}
	f.r2, err = release.New(ctx, dst, f.b2, newConfig(t, "shop", "prod", "debug"), opts)
	require.NoError(t, err)
	// The untampered ledger verifies, unless v2 was left unsigned.
	_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{f.key}, release.VerifyOptions{Require: []string{}})
	if row.unsigned {
		require.ErrorIs(t, err, release.ErrNotSigned)
	} else {
		require.NoError(t, err)
	}
	return f
}

func manifestAndRecord(t *testing.T, f *fixture, r *release.Release) (ocispec.Manifest, []byte) {
	var m ocispec.Manifest
	require.NoError(t, json.Unmarshal(r.Manifest(), &m))
	rec, _ := r.Record()
	return m, rec
}

// repush stores a changed record and manifest and points tags at them.
func (f *fixture) repush(t *testing.T, m ocispec.Manifest, recRaw []byte, tags ...string) string {
	ctx := t.Context()
	m.Config.Digest, m.Config.Size = digest.FromBytes(recRaw), int64(len(recRaw))
	if ok, _ := f.dst.Exists(ctx, m.Config); !ok {
		require.NoError(t, f.dst.Push(ctx, m.Config, bytesReader(recRaw)))
	}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	require.NoError(t, f.dst.Push(ctx, desc, bytesReader(raw)))
	for _, tag := range tags {
		require.NoError(t, f.dst.Tag(ctx, desc, tag))
	}
	return tags[0]
}

// signAll signs the release ref names with the trusted key as release.Sign
// would: a signature, each piece of its build's evidence, and provenance.
func (f *fixture) signAll(t *testing.T, ref string) {
	ctx := t.Context()
	desc, err := f.dst.Resolve(ctx, ref)
	require.NoError(t, err)
	require.NoError(t, attest.Sign(ctx, f.dst, desc, f.key, attest.SignOptions{}))
	for _, e := range f.b2.Evidence() {
		data, err := content.FetchAll(ctx, f.dst, e.Descriptor)
		require.NoError(t, err)
		_, err = attest.Attest(ctx, f.dst, desc, e.PredicateType, json.RawMessage(data), f.key, attest.SignOptions{})
		require.NoError(t, err)
	}
	_, err = attest.Attest(ctx, f.dst, desc, attest.PredicateSLSAProvenance, release.Provenance(f.r2), f.key, attest.SignOptions{})
	require.NoError(t, err)
}

// overwrite replaces the bytes of blob d in the layout.
func (f *fixture) overwrite(t *testing.T, d digest.Digest, data []byte) {
	require.NotEmpty(t, f.layout)
	p := filepath.Join(f.layout, "blobs", string(d.Algorithm()), d.Encoded())
	require.FileExists(t, p)
	require.NoError(t, os.Chmod(p, 0o644))
	require.NoError(t, os.WriteFile(p, data, 0o644))
}

// signPayload returns the payload of a valid sign/v1 statement about r.
func (f *fixture) signPayload(t *testing.T, r *release.Release) []byte {
	st, err := attest.NewStatement("shop", r.Digest(), attest.PredicateSign, nil)
	require.NoError(t, err)
	payload, err := st.Bytes()
	require.NoError(t, err)
	return payload
}

// envelope signs payload as payloadType with the trusted key, keeping the
// signature only if keep.
func (f *fixture) envelope(t *testing.T, payloadType string, payload []byte, keep bool) *attest.Envelope {
	env, err := attest.SignEnvelope(t.Context(), f.key, payloadType, payload)
	require.NoError(t, err)
	if !keep {
		env.Signatures = nil
	}
	return env
}

// signBundle returns the JSON of a valid sign/v1 bundle about r.
func (f *fixture) signBundle(t *testing.T, r *release.Release) []byte {
	raw, err := json.Marshal(&attest.Bundle{Envelope: f.envelope(t, attest.PayloadType, f.signPayload(t, r), true)})
	require.NoError(t, err)
	return raw
}

func (f *fixture) pushBundle(t *testing.T, r *release.Release, env *attest.Envelope, predicateType string) {
	raw, err := json.Marshal(&attest.Bundle{Envelope: env})
	require.NoError(t, err)
	f.pushBundleRaw(t, r, raw, predicateType)
}

// pushBundleRaw stores raw as the layer of a bundle referrer of r.
func (f *fixture) pushBundleRaw(t *testing.T, r *release.Release, raw []byte, predicateType string) {
	ctx := t.Context()
	layer := ocispec.Descriptor{MediaType: attest.BundleMediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	require.NoError(t, f.dst.Push(ctx, layer, bytesReader(raw)))
	if ok, _ := f.dst.Exists(ctx, ocispec.DescriptorEmptyJSON); !ok {
		require.NoError(t, f.dst.Push(ctx, ocispec.DescriptorEmptyJSON, bytesReader(ocispec.DescriptorEmptyJSON.Data)))
	}
	rd := r.Descriptor()
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: attest.BundleMediaType,
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      &ocispec.Descriptor{MediaType: rd.MediaType, Digest: rd.Digest, Size: rd.Size},
		Annotations:  map[string]string{attest.AnnotationBundleContent: "dsse-envelope", attest.AnnotationBundlePredicateType: predicateType},
	}
	mraw, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, f.dst.Push(ctx, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(mraw), Size: int64(len(mraw))}, bytesReader(mraw)))
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
