package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/release"
)

// writePolicy writes a policy file and returns its path.
func writeReleasePolicy(t *testing.T, doc string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
	return path
}

// TestVerifyPolicyAndDecide: verify --policy exits 0 on go and 1 on no-go
// with every finding, 2 on a policy that does not load; decide records
// the decision, and verify --decision-key requires a go by that key.
func TestVerifyPolicyAndDecide(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	for _, p := range evidencePlaces(t) {
		t.Run(p.name, func(t *testing.T) {
			keys, gate := filepath.Join(t.TempDir(), "k"), filepath.Join(t.TempDir(), "g")
			mustRun(t, "keygen", "--out", keys)
			mustRun(t, "keygen", "--out", gate)
			pub, gatePub := filepath.Join(keys, "slipway.pub"), filepath.Join(gate, "slipway.pub")
			args := append([]string{"build", p.flag, "--dir", appTree(t), "--app", "shop", "--process", "web=bin/server"}, copyEvidence(t).args()...)
			mustRun(t, append(args, p.repo+":v1")...)
			mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
			ref := p.repo + ":prod"
			strict := writeReleasePolicy(t, `{"maxOpen":{"critical":0,"medium":0},"requireSBOM":true,"environments":["prod"]}`)
			lenient := writeReleasePolicy(t, `{"maxOpen":{"critical":1},"allow":[{"id":"CVE-2026-3333","expires":"2999-12-31","reason":"not reachable"}]}`)

			code, stdout, stderr := slipway(t, "verify", p.flag, "--key", pub, "--policy", strict, ref)
			assert.Equal(t, exitNo, code, stderr)
			assert.Contains(t, stdout, "No-go "+p.repo+"@sha256:")
			assert.Contains(t, stdout, "Release: shop v1 in prod\n")
			assert.Contains(t, stdout, "Findings: 2 blocking, 0 other\n")
			assert.Contains(t, stdout, "  block  maxOpen  1 open critical vulnerability, at most 0 allowed: CVE-2026-1111\n")
			assert.Contains(t, stdout, "  block  maxOpen  1 open medium vulnerability, at most 0 allowed: CVE-2026-3333\n")

			code, stdout, _ = slipway(t, "verify", p.flag, "--key", pub, "--policy", strict, "--json", ref)
			assert.Equal(t, exitNo, code)
			var d release.Decision
			require.NoError(t, json.Unmarshal([]byte(stdout), &d), stdout)
			assert.Equal(t, release.VerdictNoGo, d.Verdict)
			assert.Len(t, d.Blocking(), 2)

			out := mustRun(t, "verify", p.flag, "--key", pub, "--policy", lenient, ref)
			assert.Contains(t, out, "Decision: go (policy sha256:")
			assert.Contains(t, out, "  note   allow  CVE-2026-3333 (medium, pkg:golang/golang.org/x/text@v0.19.0) is allowed until 2999-12-31: not reachable\n")

			bad := writeReleasePolicy(t, `{"rules":[{"name":"typo","expr":"summary.vulnerabilites.open.critical == 0"}]}`)
			code, _, stderr = slipway(t, "verify", p.flag, "--key", pub, "--policy", bad, ref)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, bad+`: rules[0] "typo" at 1:8: invalid policy: undefined field 'vulnerabilites'`)

			// No decision yet: a deploy that requires one refuses.
			code, stdout, _ = slipway(t, "verify", p.flag, "--key", pub, "--decision-key", gatePub, ref)
			assert.Equal(t, exitNo, code)
			assert.Contains(t, stdout, "no decision by a required key")

			// The gate records a no-go, then a go.
			code, stdout, stderr = slipway(t, "decide", p.flag, "--key", filepath.Join(gate, "slipway.key"), "--verify-key", pub, "--policy", strict, "--decided-by", "gate@example.com", ref)
			assert.Equal(t, exitNo, code, stderr)
			assert.Contains(t, stdout, "Recorded decision: no-go, ")
			assert.Contains(t, stdout, " by gate@example.com\n")
			assert.Contains(t, stdout, "Signed: decision attestation ("+release.PredicateDecision+") by key ")
			code, stdout, _ = slipway(t, "verify", p.flag, "--key", pub, "--decision-key", gatePub, ref)
			assert.Equal(t, exitNo, code)
			assert.Contains(t, stdout, "Recorded decision: no-go")

			code, _, stderr = slipway(t, "decide", p.flag, "--key", filepath.Join(gate, "slipway.key"), "--verify-key", pub, "--policy", lenient, ref)
			require.Equal(t, exitOK, code, stderr)
			out = mustRun(t, "verify", p.flag, "--key", pub, "--decision-key", gatePub, ref)
			assert.Contains(t, out, "Recorded decision: go, ")

			// A decision needs a release that verifies.
			code, _, stderr = slipway(t, "decide", p.flag, "--key", filepath.Join(gate, "slipway.key"), "--policy", lenient, ref)
			assert.Equal(t, exitError, code, "gate's own key did not sign the release")
			assert.Contains(t, stderr, "no decision recorded")
		})
	}
}

// TestAttestTurnsNoGoIntoGo: slipway attest --vex marks the critical
// finding not_affected and verify --policy says go; a new scan with a new
// critical finding says no-go again.
func TestAttestTurnsNoGoIntoGo(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	for _, p := range evidencePlaces(t) {
		t.Run(p.name, func(t *testing.T) {
			keys := filepath.Join(t.TempDir(), "k")
			mustRun(t, "keygen", "--out", keys)
			key, pub := filepath.Join(keys, "slipway.key"), filepath.Join(keys, "slipway.pub")
			args := append([]string{"build", p.flag, "--dir", appTree(t), "--app", "shop", "--process", "web=bin/server"}, copyEvidence(t).args()...)
			mustRun(t, append(args, p.repo+":v1")...)
			mustRun(t, "release", p.flag, "--key", key, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
			ref := p.repo + ":prod"
			pol := writeReleasePolicy(t, `{"maxOpen":{"critical":0}}`)

			code, stdout, _ := slipway(t, "verify", p.flag, "--key", pub, "--policy", pol, ref)
			require.Equal(t, exitNo, code, stdout)

			dir := t.TempDir()
			vex := filepath.Join(dir, "vex.json")
			require.NoError(t, os.WriteFile(vex, []byte(`{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/vex/2","author":"security@example.com","timestamp":"2026-01-02T00:00:00Z","version":1,
 "statements":[{"vulnerability":{"name":"CVE-2026-1111"},"products":[{"@id":"shop","subcomponents":[{"@id":"pkg:golang/golang.org/x/net@v0.30.0"}]}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`), 0o644))
			out := mustRun(t, "attest", p.flag, "--key", key, "--vex", vex, ref)
			assert.Contains(t, out, "Attested vex sha256:")
			assert.Contains(t, out, "about shop v1 in prod\n")
			out = mustRun(t, "verify", p.flag, "--key", pub, "--policy", pol, ref)
			assert.Contains(t, out, "Summary: open critical 1, high 0, medium 1, low 0, unknown 0; 1 suppressed by VEX; SBOM of 3 components (recomputed from the attested evidence)\n")
			assert.Contains(t, out, "Now: open critical 0, high 0, medium 1, low 0, unknown 0; 2 suppressed by VEX; SBOM of 3 components (with 1 piece of evidence attested since)\n")
			assert.Contains(t, out, "Decision: go (policy sha256:")

			scan := filepath.Join(dir, "trivy.json")
			require.NoError(t, os.WriteFile(scan, []byte(`{"SchemaVersion":2,"CreatedAt":"2026-02-01T00:00:00Z","Results":[{"Target":"bin/server","Type":"gobinary","Vulnerabilities":[
 {"VulnerabilityID":"CVE-2026-9999","PkgName":"golang.org/x/net","PkgIdentifier":{"PURL":"pkg:golang/golang.org/x/net@v0.30.0"},"InstalledVersion":"v0.30.0","Severity":"CRITICAL"}]}]}`), 0o644))
			mustRun(t, "attest", p.flag, "--key", key, "--scan", scan, ref)
			code, stdout, _ = slipway(t, "verify", p.flag, "--key", pub, "--policy", pol, ref)
			assert.Equal(t, exitNo, code)
			assert.Contains(t, stdout, "1 open critical vulnerability, at most 0 allowed: CVE-2026-9999")

			bad := filepath.Join(dir, "bad.json")
			require.NoError(t, os.WriteFile(bad, []byte("{\n  \"@context\": \"https://openvex.dev/ns/v0.2.0\",\n  \"statements\": [{\"status\": \"maybe\"}]\n}"), 0o644))
			code, _, stderr := slipway(t, "attest", p.flag, "--key", key, "--vex", bad, ref)
			assert.Equal(t, exitError, code)
			assert.Contains(t, stderr, "--vex "+bad+":1:1: @id: malformed evidence: missing @id")
		})
	}
}

// TestVerifyJSONRejected: with --json, a release that fails verification
// is a JSON no-go whose one finding names the check, so that a program
// reading the output needs one format.
func TestVerifyJSONRejected(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	p := layoutPlace(filepath.Join(t.TempDir(), "shop"))
	keys, other := filepath.Join(t.TempDir(), "k"), filepath.Join(t.TempDir(), "o")
	mustRun(t, "keygen", "--out", keys)
	mustRun(t, "keygen", "--out", other)
	storeBuild(t, p, appTree(t), "v1")
	mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
	pol := writeReleasePolicy(t, `{}`)
	code, stdout, _ := slipway(t, "verify", p.flag, "--key", filepath.Join(other, "slipway.pub"), "--policy", pol, "--json", p.repo+":prod")
	assert.Equal(t, exitNo, code)
	var d release.Decision
	require.NoError(t, json.Unmarshal([]byte(stdout), &d), stdout)
	assert.Equal(t, release.VerdictNoGo, d.Verdict)
	require.Len(t, d.Findings, 1)
	assert.Equal(t, "signature", d.Findings[0].Rule)
	assert.True(t, d.Findings[0].Blocking)
	assert.Contains(t, d.Findings[0].Message, "no trusted key verifies the signature")
	assert.NotEmpty(t, d.Release.Digest)
	assert.NotEmpty(t, d.Policy)

	out := mustRun(t, "verify", p.flag, "--key", filepath.Join(keys, "slipway.pub"), "--policy", pol, "--json", p.repo+":prod")
	require.NoError(t, json.Unmarshal([]byte(out), &d), out)
	assert.Equal(t, release.VerdictGo, d.Verdict)
}
