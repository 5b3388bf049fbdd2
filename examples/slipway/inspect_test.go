package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/release"
)

// inspectOutput is the JSON object of slipway inspect --json.
type inspectOutput struct {
	App         string         `json:"app"`
	Environment string         `json:"environment"`
	Version     int            `json:"version"`
	Digest      string         `json:"digest"`
	Reference   string         `json:"reference"`
	Build       string         `json:"build"`
	Summary     attest.Summary `json:"summary"`
}

// TestInspect releases the build with the evidence of release/testdata,
// signed, and reads it back with inspect, its tables and its JSON, and
// with verify.
func TestInspect(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	const rev = "0123456789abcdef0123456789abcdef01234567"
	const secretLike = "correct-horse-battery"
	ev := copyEvidence(t)
	sbomData, err := os.ReadFile(ev.sbom)
	require.NoError(t, err)
	sbomNorm, err := attest.NormalizeJSON(sbomData)
	require.NoError(t, err)
	sbomDigest := digest.FromBytes(sbomNorm)
	keys := filepath.Join(t.TempDir(), "keys")
	var keyID string
	for _, l := range lines(mustRun(t, "keygen", "--out", keys)) {
		if id, ok := strings.CutPrefix(l, "Key ID: "); ok {
			keyID = id
		}
	}
	require.NotEmpty(t, keyID)
	dir := appTree(t)

	for _, p := range evidencePlaces(t) {
		t.Run(p.name, func(t *testing.T) {
			args := append([]string{"build", p.flag, "--dir", dir, "--app", "shop", "--source", "https://github.com/acme/shop", "--revision", rev,
				"--builder", "https://ci.example/jobs/42"}, ev.args()...)
			buildRef := lastLine(t, mustRun(t, append(args, p.repo+":v1")...))
			r1 := lastLine(t, mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", prodConfig(t, "info"), p.repo))
			// Version 2 admits a plain variable that looks like a secret:
			// a config finding, named but never shown.
			cfg := writeConfig(t, "prod", map[string]string{"PORT": "8080", "SESSION_SECRET": secretLike}, nil)
			r2 := lastLine(t, mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", cfg,
				"--allow-plaintext", "SESSION_SECRET", p.repo))

			head := func(release, ref string, findings int) string {
				return fmt.Sprintf(`Release:          shop %s
Reference:        %s
Build:            %s
Builder:          https://ci.example/jobs/42
Source:           https://github.com/acme/shop %s
SBOM:             CycloneDX, 3 components, %s (from sbom.cdx.json)
Scans:            trivy, 2026-01-01T00:30:00Z
Open:             critical 1, high 0, medium 1, low 0, unknown 0
Suppressed:       1 by VEX
Build policy:     none applied
Config findings:  %d
`, release, ref, refDigest(t, buildRef), rev, sbomDigest, findings)
			}
			const tables = `
OPEN           SEVERITY  PACKAGE                               INSTALLED  FIXED
CVE-2026-1111  critical  pkg:golang/golang.org/x/net@v0.30.0   v0.30.0    0.31.0
CVE-2026-3333  medium    pkg:golang/golang.org/x/text@v0.19.0  v0.19.0    -

SUPPRESSED     SEVERITY  PACKAGE                               STATUS        JUSTIFICATION                        AUTHOR
CVE-2026-2222  high      pkg:golang/golang.org/x/text@v0.19.0  not_affected  vulnerable_code_not_in_execute_path  security@example.com
`
			out := mustRun(t, "inspect", p.flag, p.repo+":prod-v1")
			assert.Equal(t, head("prod-v1 (version 1)", r1, 0)+tables, out)
			out = mustRun(t, "inspect", p.flag, r1)
			assert.Equal(t, head("prod-v1 (version 1)", r1, 0)+tables, out, "by digest")
			out = mustRun(t, "inspect", p.flag, p.repo+":prod")
			assert.Equal(t, head("prod-v2 (version 2)", r2, 1)+tables+`
CONFIG VARIABLE  RULE
SESSION_SECRET   name-secret
`, out)
			assert.NotContains(t, out, secretLike)

			// --json: the summary as the release record holds it.
			out = mustRun(t, "inspect", p.flag, "--json", p.repo+":prod")
			var fields map[string]json.RawMessage
			require.NoError(t, json.Unmarshal([]byte(out), &fields))
			assert.ElementsMatch(t, []string{"app", "environment", "version", "digest", "reference", "build", "summary"}, slices.Collect(maps.Keys(fields)))
			var got inspectOutput
			dec := json.NewDecoder(bytes.NewReader([]byte(out)))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(&got))
			r, err := release.Load(t.Context(), p.open(t), "prod")
			require.NoError(t, err)
			assert.Equal(t, inspectOutput{
				App: "shop", Environment: "prod", Version: 2, Digest: refDigest(t, r2).String(), Reference: r2,
				Build: refDigest(t, buildRef).String(), Summary: r.Summary(),
			}, got)
			v := got.Summary.Vulnerabilities
			require.NotNil(t, v)
			assert.Equal(t, attest.Counts{Critical: 1, Medium: 1}, v.Open)
			assert.Equal(t, []string{"CVE-2026-1111", "CVE-2026-3333"}, findingIDs(v.Findings))
			require.Len(t, v.Suppressed, 1)
			assert.Equal(t, "CVE-2026-2222", v.Suppressed[0].ID)
			require.NotNil(t, got.Summary.SBOM)
			assert.Equal(t, 3, got.Summary.SBOM.Components)
			assert.Equal(t, []attest.ConfigFinding{{Name: "SESSION_SECRET", Rule: "name-secret"}}, got.Summary.Config)
			assert.NotContains(t, out, secretLike)

			// What names no release: exit 2, one message.
			const zeros = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
			assertRefused(t, []string{"inspect", p.flag, p.repo + ":staging"}, []string{"nothing is stored as " + p.repo + ":staging"}, false)
			assertRefused(t, []string{"inspect", p.flag, "--json", p.repo + "@" + zeros}, []string{"nothing is stored as " + p.repo + "@" + zeros}, false)
			assertRefused(t, []string{"inspect", p.flag, p.repo + ":v1"}, []string{"wrong media type"}, false)

			// verify checks the signatures, recomputes the summary from the
			// attested evidence, and lists the evidence's attestations.
			out = mustRun(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), p.repo+":prod")
			assert.Equal(t, r2, lastLine(t, out))
			assert.Contains(t, lines(out), "Verified shop v2 in prod")
			var attestations string
			for _, l := range lines(out) {
				if s, ok := strings.CutPrefix(l, "Attestations: "); ok {
					attestations = s
				}
			}
			for _, typ := range []string{attest.PredicateCycloneDX, attest.PredicateVuln, attest.PredicateOpenVEX, attest.PredicateSLSAProvenance} {
				assert.Contains(t, attestations, fmt.Sprintf("%s (bundle and legacy by key %s)", typ, keyID))
			}
			assert.Contains(t, lines(out), "Summary: open critical 1, high 0, medium 1, low 0, unknown 0; 1 suppressed by VEX; SBOM of 3 components (recomputed from the attested evidence)")
			out = mustRun(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"),
				"--attestation", attest.PredicateOpenVEX, "--attestation", attest.PredicateVuln, p.repo+":prod-v1")
			assert.Equal(t, r1, lastLine(t, out), "the evidence's types can be required")
		})
	}
}

func TestSafeText(t *testing.T) {
	assert.Equal(t, "CVE-2026-1 ?[31mred?[0m ?evil? ok", safeText("CVE-2026-1 \x1b[31mred\x1b[0m \u202eevil\u2066 ok"))
	assert.Equal(t, "pkg:golang/golang.org/x/net@v0.30.0", safeText("pkg:golang/golang.org/x/net@v0.30.0"))
}
