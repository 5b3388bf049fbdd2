package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
)

// writePolicy writes a build policy file and returns its path and digest.
func writePolicy(t *testing.T, doc string) (string, string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "build-policy.json")
	require.NoError(t, os.WriteFile(name, []byte(doc), 0o644))
	p, err := build.ParsePolicy([]byte(doc), name)
	if err != nil {
		return name, ""
	}
	return name, p.Digest().String()
}

// strictPolicy breaks the build of appTree with the evidence of
// release/testdata four ways over.
const strictPolicy = `{
  "failOn": "medium",
  "requireClean": true,
  "requireRevision": true,
  "forbiddenFiles": ["*.html"],
  "rules": [
    {"name": "web", "expr": "build.processes.exists(p, p.name == 'web')", "message": "no web process is declared"}
  ]
}`

// TestBuildPolicyFails: a build that breaks its policy exits 1, lists
// every finding on stdout, and stores nothing, in a layout and in each
// test registry.
func TestBuildPolicyFails(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	ciEnv(t, nil)
	ev := copyEvidence(t)
	dir := appTree(t)
	policy, dgst := writePolicy(t, strictPolicy)
	require.NotEmpty(t, dgst)

	for _, p := range evidencePlaces(t) {
		t.Run(p.name, func(t *testing.T) {
			args := append([]string{"build", p.flag, "--dir", dir, "--app", "shop", "--dirty", "--policy", policy}, ev.args()...)
			code, stdout, stderr := slipway(t, append(args, p.repo+":v1")...)
			assert.Equal(t, exitNo, code)
			assert.Empty(t, stderr)
			assert.Equal(t, fmt.Sprintf(`Build policy %s (%s) failed: 6 findings
  [failOn] CVE-2026-1111 critical in pkg:golang/golang.org/x/net@v0.30.0, installed v0.30.0, fixed in 0.31.0
  [failOn] CVE-2026-3333 medium in pkg:golang/golang.org/x/text@v0.19.0, installed v0.19.0
  [requireClean] the source tree had uncommitted changes
  [requireRevision] the build records no source revision
  [forbiddenFiles] "public/index.html" matches "*.html"
  [web] no web process is declared
`, policy, dgst), stdout)
			if p.name == "layout" {
				assertNothingStored(t, p.repo)
				return
			}
			_, err := p.open(t).Resolve(t.Context(), "v1")
			assert.ErrorIs(t, err, errdef.ErrNotFound)
		})
	}
}

// TestBuildBadPolicy: a policy file that does not load exits 2 with one
// line on stderr naming the file, the rule or field and the position,
// before anything else is read, and stores nothing.
func TestBuildBadPolicy(t *testing.T) {
	ciEnv(t, nil)
	dir := appTree(t)
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"compile error", "{\n  \"rules\": [\n    {\"name\": \"no-shell\", \"expr\": \"!build.fils.exists(f, f.path.endsWith('.sh'))\"}\n  ]\n}",
			[]string{`: rules[0] "no-shell" at 1:7: invalid policy: undefined field 'fils'`}},
		{"unknown field", "{\n  \"failOn\": \"high\",\n  \"requireSbom\": true,\n  \"forbidenFiles\": [\".env\"]\n}",
			[]string{`:4:3: invalid policy`, `unknown field "forbidenFiles"`}},
		{"field in other case", "{\n  \"failOn\": \"high\",\n  \"requireSbom\": true\n}",
			[]string{`:3:3: invalid policy: unknown field "requireSbom" (field names are case-sensitive)`}},
		{"bad severity", `{"failOn": "severe"}`,
			[]string{`: failOn "severe": invalid policy: want critical, high, medium, low or unknown`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			policy, _ := writePolicy(t, tc.doc)
			layout := filepath.Join(t.TempDir(), "layout")
			want := append([]string{"slipway: build: " + policy}, tc.want...)
			// The missing Procfile is never read: the policy comes first.
			assertRefused(t, []string{"build", "--oci-layout", "--dir", dir, "--app", "shop", "--procfile", filepath.Join(dir, "missing"),
				"--policy", policy, layout + ":v1"}, want, false)
			assertNothingStored(t, layout)
		})
	}
	missing := filepath.Join(t.TempDir(), "missing.json")
	assertRefused(t, []string{"build", "--oci-layout", "--dir", dir, "--app", "shop", "--policy", missing, filepath.Join(t.TempDir(), "l")},
		[]string{"slipway: build: read policy: open " + missing + ": no such file or directory"}, false)
}

// TestBuildPolicyPasses: a build that passes says so in its report, records
// the policy's digest, and inspect shows it in the release's summary.
func TestBuildPolicyPasses(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	ev := copyEvidence(t)
	policy, dgst := writePolicy(t, `{"failOn": "critical", "requireSBOM": true, "forbiddenFiles": [".env"], "maxFileSize": 1048576}`)
	layout := filepath.Join(t.TempDir(), "layout")
	args := append([]string{"build", "--oci-layout", "--dir", appTree(t), "--app", "shop", "--policy", policy}, ev.args()...)

	// The testdata scan has an open critical vulnerability; a VEX document
	// of its own says it is not affected.
	vex := filepath.Join(t.TempDir(), "critical.openvex.json")
	require.NoError(t, os.WriteFile(vex, []byte(`{"@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/2",
  "author": "security@example.com", "timestamp": "2026-01-01T02:00:00Z", "version": 1,
  "statements": [{"vulnerability": {"name": "CVE-2026-1111"}, "products": [{"@id": "shop"}],
    "status": "not_affected", "justification": "vulnerable_code_not_present"}]}`), 0o644))
	code, stdout, _ := slipway(t, append(args, layout+":v1")...)
	require.Equal(t, exitNo, code)
	assert.Contains(t, stdout, "[failOn] CVE-2026-1111 critical")

	stdout = mustRun(t, append(args, "--vex", vex, layout+":v1")...)
	assert.Contains(t, lines(stdout), "Policy: pass ("+dgst+")")
	assert.Equal(t, []string{
		"SBOM: CycloneDX, 3 components (from sbom.cdx.json)",
		"Scans: trivy",
		"Open vulnerabilities: critical 0, high 0, medium 1, low 0, unknown 0; 2 suppressed by VEX",
		"Policy: pass (" + dgst + ")",
		"Tags: v1",
	}, lines(stdout)[1:6])

	l, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	b, err := build.Load(t.Context(), l, "v1")
	require.NoError(t, err)
	assert.Equal(t, &attest.PolicyResult{Digest: dgst, Pass: true}, b.Summary().Policy)

	mustRun(t, "release", "--oci-layout", "--build", "v1", "--config", prodConfig(t, "info"), layout)
	out := mustRun(t, "inspect", "--oci-layout", layout+":prod")
	assert.Contains(t, lines(out), "Build policy:     pass ("+dgst+")")
	assert.False(t, strings.Contains(out, "POLICY RULE"), "a passing policy has no findings to list")
}
