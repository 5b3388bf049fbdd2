package release_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/cosigntest"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// The real cosign judges slipway's releases, and slipway judges cosign's
// signatures, on every test registry.

// writeKey writes the PEM public key of k to a file for cosign.
func writeKey(t *testing.T, k signature.SignerVerifier) string {
	t.Helper()
	pem, err := attest.PublicKeyPEM(k)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "key.pub")
	require.NoError(t, os.WriteFile(p, pem, 0o644))
	return p
}

// cosignRef is the reference cosign needs for ref (a tag or digest) in
// repository repo of reg.
func cosignRef(reg *registrytest.Registry, repo, ref string) string {
	if digest.Digest(ref).Validate() == nil {
		return reg.Ref(repo) + "@" + ref
	}
	return reg.Ref(repo) + ":" + ref
}

func TestCosignVerifiesSlipwayReleases(t *testing.T) {
	cosign := cosigntest.New(t)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			dst := reg.Repository(t, "acme/shop")
			key, other := newKey(t), newKey(t)
			b := newBuild(t, dst, "shop", "v1")
			r, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			ref := reg.Ref("acme/shop") + "@" + r.Digest().String()

			out, err := cosign.Verify(ctx, ref, writeKey(t, key))
			require.NoError(t, err, out)
			sigs, err := cosigntest.Signatures(out)
			require.NoError(t, err, out)
			require.NotEmpty(t, sigs)
			for _, s := range sigs {
				assert.Equal(t, r.Digest().String(), s.ManifestDigest, "cosign verified a payload about the release")
			}
			out, err = cosign.VerifyAttestation(ctx, ref, writeKey(t, key), "slsaprovenance1")
			require.NoError(t, err, out)
			atts, err := cosigntest.Attestations(out)
			require.NoError(t, err, out)
			require.NotEmpty(t, atts)
			assert.Equal(t, attest.PredicateSLSAProvenance, atts[0].PredicateType)

			out, err = cosign.Verify(ctx, ref, writeKey(t, other))
			assert.Error(t, err, "cosign must reject another key: %s", out)
			out, err = cosign.VerifyAttestation(ctx, ref, writeKey(t, other), "slsaprovenance1")
			assert.Error(t, err, "cosign must reject another key: %s", out)

			// Each form alone is enough for cosign.
			for _, opts := range []release.SignOptions{{SkipBundle: true}, {SkipLegacyTags: true}} {
				r2, err := release.New(ctx, dst, b, newConfig(t, "shop", fmt.Sprintf("env%v", opts.SkipBundle), "info"), release.Options{Created: at(2), Signer: key, Sign: opts})
				require.NoError(t, err)
				ref2 := reg.Ref("acme/shop") + "@" + r2.Digest().String()
				out, err := cosign.Verify(ctx, ref2, writeKey(t, key))
				assert.NoError(t, err, "%+v: %s", opts, out)
				out, err = cosign.VerifyAttestation(ctx, ref2, writeKey(t, key), "slsaprovenance1")
				assert.NoError(t, err, "%+v: %s", opts, out)
			}
		})
	}
	assert.Empty(t, cosign.Egress(), "cosign reached beyond loopback")
}

func TestSlipwayVerifiesCosignSignatures(t *testing.T) {
	cosign := cosigntest.New(t)
	const password = "cosign-test-password"
	keyPath, pubPath := cosign.GenerateKeyPair(t, t.TempDir(), password)
	pub, err := attest.LoadPublicKeyFile(pubPath)
	require.NoError(t, err)
	// slipway signs with the same cosign key file, too.
	signer, err := attest.LoadPrivateKeyFile(keyPath, func() ([]byte, error) { return []byte(password), nil })
	require.NoError(t, err)

	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			for _, form := range []struct {
				name  string
				extra []string
			}{{"bundle", nil}, {"legacy", []string{"--new-bundle-format=false"}}} {
				t.Run(form.name, func(t *testing.T) {
					ctx := t.Context()
					repo := "acme/" + form.name
					dst := reg.Repository(t, repo)
					b := newBuild(t, dst, "shop", "v1")
					r, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
					require.NoError(t, err)
					ref := reg.Ref(repo) + "@" + r.Digest().String()

					_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{pub}, release.VerifyOptions{Require: []string{}})
					require.ErrorIs(t, err, release.ErrNotSigned)

					out, err := cosign.Sign(ctx, ref, keyPath, password, form.extra...)
					require.NoError(t, err, out)
					v, err := release.Verify(ctx, dst, "prod", []signature.Verifier{pub}, release.VerifyOptions{Require: []string{}})
					require.NoError(t, err)
					require.NotEmpty(t, v.Signatures)
					assert.Equal(t, form.name, v.Signatures[0].Form)

					_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{newKey(t)}, release.VerifyOptions{Require: []string{}})
					assert.ErrorIs(t, err, release.ErrUntrustedKey)

					// cosign attest, read by slipway as the required provenance.
					pred := filepath.Join(t.TempDir(), "provenance.json")
					raw, err := json.Marshal(release.Provenance(mustLoad(t, dst)))
					require.NoError(t, err)
					require.NoError(t, os.WriteFile(pred, raw, 0o644))
					_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{pub}, release.VerifyOptions{})
					require.ErrorIs(t, err, release.ErrMissingAttestation)
					out, err = cosign.Attest(ctx, ref, keyPath, password, pred, "slsaprovenance1", form.extra...)
					require.NoError(t, err, out)
					v, err = release.Verify(ctx, dst, "prod", []signature.Verifier{pub}, release.VerifyOptions{})
					require.NoError(t, err)
					require.NotEmpty(t, v.Attestations)
					assert.Equal(t, attest.PredicateSLSAProvenance, v.Attestations[0].Statement.PredicateType)

					// And slipway's signature with the cosign key, which cosign verifies.
					require.NoError(t, release.Sign(ctx, dst, v.Release, signer, release.SignOptions{}))
					out, err = cosign.Verify(ctx, ref, pubPath)
					assert.NoError(t, err, out)
				})
			}
		})
	}
}

// TestCosignTamperVerdicts runs the real cosign on every tamper kind a
// registry allows: where cosign can judge, its verdict matches slipway's.
func TestCosignTamperVerdicts(t *testing.T) {
	cosign := cosigntest.New(t)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			for i, row := range tampers() {
				if row.cosign == "" {
					continue
				}
				t.Run(row.name, func(t *testing.T) {
					repo := fmt.Sprintf("acme/cosign%d", i)
					f := newFixture(t, reg.Repository(t, repo), "", row)
					pub := writeKey(t, f.key)
					ref := row.do(t, f)
					_, err := release.Verify(t.Context(), f.dst, ref, []signature.Verifier{f.key}, release.VerifyOptions{})
					require.ErrorIs(t, err, row.want, "slipway rejects")

					cref := cosignRef(reg, repo, ref)
					vout, verr := cosign.Verify(t.Context(), cref, pub)
					aout, aerr := cosign.VerifyAttestation(t.Context(), cref, pub, "slsaprovenance1")
					switch row.cosign {
					case "reject":
						assert.Error(t, verr, "cosign verify accepted what slipway rejects: %s", vout)
					case "reject-attestation":
						assert.NoError(t, verr, vout)
						assert.Error(t, aerr, "cosign verify-attestation accepted what slipway rejects: %s", aout)
					case "accept":
						assert.NoError(t, verr, "a check cosign does not make: %s", vout)
						assert.NoError(t, aerr, "a check cosign does not make: %s", aout)
					default:
						t.Fatalf("row %q: cosign verdict %q", row.name, row.cosign)
					}
				})
			}
		})
	}
	assert.Empty(t, cosign.Egress(), "cosign reached beyond loopback")
}

func mustLoad(t *testing.T, dst graphTarget) *release.Release {
	t.Helper()
	r, err := release.Load(t.Context(), dst, "prod")
	require.NoError(t, err)
	return r
}

// cosignReads runs cosign verify-attestation --type predicateType on ref:
// it must accept the attestations signed with signer, each of that type,
// and refuse the key other, which signed none. It returns the predicates
// cosign read.
func cosignReads(t *testing.T, cosign *cosigntest.Cosign, ref string, signer, other signature.SignerVerifier, predicateType string) [][]byte {
	t.Helper()
	out, err := cosign.VerifyAttestation(t.Context(), ref, writeKey(t, signer), predicateType)
	require.NoError(t, err, out)
	atts, err := cosigntest.Attestations(out)
	require.NoError(t, err, out)
	require.NotEmpty(t, atts)
	var preds [][]byte
	for _, a := range atts {
		assert.Equal(t, predicateType, a.PredicateType)
		preds = append(preds, a.Predicate)
	}
	out, err = cosign.VerifyAttestation(t.Context(), ref, writeKey(t, other), predicateType)
	assert.Error(t, err, "cosign must refuse a key that signed no %s: %s", predicateType, out)
	return preds
}

// TestCosignVerifiesDecisions: cosign verify-attestation reads a recorded
// decision with the decision key, as a deploy tool without slipway would
// check it, and refuses another key.
func TestCosignVerifiesDecisions(t *testing.T) {
	cosign := cosigntest.New(t)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			dst := reg.Repository(t, "acme/shop")
			key, gate := newKey(t), newKey(t)
			r, err := release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			v, err := release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{Policy: mustPolicy(t, `{"maxOpen":{"critical":0}}`), Now: at(2)})
			require.ErrorIs(t, err, release.ErrNoGo)
			_, err = release.RecordDecision(ctx, dst, r, v.Decision, gate, release.DecisionOptions{DecidedBy: "gate@example.com"})
			require.NoError(t, err)

			ref := reg.Ref("acme/shop") + "@" + r.Digest().String()
			for _, p := range cosignReads(t, cosign, ref, gate, key, release.PredicateDecision) {
				var d release.Decision
				require.NoError(t, json.Unmarshal(p, &d))
				assert.Equal(t, release.VerdictNoGo, d.Verdict)
				assert.Equal(t, r.Digest(), d.Release.Digest)
				assert.Equal(t, "gate@example.com", d.DecidedBy)
			}
		})
	}
	assert.Empty(t, cosign.Egress(), "cosign reached beyond loopback")
}

// TestCosignVerifiesRevocations: cosign verify-attestation reads a
// revocation with the key that signed it, as a deploy tool without
// slipway would check it, and refuses another key.
func TestCosignVerifiesRevocations(t *testing.T) {
	cosign := cosigntest.New(t)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			dst := reg.Repository(t, "acme/shop")
			key, other := newKey(t), newKey(t)
			r, err := release.New(ctx, dst, newBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			_, err = release.Revoke(ctx, dst, r, key, release.RevokeOptions{Reason: revokeReason, RevokedBy: "security@example.com", Time: at(2)})
			require.NoError(t, err)

			ref := reg.Ref("acme/shop") + "@" + r.Digest().String()
			for _, p := range cosignReads(t, cosign, ref, key, other, release.PredicateRevocation) {
				rev, err := release.ParseRevocation(p)
				require.NoError(t, err, "what cosign read is a revocation slipway reads")
				assert.Equal(t, subject(r), rev.Release)
				assert.Equal(t, revokeReason, rev.Reason)
				assert.Equal(t, "security@example.com", rev.RevokedBy)
				assert.True(t, at(2).Equal(rev.Time))
			}
		})
	}
	assert.Empty(t, cosign.Egress(), "cosign reached beyond loopback")
}

// TestCosignVerifiesAuditRecords: cosign verify-attestation reads the
// audit record of an admin run with the runner's key.
func TestCosignVerifiesAuditRecords(t *testing.T) {
	cosign := cosigntest.New(t)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			dst := reg.Repository(t, "acme/shop")
			key, ops := newKey(t), newKey(t)
			r := runApp(t, dst, key, appConfig)
			o, err := release.Open(ctx, dst, "prod", t.TempDir(), []signature.Verifier{key}, release.OpenOptions{Resolver: resolverOf(newSecret())})
			require.NoError(t, err)
			_, err = release.Admin(ctx, dst, o, "migrate", []string{"--to", "42"}, ops, release.AdminOptions{Operator: "alice"})
			require.NoError(t, err)

			ref := reg.Ref("acme/shop") + "@" + r.Digest().String()
			for _, p := range cosignReads(t, cosign, ref, ops, key, release.PredicateAdminRun) {
				rec, err := release.ParseAuditRecord(p)
				require.NoError(t, err)
				assert.Equal(t, "alice", rec.Operator)
				assert.Equal(t, []string{"--to", "42"}, rec.Args)
			}
		})
	}
	assert.Empty(t, cosign.Egress(), "cosign reached beyond loopback")
}
