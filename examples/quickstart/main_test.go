package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/release"
)

func TestQuickstart(t *testing.T) {
	layout := filepath.Join(t.TempDir(), "slipway-demo")
	var first, second bytes.Buffer
	require.NoError(t, run(t.Context(), layout, &first))
	require.NoError(t, run(t.Context(), layout, &second))

	lines := strings.Split(strings.TrimSpace(first.String()), "\n")
	last := lines[len(lines)-1]
	assert.True(t, strings.HasPrefix(last, layout+"@sha256:"), last)
	assert.Equal(t, first.String(), second.String(), "a second run starts afresh and makes the same build and releases")

	store, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	b, err := build.Load(t.Context(), store, "build")
	require.NoError(t, err)
	assert.Equal(t, "example.invalid/shop", b.Module())
	p, ok := b.Process("migrate")
	require.True(t, ok)
	assert.True(t, p.Admin)
	assert.Contains(t, first.String(), "admin one-off migrate: bin/shop migrate")

	// The ledger of prod: two releases of the build, not four.
	entries, err := release.History(t.Context(), store, "prod", release.HistoryOptions{})
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, layout+"@"+entries[0].Descriptor.Digest.String(), last)
	head, err := release.Load(t.Context(), store, "prod")
	require.NoError(t, err)
	assert.Equal(t, 2, head.Version())
	assert.Equal(t, b.Digest(), head.Build().Digest())
	assert.Equal(t, "debug", head.Config().Env()["LOG_LEVEL"])
	assert.Equal(t, map[string]string{"DB_PASSWORD": "env://SHOP_DB_PASSWORD"}, head.Config().Secrets())
	assert.Equal(t, secondRelease, head.Created())
	for _, e := range entries {
		assert.Contains(t, first.String(), fmt.Sprintf("   v%d  %.19s…  build %.19s…", e.Version, e.Descriptor.Digest, b.Digest()))
	}
	assert.Contains(t, first.String(), `"DB_PASSWORD": plaintext secret (rule name-password)`)
	assert.Contains(t, first.String(), "   v2 changes   ~ LOG_LEVEL: info -> debug\n")
	assert.NotContains(t, first.String(), "correct-horse-battery-staple")

	// Signed with the key it made, and verified with the public key.
	info, err := os.Stat(filepath.Join(layout, "keys", "slipway.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	pub, err := attest.LoadPublicKeyFile(filepath.Join(layout, "keys", "slipway.pub"))
	require.NoError(t, err)
	v, err := release.Verify(t.Context(), store, "prod", []signature.Verifier{pub}, release.VerifyOptions{})
	require.NoError(t, err)
	assert.Equal(t, head.Digest(), v.Release.Digest())
	assert.Contains(t, first.String(), "9. verified prod with the public key: v2, 2 signatures, 8 attestations")
	for _, typ := range []string{attest.PredicateCycloneDX, attest.PredicateVuln, attest.PredicateOpenVEX, attest.PredicateSLSAProvenance} {
		assert.Contains(t, first.String(), "   attestation   "+typ+"\n")
	}
	sum := head.Summary()
	require.NotNil(t, sum.SBOM)
	assert.Equal(t, 2, sum.SBOM.Components, "the demo module and the standard library")
	require.NotNil(t, sum.Vulnerabilities)
	assert.Equal(t, attest.Counts{Critical: 1}, sum.Vulnerabilities.Open)
	require.Len(t, sum.Vulnerabilities.Suppressed, 1)
	assert.Equal(t, "CVE-2026-0002", sum.Vulnerabilities.Suppressed[0].ID)
	assert.Contains(t, first.String(), "   suppressed    CVE-2026-0002 medium by VEX: not_affected (vulnerable_code_not_in_execute_path), says security@example.invalid\n")
	assert.Contains(t, first.String(), "verification fails: untrusted key\n")

	// Go / no-go: no-go for the critical finding, go after the VEX
	// statement attested about the release, and the go recorded.
	assert.Contains(t, first.String(), "): no-go\n    block maxOpen: 1 open critical vulnerability, at most 0 allowed: CVE-2026-0001\n")
	assert.Contains(t, first.String(), "    judged again: go; open critical 0, high 0, medium 0; 2 suppressed by VEX\n")
	pol, err := release.ReadPolicyFile(filepath.Join(layout, "policy.json"))
	require.NoError(t, err)
	v, err = release.Verify(t.Context(), store, "prod", []signature.Verifier{pub}, release.VerifyOptions{Policy: pol, DecisionKeys: []signature.Verifier{pub}})
	require.NoError(t, err)
	assert.True(t, v.Decision.Go())
	assert.True(t, v.Recorded.Go())
	assert.Equal(t, "quickstart", v.Recorded.DecidedBy)
	assert.Equal(t, 1, head.Summary().Vulnerabilities.Open.Critical, "the signed summary is unchanged")
	assert.Equal(t, 0, v.Summary.Vulnerabilities.Open.Critical)
	_, err = release.Verify(t.Context(), store, "prod-v1", []signature.Verifier{pub}, release.VerifyOptions{Policy: pol})
	assert.ErrorIs(t, err, release.ErrNoGo, "the VEX statement is about v2 only")

	// The run stage: the migration ran as an admin one-off, recorded.
	assert.Contains(t, first.String(), "12. opened prod v2 into a fresh directory: 3 files checked against their digests; environment DB_PASSWORD=[redacted] LOG_LEVEL=debug PORT=8080\n")
	assert.Contains(t, first.String(), `    ran the admin one-off migrate (bin/shop migrate): exit 0, it said "migrating the shop database"`+"\n")
	assert.NotContains(t, first.String(), "demo-only-value", "the resolved secret is never printed")
	audits, err := release.Audits(t.Context(), store, head, []signature.Verifier{pub})
	require.NoError(t, err)
	require.Len(t, audits, 1)
	assert.Equal(t, "migrate", audits[0].Process)
	assert.Equal(t, 0, audits[0].ExitCode)
	assert.Equal(t, pol.Digest(), audits[0].Policy)
	assert.Contains(t, first.String(), `"operator": "ops@example.invalid"`)
	priv, err := os.ReadFile(filepath.Join(layout, "keys", "slipway.key"))
	require.NoError(t, err)
	assert.NotContains(t, first.String(), string(priv[28:60]), "no private key bytes in the output")
}

// TestQuickstartKeepsOtherDirectories: the directory the demo would
// replace must be an OCI image layout.
func TestQuickstartKeepsOtherDirectories(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(keep, []byte("mine\n"), 0o644))
	var out bytes.Buffer
	err := run(t.Context(), dir, &out)
	assert.ErrorContains(t, err, "not an OCI image layout")
	assert.Empty(t, out.String())
	assert.FileExists(t, keep)
}
