package main

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/gobintest"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// evidenceFiles are copies of the SBOM, Trivy report and VEX document of
// release/testdata. Their summary: an SBOM of 3 components; open
// CVE-2026-1111 (critical) and CVE-2026-3333 (medium); CVE-2026-2222
// suppressed as not_affected by security@example.com.
type evidenceFiles struct {
	sbom, scan, vex string
}

// copyEvidence copies the evidence of release/testdata into a new
// directory, under the same base names.
func copyEvidence(t *testing.T) evidenceFiles {
	t.Helper()
	dir := t.TempDir()
	cp := func(name string) string {
		data, err := os.ReadFile(filepath.Join("..", "..", "release", "testdata", name))
		require.NoError(t, err)
		dst := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(dst, data, 0o644))
		return dst
	}
	return evidenceFiles{sbom: cp("sbom.cdx.json"), scan: cp("trivy.json"), vex: cp("vex.json")}
}

// args are the build flags that give all three files.
func (e evidenceFiles) args() []string {
	return []string{"--sbom", e.sbom, "--scan", e.scan, "--vex", e.vex}
}

// ciVars are the variables build.DetectCI reads.
var ciVars = []string{
	"GITHUB_ACTIONS", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_WORKFLOW_REF", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_SHA",
	"GITLAB_CI", "CI_SERVER_URL", "CI_PROJECT_PATH", "CI_RUNNER_ID", "CI_JOB_URL", "CI_PROJECT_URL", "CI_COMMIT_SHA",
}

// ciEnv makes the environment of the test that of a CI job setting vars,
// and of no CI job if vars is empty, whatever runs the tests: slipway build
// reads the CI variables through os.Getenv. t.Setenv restores them, and
// refuses to run in a parallel test.
func ciEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, k := range ciVars {
		t.Setenv(k, vars[k]) // empty is unset for DetectCI
	}
}

// namedPlace is a place with a name for its subtest.
type namedPlace struct {
	name string
	place
}

// evidencePlaces are an OCI layout and a repository in each test registry.
func evidencePlaces(t *testing.T) []namedPlace {
	out := []namedPlace{{"layout", layoutPlace(filepath.Join(t.TempDir(), "shop"))}}
	for _, reg := range registrytest.All(t) {
		out = append(out, namedPlace{reg.Name, registryPlace(reg, "acme/shop")})
	}
	return out
}

// appTreeSize is the number of bytes of the files of appTree.
const appTreeSize = 64<<10 + 16<<10 + len("<h1>shop</h1>\n")

// TestBuildEvidence: build --sbom --scan --vex, into a layout and each test
// registry, reports the SBOM, the scans and the open vulnerabilities, and
// stores the evidence and the summary it makes.
func TestBuildEvidence(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	ev := copyEvidence(t)
	dir := appTree(t)
	sbomData, err := os.ReadFile(ev.sbom)
	require.NoError(t, err)
	sbomNorm, err := attest.NormalizeJSON(sbomData)
	require.NoError(t, err)

	for _, p := range evidencePlaces(t) {
		t.Run(p.name, func(t *testing.T) {
			args := append([]string{"build", p.flag, "--dir", dir, "--app", "shop"}, ev.args()...)
			code, stdout, stderr := slipway(t, append(args, p.repo+":v1")...)
			require.Equal(t, exitOK, code, "stderr: %s", stderr)
			assert.Empty(t, stderr)

			b, err := build.Load(t.Context(), p.open(t), "v1")
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprintf(`Built shop: 3 files, 0 links, %d bytes
SBOM: CycloneDX, 3 components (from sbom.cdx.json)
Scans: trivy
Open vulnerabilities: critical 1, high 0, medium 1, low 0, unknown 0; 1 suppressed by VEX
Tags: v1
%s@%s
`, appTreeSize, p.repo, b.Digest()), stdout)

			s := b.Summary()
			require.NotNil(t, s.SBOM)
			assert.Equal(t, attest.SBOMSummary{Digest: digest.FromBytes(sbomNorm).String(), PredicateType: attest.PredicateCycloneDX, Components: 3}, *s.SBOM,
				"the SBOM is stored as the file's JSON, compacted")
			require.NotNil(t, s.Vulnerabilities)
			v := s.Vulnerabilities
			assert.Equal(t, attest.Counts{Critical: 1, Medium: 1}, v.Open)
			assert.Equal(t, []string{"CVE-2026-1111", "CVE-2026-3333"}, findingIDs(v.Findings))
			require.Len(t, v.Suppressed, 1)
			assert.Equal(t, "CVE-2026-2222", v.Suppressed[0].ID)
			assert.Equal(t, "not_affected", v.Suppressed[0].Status)
			assert.Equal(t, "security@example.com", v.Suppressed[0].Author)
			require.Len(t, v.Scans, 1)
			assert.Equal(t, "2026-01-01T00:30:00Z", v.Scans[0].Time, "the time the report states")
			sources := map[string]string{}
			for _, e := range b.Evidence() {
				sources[e.PredicateType] = e.Source
			}
			assert.Equal(t, map[string]string{
				attest.PredicateCycloneDX: "sbom.cdx.json",
				attest.PredicateVuln:      "trivy.json",
				attest.PredicateOpenVEX:   "vex.json",
			}, sources)
			assert.Len(t, s.Evidence, 3)
			assert.Empty(t, b.Builder(), "no --builder and no CI")
			assert.Empty(t, b.Invocation())
		})
	}
}

// findingIDs lists the IDs of findings, in their order.
func findingIDs(findings []attest.Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, f.ID)
	}
	return out
}

// TestBuildScanTime: --scan-time is the time of every scan; a value that is
// not RFC 3339 is refused before anything is stored.
func TestBuildScanTime(t *testing.T) {
	ciEnv(t, nil)
	ev := copyEvidence(t)
	layout := filepath.Join(t.TempDir(), "layout")
	mustRun(t, "build", "--oci-layout", "--dir", appTree(t), "--app", "shop", "--scan", ev.scan, "--scan-time", "2026-02-03T04:05:06+01:00", layout+":v1")
	l, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	b, err := build.Load(t.Context(), l, "v1")
	require.NoError(t, err)
	v := b.Summary().Vulnerabilities
	require.NotNil(t, v)
	require.Len(t, v.Scans, 1)
	assert.Equal(t, "2026-02-03T03:05:06Z", v.Scans[0].Time, "in UTC")
	assert.Nil(t, b.Summary().SBOM, "no --sbom and no Go binary: no SBOM")

	bad := filepath.Join(t.TempDir(), "bad")
	assertRefused(t, []string{"build", "--oci-layout", "--dir", appTree(t), "--app", "shop", "--scan", ev.scan, "--scan-time", "yesterday", bad + ":v1"},
		[]string{`--scan-time "yesterday"`, "RFC 3339"}, false)
	assertNothingStored(t, bad)
}

// TestBuildGeneratedSBOM: a tree holding a Go binary gets an SBOM made
// from its build info, and the secret its -ldflags set is in no output
// and in nothing stored but the binary itself.
func TestBuildGeneratedSBOM(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	exe, rev := gobintest.Build(t)
	bin, err := os.ReadFile(exe)
	require.NoError(t, err)
	require.Contains(t, string(bin), gobintest.Secret, "the binary holds the secret: the checks below would find a leak")
	dir := writeTree(t, map[string]file{
		"bin/tinyapp":       {bin, 0o755},
		"public/index.html": {[]byte("<h1>tiny</h1>\n"), 0o644},
	})
	layout := filepath.Join(t.TempDir(), "layout")

	code, stdout, stderr := slipway(t, "build", "--oci-layout", "--dir", dir, "--app", "shop", "--process", "web=bin/tinyapp", layout+":v1")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Empty(t, stderr)
	assert.Contains(t, lines(stdout), "SBOM: CycloneDX, 4 components (generated from Go build info)")
	assert.Contains(t, lines(stdout), "Source: "+rev, "the revision comes from the binary")
	assert.NotContains(t, stdout, "Scans:")
	assert.NotContains(t, stdout, gobintest.Secret)

	l, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	b, err := build.Load(t.Context(), l, "v1")
	require.NoError(t, err)
	s := b.Summary()
	require.NotNil(t, s.SBOM)
	assert.Equal(t, 4, s.SBOM.Components, "the main module, testify, yaml and the standard library")
	ev := b.Evidence()
	require.Len(t, ev, 1)
	assert.Equal(t, "generated", ev[0].Source)
	assert.Nil(t, s.Vulnerabilities)

	// The signed release, its attestations and what inspect shows of it
	// hold no secret either.
	keys := filepath.Join(t.TempDir(), "keys")
	mustRun(t, "keygen", "--out", keys)
	out := mustRun(t, "release", "--oci-layout", "--key", filepath.Join(keys, "slipway.key"), "--build", "v1",
		"--config", writeConfig(t, "prod", map[string]string{"PORT": "8080"}, nil), layout)
	assert.NotContains(t, out, gobintest.Secret)
	code, out, stderr = slipway(t, "inspect", "--oci-layout", layout+":prod")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Contains(t, lines(out), fmt.Sprintf("SBOM:             CycloneDX, 4 components, %s (generated from Go build info)", s.SBOM.Digest))
	assert.NotContains(t, out, gobintest.Secret)
	code, out, stderr = slipway(t, "inspect", "--oci-layout", "--json", layout+":prod")
	require.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.NotContains(t, out, gobintest.Secret)

	binDigest := digest.FromBytes(bin)
	var sawBinary bool
	require.NoError(t, filepath.WalkDir(layout, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Base(path) == binDigest.Encoded() {
			sawBinary = true // the binary's own layer holds it, as the binary does
			return nil
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.NotContains(t, string(data), gobintest.Secret, path)
		return nil
	}))
	assert.True(t, sawBinary, "the binary is stored as a blob of its own")
}

// lines splits s into its lines.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// TestBuildBuilderFromCI: without --builder, the builder, the invocation
// and the source come from the GitHub Actions or GitLab CI environment;
// each flag given wins over the environment, and the report says where the
// builder came from. The release's provenance names the same builder.
func TestBuildBuilderFromCI(t *testing.T) {
	const sha = "0123456789abcdef0123456789abcdef01234567"
	const rev = "89abcdef0123456789abcdef0123456789abcdef"
	github := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_REPOSITORY":   "acme/shop",
		"GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/release.yml@refs/heads/main",
		"GITHUB_RUN_ID":       "4242",
		"GITHUB_RUN_ATTEMPT":  "2",
		"GITHUB_SHA":          sha,
	}
	gitlab := map[string]string{
		"GITLAB_CI":       "true",
		"CI_SERVER_URL":   "https://gitlab.example.com",
		"CI_PROJECT_PATH": "acme/shop",
		"CI_RUNNER_ID":    "17",
		"CI_JOB_URL":      "https://gitlab.example.com/acme/shop/-/jobs/99",
		"CI_PROJECT_URL":  "https://gitlab.example.com/acme/shop",
		"CI_COMMIT_SHA":   sha,
	}
	incomplete := maps.Clone(github)
	delete(incomplete, "GITHUB_SHA")
	const ghBuilder = "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main"
	const ghRun = "https://github.com/acme/shop/actions/runs/4242/attempts/2"
	const glBuilder = "https://gitlab.example.com/acme/shop/-/runners/17"
	const glJob = "https://gitlab.example.com/acme/shop/-/jobs/99"
	flags := []string{"--builder", "https://ci.example/jobs/7", "--invocation", "https://ci.example/runs/7",
		"--source", "https://example.com/acme/shop", "--revision", rev}

	tests := []struct {
		name       string
		env        map[string]string
		args       []string
		line       string // the report's Builder line; "" for none
		builder    string
		invocation string
		source     build.Source
	}{
		{name: "GitHub Actions", env: github,
			line:    "Builder: " + ghBuilder + " (from GitHub Actions)",
			builder: ghBuilder, invocation: ghRun, source: build.Source{Repository: "https://github.com/acme/shop", Revision: sha}},
		{name: "GitHub Actions with --builder", env: github, args: []string{"--builder", "https://ci.example/jobs/7"},
			line:    "Builder: https://ci.example/jobs/7 (from --builder)",
			builder: "https://ci.example/jobs/7", invocation: ghRun, source: build.Source{Repository: "https://github.com/acme/shop", Revision: sha}},
		{name: "GitHub Actions with every flag", env: github, args: flags,
			line:    "Builder: https://ci.example/jobs/7 (from --builder)",
			builder: "https://ci.example/jobs/7", invocation: "https://ci.example/runs/7", source: build.Source{Repository: "https://example.com/acme/shop", Revision: rev}},
		{name: "GitHub Actions without GITHUB_SHA", env: incomplete},
		{name: "GitLab CI", env: gitlab,
			line:    "Builder: " + glBuilder + " (from GitLab CI)",
			builder: glBuilder, invocation: glJob, source: build.Source{Repository: "https://gitlab.example.com/acme/shop", Revision: sha}},
		{name: "GitLab CI with --builder", env: gitlab, args: []string{"--builder", "https://ci.example/jobs/7"},
			line:    "Builder: https://ci.example/jobs/7 (from --builder)",
			builder: "https://ci.example/jobs/7", invocation: glJob, source: build.Source{Repository: "https://gitlab.example.com/acme/shop", Revision: sha}},
		{name: "no CI with --builder", args: []string{"--builder", "https://ci.example/jobs/7"},
			line: "Builder: https://ci.example/jobs/7 (from --builder)", builder: "https://ci.example/jobs/7"},
		{name: "no CI"},
	}
	dir := appTree(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ciEnv(t, tc.env)
			layout := filepath.Join(t.TempDir(), "layout")
			args := append([]string{"build", "--oci-layout", "--dir", dir, "--app", "shop"}, tc.args...)
			stdout := mustRun(t, append(args, layout+":v1")...)
			var builderLines []string
			for _, l := range lines(stdout) {
				if strings.HasPrefix(l, "Builder:") {
					builderLines = append(builderLines, l)
				}
			}
			if tc.line == "" {
				assert.Empty(t, builderLines)
			} else {
				assert.Equal(t, []string{tc.line}, builderLines)
			}

			l, err := build.OpenLayout(t.Context(), layout)
			require.NoError(t, err)
			b, err := build.Load(t.Context(), l, "v1")
			require.NoError(t, err)
			assert.Equal(t, tc.builder, b.Builder())
			assert.Equal(t, tc.invocation, b.Invocation())
			assert.Equal(t, tc.source, b.Source())

			mustRun(t, "release", "--oci-layout", "--build", "v1", "--config", prodConfig(t, "info"), layout)
			l, err = build.OpenLayout(t.Context(), layout) // again: the command wrote to it
			require.NoError(t, err)
			r, err := release.Load(t.Context(), l, "prod")
			require.NoError(t, err)
			want := tc.builder
			if want == "" {
				want = release.DefaultBuilderID
			}
			prov := r.Summary().Provenance
			require.NotNil(t, prov)
			assert.Equal(t, attest.ProvenanceSummary{Builder: want, Source: tc.source.Repository, Revision: tc.source.Revision}, *prov)
		})
	}
}

// TestBuildBadEvidence: evidence the library refuses exits 2 with one
// message naming the file, the place in it and what is wrong, and stores
// nothing.
func TestBuildBadEvidence(t *testing.T) {
	ciEnv(t, nil)
	ev := copyEvidence(t)
	read := func(name string) string {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		return string(data)
	}
	// edit returns s with old replaced once by new, which must change it.
	edit := func(s, old, new string) string {
		out := strings.Replace(s, old, new, 1)
		require.NotEqual(t, s, out, "%q is not in the fixture", old)
		return out
	}
	trivy, sbom, vex := read(ev.scan), read(ev.sbom), read(ev.vex)

	tests := []struct {
		name string
		flag string // which file is bad: --sbom, --scan or --vex
		data string
		at   string // the text the message's line:column points at; "" for the whole document
		want []string
	}{
		{name: "malformed scan", flag: "--scan",
			data: "{\n  \"SchemaVersion\": 2,\n  \"Results\": [\n    {\"Target\": \"x\",}\n  ]\n}\n", at: "}\n  ]",
			want: []string{": malformed evidence: invalid JSON: invalid character '}'"}},
		{name: "scan of unknown format", flag: "--scan",
			data: `{"tool": "acme-scanner", "findings": []}`,
			want: []string{": unknown evidence format: ", "not a Trivy, Grype, govulncheck or SARIF report"}},
		{name: "unknown severity", flag: "--scan",
			data: edit(trivy, `"Severity": "MEDIUM"`, `"Severity": "SEVERE"`), at: `"SEVERE"`,
			want: []string{": Results[0].Vulnerabilities[2].Severity: malformed evidence: ", `unknown severity "SEVERE"`}},
		{name: "SBOM of CycloneDX 1.2", flag: "--sbom",
			data: edit(sbom, `"specVersion": "1.6"`, `"specVersion": "1.2"`), at: `"1.2"`,
			want: []string{": specVersion: unknown evidence format: ", `CycloneDX spec version "1.2"`}},
		{name: "VEX without author", flag: "--vex",
			data: edit(vex, "  \"author\": \"security@example.com\",\n", ""), at: "{",
			want: []string{": author: malformed evidence: missing author"}},
		{name: "VEX with unknown status", flag: "--vex",
			data: edit(vex, `"status": "not_affected"`, `"status": "maybe"`), at: `"maybe"`,
			want: []string{": statements[0].status: malformed evidence: ", `unknown status "maybe"`}},
	}
	dir := appTree(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "bad.json")
			require.NoError(t, os.WriteFile(bad, []byte(tc.data), 0o644))
			files := map[string]string{"--sbom": ev.sbom, "--scan": ev.scan, "--vex": ev.vex}
			files[tc.flag] = bad // the others are good
			layout := filepath.Join(t.TempDir(), "layout")
			args := []string{"build", "--oci-layout", "--dir", dir, "--app", "shop",
				"--sbom", files["--sbom"], "--scan", files["--scan"], "--vex", files["--vex"], layout + ":v1"}

			place := bad // file:line:column, or the file alone for the whole document
			if tc.at != "" {
				place += ":" + position(t, tc.data, tc.at)
			}
			want := slices.Clone(tc.want)
			want[0] = place + want[0]
			stderr := assertRefused(t, args, want, false)
			assert.True(t, strings.HasPrefix(stderr, "slipway: "+tc.flag+" "+bad), "the flag that gave the file comes first: %q", stderr)
			assertNothingStored(t, layout)
		})
	}
}

// position returns "LINE:COLUMN", both 1-based, of the first occurrence of
// text in data.
func position(t *testing.T, data, text string) string {
	t.Helper()
	i := strings.Index(data, text)
	require.GreaterOrEqual(t, i, 0, "%q not found", text)
	before := data[:i]
	return fmt.Sprintf("%d:%d", strings.Count(before, "\n")+1, i-strings.LastIndex(before, "\n"))
}

// assertNothingStored checks that the OCI layout dir holds no blob and no
// tag v1: it does not exist, or is empty.
func assertNothingStored(t *testing.T, dir string) {
	t.Helper()
	var blobs []string
	err := filepath.WalkDir(filepath.Join(dir, "blobs"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			blobs = append(blobs, path)
		}
		return err
	})
	if !errors.Is(err, fs.ErrNotExist) {
		require.NoError(t, err)
	}
	assert.Empty(t, blobs)
	l, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	_, err = l.Resolve(t.Context(), "v1")
	assert.ErrorIs(t, err, errdef.ErrNotFound)
}
