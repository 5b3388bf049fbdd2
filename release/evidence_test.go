package release_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/cosigntest"
	"github.com/slipway-dev/slipway/internal/gobintest"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

func TestReleaseCarriesEvidence(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key := newKey(t)
			b := newEvidenceBuild(t, dst, "shop", "v1")
			r, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)

			sum := r.Summary()
			require.NotNil(t, sum.SBOM)
			assert.Equal(t, attest.PredicateCycloneDX, sum.SBOM.PredicateType)
			assert.Equal(t, 3, sum.SBOM.Components)
			require.NotNil(t, sum.Vulnerabilities)
			v := sum.Vulnerabilities
			assert.Equal(t, attest.Counts{Critical: 1, Medium: 1}, v.Open)
			require.Len(t, v.Findings, 2)
			assert.Equal(t, "CVE-2026-1111", v.Findings[0].ID, "the VEX statement about another product does not apply")
			assert.Equal(t, "CVE-2026-3333", v.Findings[1].ID)
			require.Len(t, v.Suppressed, 1)
			assert.Equal(t, "CVE-2026-2222", v.Suppressed[0].ID)
			assert.Equal(t, "not_affected", v.Suppressed[0].Status)
			assert.Equal(t, "vulnerable_code_not_in_execute_path", v.Suppressed[0].Justification)
			assert.Equal(t, "security@example.com", v.Suppressed[0].Author)
			require.Len(t, v.Scans, 1)
			assert.Equal(t, "trivy", v.Scans[0].Scanner.Name)
			assert.Equal(t, "2026-01-01T00:30:00Z", v.Scans[0].Time, "the time the report states")
			assert.Len(t, sum.Evidence, 3)
			assert.Equal(t, &attest.ProvenanceSummary{Builder: release.DefaultBuilderID, Source: "https://example.com/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567"}, sum.Provenance)
			assert.Equal(t, b.Summary().Evidence, sum.Evidence)

			got, err := release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{})
			require.NoError(t, err)
			var types []string
			for _, a := range got.Attestations {
				types = append(types, a.Statement.PredicateType)
			}
			for _, want := range []string{attest.PredicateCycloneDX, attest.PredicateVuln, attest.PredicateOpenVEX, attest.PredicateSLSAProvenance} {
				assert.Equal(t, 2, countOf(types, want), "%s as a bundle and in the legacy tag", want)
			}
			prov := release.Provenance(r)
			require.Len(t, prov.RunDetails.Byproducts, 1)
			assert.Equal(t, "sbom", prov.RunDetails.Byproducts[0].Name)
			assert.Equal(t, sum.SBOM.Digest, "sha256:"+prov.RunDetails.Byproducts[0].Digest["sha256"])

			// A later scan attested about the release is not part of its
			// summary and does not fail it.
			_, err = attest.Attest(ctx, dst, r.Descriptor(), attest.PredicateVuln, json.RawMessage(`{"scanner":{"uri":"pkg:github/aquasecurity/trivy@0.60.0","version":"0.60.0","result":{"SchemaVersion":2,"Results":[]}},"metadata":{"scanStartedOn":"2026-02-01T00:00:00Z","scanFinishedOn":"2026-02-01T00:00:00Z"}}`), key, attest.SignOptions{})
			require.NoError(t, err)
			_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{})
			assert.NoError(t, err)
		})
	}
}

func countOf(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}

func TestEvidenceIsDeterministic(t *testing.T) {
	var digests []string
	for range 2 {
		dst := memory.New()
		b := newEvidenceBuild(t, dst, "shop", "v1")
		r, err := release.New(t.Context(), dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
		require.NoError(t, err)
		digests = append(digests, b.Digest().String()+" "+r.Digest().String())
	}
	assert.Equal(t, digests[0], digests[1])
}

// TestProvenanceOfAGoBuild releases a build holding a real Go binary, the
// test binary itself: its SBOM is generated, and the provenance names
// every module it was built with.
func TestProvenanceOfAGoBuild(t *testing.T) {
	exe, _ := gobintest.Build(t)
	ctx := t.Context()
	dst := memory.New()
	b, err := build.New(ctx, dst, "shop", build.Spec{
		Files:      []build.File{{Name: "bin/shop", Path: exe, Mode: 0o755}},
		Builder:    "https://ci.example.com/acme/shop/runner/7",
		Invocation: "https://ci.example.com/acme/shop/jobs/99",
		Created:    created,
	}, build.Options{})
	require.NoError(t, err)
	ev := b.Evidence()
	require.Len(t, ev, 1)
	assert.Equal(t, "generated", ev[0].Source)
	r, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
	require.NoError(t, err)
	assert.Equal(t, 4, r.Summary().SBOM.Components)
	assert.Equal(t, "https://ci.example.com/acme/shop/runner/7", r.Summary().Provenance.Builder)

	p := release.Provenance(r)
	assert.Equal(t, "https://ci.example.com/acme/shop/runner/7", p.RunDetails.Builder.ID)
	assert.Equal(t, "https://ci.example.com/acme/shop/jobs/99", p.RunDetails.Metadata.InvocationID)
	var testify *attest.ResourceDescriptor
	for i, d := range p.BuildDefinition.ResolvedDependencies {
		if strings.HasPrefix(d.URI, "pkg:golang/github.com/stretchr/testify@") {
			testify = &p.BuildDefinition.ResolvedDependencies[i]
		}
	}
	require.NotNil(t, testify, "testify is a module of the test binary")
	assert.Len(t, testify.Digest["dirHash"], 64, "the go.sum hash as hex")
	uris := make([]string, 0, len(p.BuildDefinition.ResolvedDependencies))
	for _, d := range p.BuildDefinition.ResolvedDependencies {
		if strings.HasPrefix(d.URI, "pkg:") {
			uris = append(uris, d.URI)
		}
	}
	assert.True(t, slices.IsSorted(uris))
	assert.Equal(t, r.Summary().SBOM.Digest, "sha256:"+p.RunDetails.Byproducts[0].Digest["sha256"])
}

// TestCosignVerifiesEvidence: cosign verify-attestation accepts the SBOM,
// the scan and the provenance of a release, on every test registry.
func TestCosignVerifiesEvidence(t *testing.T) {
	cosign := cosigntest.New(t)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			dst := reg.Repository(t, "acme/evidence")
			key, other := newKey(t), newKey(t)
			b := newEvidenceBuild(t, dst, "shop", "v1")
			r, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			ref := reg.Ref("acme/evidence") + "@" + r.Digest().String()
			for typ, predicateType := range map[string]string{
				"cyclonedx":       attest.PredicateCycloneDX,
				"vuln":            attest.PredicateVuln,
				"slsaprovenance1": attest.PredicateSLSAProvenance,
				// cosign's --type openvex means https://openvex.dev/ns; slipway
				// writes the versioned type, which cosign takes as a URI
				attest.PredicateOpenVEX: attest.PredicateOpenVEX,
			} {
				out, err := cosign.VerifyAttestation(ctx, ref, writeKey(t, key), typ)
				require.NoError(t, err, "%s: %s", typ, out)
				atts, err := cosigntest.Attestations(out)
				require.NoError(t, err, out)
				require.NotEmpty(t, atts, typ)
				for _, a := range atts {
					assert.Equal(t, predicateType, a.PredicateType, typ)
				}
				out, err = cosign.VerifyAttestation(ctx, ref, writeKey(t, other), typ)
				assert.Error(t, err, "%s: cosign must reject another key: %s", typ, out)
			}

			// An SPDX SBOM given to the build: cosign's --type spdxjson.
			spdx, err := build.New(ctx, dst, "shop", build.Spec{
				Files:   []build.File{{Name: "bin/server", Reader: strings.NewReader("v2"), Mode: 0o755}},
				Created: created,
				SBOM:    "../attest/testdata/sbom/spdx-2.3.json",
			}, build.Options{})
			require.NoError(t, err)
			r2, err := release.New(ctx, dst, spdx, newConfig(t, "shop", "prod", "debug"), release.Options{Created: at(2), Signer: key})
			require.NoError(t, err)
			assert.Equal(t, attest.PredicateSPDX, r2.Summary().SBOM.PredicateType)
			out, err := cosign.VerifyAttestation(ctx, reg.Ref("acme/evidence")+"@"+r2.Digest().String(), writeKey(t, key), "spdxjson")
			require.NoError(t, err, out)
			atts, err := cosigntest.Attestations(out)
			require.NoError(t, err, out)
			require.NotEmpty(t, atts)
			assert.Equal(t, attest.PredicateSPDX, atts[0].PredicateType)
		})
	}
	assert.Empty(t, cosign.Egress(), "cosign reached beyond loopback")
}

// TestNewRefusesALyingBuild: a build whose record hides a finding its
// evidence holds is not released, so no signer signs its summary.
func TestNewRefusesALyingBuild(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	b := newEvidenceBuild(t, dst, "shop", "v1")
	rec, recDesc := b.Record()
	lie := hideCritical(t, rec)

	var m ocispec.Manifest
	require.NoError(t, json.Unmarshal(b.Manifest(), &m))
	m.Config = ocispec.Descriptor{MediaType: recDesc.MediaType, Digest: digest.FromBytes(lie), Size: int64(len(lie))}
	require.NoError(t, dst.Push(ctx, m.Config, bytes.NewReader(lie)))
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	require.NoError(t, dst.Push(ctx, desc, bytes.NewReader(raw)))
	require.NoError(t, dst.Tag(ctx, desc, "lying"))
	lying, err := build.Load(ctx, dst, "lying")
	require.NoError(t, err, "the record is well formed; only its evidence tells the lie")
	assert.Equal(t, 0, lying.Summary().Vulnerabilities.Open.Critical)

	_, err = release.New(ctx, dst, lying, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: newKey(t)})
	assert.ErrorIs(t, err, release.ErrSummaryMismatch)
	assert.ErrorContains(t, err, "open critical vulnerabilities: the record says 0, the evidence 1")
	_, err = dst.Resolve(ctx, "prod")
	assert.ErrorIs(t, err, errdef.ErrNotFound, "nothing is on the ledger")
}
