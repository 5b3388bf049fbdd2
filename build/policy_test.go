package build_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/gobintest"
	"github.com/slipway-dev/slipway/internal/registrytest"
)

// The evidence of release/testdata: an SBOM of 3 components; a Trivy scan
// with CVE-2026-1111 (critical, open), CVE-2026-2222 (high, suppressed by
// the VEX document) and CVE-2026-3333 (medium, open).
const (
	testSBOM  = "../release/testdata/sbom.cdx.json"
	testTrivy = "../release/testdata/trivy.json"
	testVEX   = "../release/testdata/vex.json"
)

func mustPolicy(t testing.TB, spec build.PolicySpec) *build.Policy {
	t.Helper()
	p, err := build.NewPolicy(spec)
	require.NoError(t, err)
	return p
}

// policySpec is a clean build of two small files, with a revision and
// nothing else: it passes every typed rule but requireSBOM.
func policySpec() build.Spec {
	return build.Spec{
		Files: []build.File{
			{Name: "bin/server", Reader: strings.NewReader("#!/bin/sh\necho serving\n"), Mode: 0o755},
			{Name: "config/app.toml", Reader: strings.NewReader("port = 8080\n")},
		},
		Source:  build.Source{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9d0b8a7c6e5f4d3c2b1a09f8e7d6c5b4a3"},
		Created: fixedTime,
	}
}

// findingRules lists the Rule of each finding.
func findingRules(fs []attest.PolicyFinding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

// policyError runs New with p and returns its PolicyError, failing the
// test if New does not refuse the build with one.
func policyError(t *testing.T, dst oras.Target, spec build.Spec, p *build.Policy) *build.PolicyError {
	t.Helper()
	b, err := build.New(t.Context(), dst, "shop", spec, build.Options{Policy: p, Tags: []string{"v1"}})
	require.Error(t, err)
	assert.Nil(t, b)
	assert.ErrorIs(t, err, build.ErrPolicy)
	var pe *build.PolicyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, p.Digest(), pe.Policy)
	return pe
}

// TestPolicyTypedRules: each typed rule breaks the build it should, with
// the findings it should, and lets the build it should pass.
func TestPolicyTypedRules(t *testing.T) {
	tests := []struct {
		name   string
		policy build.PolicySpec
		fail   func(*build.Spec) // makes policySpec break the rule
		pass   func(*build.Spec) // makes policySpec pass it; nil: as it is
		want   []attest.PolicyFinding
	}{
		{
			name:   "vulnerabilities at or above high",
			policy: build.PolicySpec{FailOn: attest.SeverityHigh},
			fail:   func(s *build.Spec) { s.Scans = []build.Scan{{Path: testTrivy}} },
			pass: func(s *build.Spec) {
				// One high finding, which the VEX document marks fixed.
				dir := t.TempDir()
				s.Scans = []build.Scan{{Path: writeFile(t, dir, "trivy.json", goodScan)}}
				s.VEX = []string{writeFile(t, dir, "vex.json", goodVEX)}
			},
			want: []attest.PolicyFinding{
				{Rule: "failOn", Message: "CVE-2026-1111 critical in pkg:golang/golang.org/x/net@v0.30.0, installed v0.30.0, fixed in 0.31.0"},
				{Rule: "failOn", Message: "CVE-2026-2222 high in pkg:golang/golang.org/x/text@v0.19.0, installed v0.19.0, fixed in 0.20.0"},
			},
		},
		{
			name:   "vulnerabilities after VEX",
			policy: build.PolicySpec{FailOn: attest.SeverityMedium},
			fail:   func(s *build.Spec) { s.Scans, s.VEX = []build.Scan{{Path: testTrivy}}, []string{testVEX} },
			want: []attest.PolicyFinding{
				{Rule: "failOn", Message: "CVE-2026-1111 critical in pkg:golang/golang.org/x/net@v0.30.0, installed v0.30.0, fixed in 0.31.0"},
				{Rule: "failOn", Message: "CVE-2026-3333 medium in pkg:golang/golang.org/x/text@v0.19.0, installed v0.19.0"},
			},
		},
		{
			name:   "vulnerabilities below the threshold",
			policy: build.PolicySpec{FailOn: attest.SeverityCritical},
			fail:   func(s *build.Spec) { s.Scans = []build.Scan{{Path: testTrivy}} },
			pass: func(s *build.Spec) {
				scan := writeFile(t, t.TempDir(), "trivy.json", goodScan) // one high
				s.Scans = []build.Scan{{Path: scan}}
			},
			want: []attest.PolicyFinding{
				{Rule: "failOn", Message: "CVE-2026-1111 critical in pkg:golang/golang.org/x/net@v0.30.0, installed v0.30.0, fixed in 0.31.0"},
			},
		},
		{
			name:   "sbom",
			policy: build.PolicySpec{RequireSBOM: true},
			fail:   func(s *build.Spec) {},
			pass:   func(s *build.Spec) { s.SBOM = testSBOM },
			want:   []attest.PolicyFinding{{Rule: "requireSBOM", Message: "the build has no SBOM"}},
		},
		{
			name:   "clean",
			policy: build.PolicySpec{RequireClean: true},
			fail:   func(s *build.Spec) { s.Source.Dirty = true },
			want:   []attest.PolicyFinding{{Rule: "requireClean", Message: "the source tree had uncommitted changes"}},
		},
		{
			name:   "revision",
			policy: build.PolicySpec{RequireRevision: true},
			fail:   func(s *build.Spec) { s.Source.Revision = "" },
			want:   []attest.PolicyFinding{{Rule: "requireRevision", Message: "the build records no source revision"}},
		},
		{
			name:   "forbidden files",
			policy: build.PolicySpec{ForbiddenFiles: []string{".env", "*.pem", "config/*.key", ".git"}},
			fail: func(s *build.Spec) {
				s.Files = append(s.Files,
					build.File{Name: "config/.env", Reader: strings.NewReader("TOKEN=x\n")},
					build.File{Name: "tls/deep/server.pem", Reader: strings.NewReader("-----BEGIN\n")},
					build.File{Name: "config/tls.key", Reader: strings.NewReader("k\n")},
					build.File{Name: "src/.git/config", Reader: strings.NewReader("[core]\n")},
					build.File{Name: "other/config/tls.key", Reader: strings.NewReader("k\n")}, // "config/*.key" is a whole path
				)
			},
			pass: func(s *build.Spec) {
				s.Files = append(s.Files, build.File{Name: "config/env.example", Reader: strings.NewReader("TOKEN=\n")})
			},
			want: []attest.PolicyFinding{
				{Rule: "forbiddenFiles", Message: `"config/.env" matches ".env"`},
				{Rule: "forbiddenFiles", Message: `"config/tls.key" matches "config/*.key"`},
				{Rule: "forbiddenFiles", Message: `"src/.git/config" is in "src/.git", which matches ".git"`},
				{Rule: "forbiddenFiles", Message: `"tls/deep/server.pem" matches "*.pem"`},
			},
		},
		{
			name:   "max file size",
			policy: build.PolicySpec{MaxFileSize: 12},
			fail: func(s *build.Spec) {
				s.Files = append(s.Files, build.File{Name: "big", Reader: strings.NewReader("0123456789abc")})
			},
			pass: func(s *build.Spec) {
				s.Files = []build.File{{Name: "fits", Reader: strings.NewReader("0123456789ab")}, {Name: "link", Linkname: "fits"}}
			},
			want: []attest.PolicyFinding{
				{Rule: "maxFileSize", Message: `"big" is 13 bytes, over the limit of 12`},
				{Rule: "maxFileSize", Message: `"bin/server" is 23 bytes, over the limit of 12`},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPolicy(t, tc.policy)
			spec := policySpec()
			tc.fail(&spec)
			dst := newCounting(memory.New())
			pe := policyError(t, dst, spec, p)
			assert.Equal(t, tc.want, pe.Findings)
			assert.Zero(t, dst.pushes(), "nothing is sent")

			spec = policySpec()
			if tc.pass != nil {
				tc.pass(&spec)
			}
			b, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{Policy: p})
			require.NoError(t, err)
			assert.Equal(t, &attest.PolicyResult{Digest: p.Digest().String(), Pass: true}, b.Summary().Policy)
		})
	}
}

// TestPolicyListsEveryFinding: a build that breaks many rules gets one
// error listing every finding, typed rules first in their order, then the
// CEL rules in file order.
func TestPolicyListsEveryFinding(t *testing.T) {
	p, err := build.ParsePolicy([]byte(`{
  "failOn": "critical",
  "requireSBOM": true,
  "requireClean": true,
  "requireRevision": true,
  "forbiddenFiles": [".env"],
  "maxFileSize": 16,
  "rules": [
    {"name": "no-shell", "expr": "!build.files.exists(f, f.path.endsWith('.sh'))", "message": "shell scripts are not shipped"},
    {"name": "scanned", "expr": "has(summary.vulnerabilities)"},
    {"name": "web", "expr": "build.processes.exists(p, p.name == 'web')", "message": "a web process is declared"}
  ]
}`), "strict.json")
	require.NoError(t, err)
	spec := policySpec()
	spec.Files = append(spec.Files,
		build.File{Name: "config/.env", Reader: strings.NewReader("TOKEN=x\n")},
		build.File{Name: "run.sh", Reader: strings.NewReader("#!/bin/sh\nexec bin/server\n")})
	spec.Source = build.Source{Dirty: true}
	spec.Scans = []build.Scan{{Path: testTrivy}}
	spec.Processes = []build.Process{{Name: "web", Command: "bin/server"}}

	pe := policyError(t, memory.New(), spec, p)
	assert.Equal(t, []attest.PolicyFinding{
		{Rule: "failOn", Message: "CVE-2026-1111 critical in pkg:golang/golang.org/x/net@v0.30.0, installed v0.30.0, fixed in 0.31.0"},
		{Rule: "requireSBOM", Message: "the build has no SBOM"},
		{Rule: "requireClean", Message: "the source tree had uncommitted changes"},
		{Rule: "requireRevision", Message: "the build records no source revision"},
		{Rule: "forbiddenFiles", Message: `"config/.env" matches ".env"`},
		{Rule: "maxFileSize", Message: `"bin/server" is 23 bytes, over the limit of 16`},
		{Rule: "maxFileSize", Message: `"run.sh" is 26 bytes, over the limit of 16`},
		{Rule: "no-shell", Message: "shell scripts are not shipped"},
	}, pe.Findings)
	msg := pe.Error()
	assert.True(t, strings.HasPrefix(msg, "policy "+p.Digest().String()+" failed: 8 findings: [failOn] CVE-2026-1111 critical"), msg)
	for _, f := range pe.Findings {
		assert.Contains(t, msg, "["+f.Rule+"] "+f.Message)
	}
	_, err = build.New(t.Context(), memory.New(), "shop", spec, build.Options{Policy: p})
	assert.True(t, strings.HasPrefix(err.Error(), "build: policy sha256:"), err.Error())
}

// storeCounts is what a store holds that a build would add.
type storeCounts struct {
	manifests, tags, blobs int
}

// layoutCounts counts the manifests and tags in an OCI layout's
// index.json and the files under blobs/.
func layoutCounts(t *testing.T, dir string) storeCounts {
	t.Helper()
	var c storeCounts
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if errors.Is(err, os.ErrNotExist) {
		return c
	}
	require.NoError(t, err)
	var index ocispec.Index
	require.NoError(t, json.Unmarshal(raw, &index))
	seen := map[string]bool{}
	for _, m := range index.Manifests {
		if !seen[m.Digest.String()] {
			seen[m.Digest.String()] = true
			c.manifests++
		}
		if m.Annotations[ocispec.AnnotationRefName] != "" {
			c.tags++
		}
	}
	require.NoError(t, filepath.WalkDir(filepath.Join(dir, "blobs"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			c.blobs++
		}
		return err
	}))
	return c
}

// pushLog wraps a target and records each push by media type, and each
// tag: the manifest PUTs and tag PUTs a registry would see.
type pushLog struct {
	oras.Target
	mu        sync.Mutex
	manifests int
	blobs     int
	tags      int
	onPush    func(ocispec.Descriptor) // called before each push
}

func (l *pushLog) Push(ctx context.Context, d ocispec.Descriptor, r io.Reader) error {
	if l.onPush != nil {
		l.onPush(d)
	}
	l.mu.Lock()
	if d.MediaType == ocispec.MediaTypeImageManifest {
		l.manifests++
	} else {
		l.blobs++
	}
	l.mu.Unlock()
	return l.Target.Push(ctx, d, r)
}

func (l *pushLog) Tag(ctx context.Context, d ocispec.Descriptor, ref string) error {
	l.mu.Lock()
	l.tags++
	l.mu.Unlock()
	return l.Target.Tag(ctx, d, ref)
}

// TestFailingBuildStoresNothing: a build that breaks its policy leaves no
// manifest, no tag and no blob in an OCI layout (slipway's and oras-go's)
// or a registry, while the same build without the policy would store all
// three.
func TestFailingBuildStoresNothing(t *testing.T) {
	src := t.TempDir()
	tree{
		"bin/server":    "#!/bin/sh\necho serving\n",
		"config/.env":   "TOKEN=x\n",
		"static/a.html": "<h1>a</h1>\n",
	}.write(t, src, false)
	spec := build.Spec{Dir: src, Tar: []string{"static"}, Created: fixedTime, Scans: []build.Scan{{Path: testTrivy}}}
	p := mustPolicy(t, build.PolicySpec{FailOn: attest.SeverityCritical, ForbiddenFiles: []string{".env"}})
	want, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{}) // what the build would be
	require.NoError(t, err)

	t.Run("layout", func(t *testing.T) {
		dir := t.TempDir()
		l, err := build.OpenLayout(t.Context(), dir)
		require.NoError(t, err)
		_, err = build.New(t.Context(), l, "shop", policySpec(), build.Options{Tags: []string{"v0"}}) // something already there
		require.NoError(t, err)
		before := layoutCounts(t, dir)
		require.Equal(t, storeCounts{manifests: 1, tags: 1, blobs: 4}, before)
		pe := policyError(t, l, spec, p)
		assert.Equal(t, []string{"failOn", "forbiddenFiles"}, findingRules(pe.Findings))
		assert.Equal(t, before, layoutCounts(t, dir))
	})
	t.Run("oras layout", func(t *testing.T) {
		dir := t.TempDir()
		store, err := oci.New(dir)
		require.NoError(t, err)
		before := layoutCounts(t, dir)
		policyError(t, store, spec, p)
		assert.Equal(t, before, layoutCounts(t, dir))
		_, err = build.Load(t.Context(), store, "v1")
		assert.ErrorIs(t, err, errdef.ErrNotFound)
	})
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			repo := reg.Repository(t, "acme/policy")
			log := &pushLog{Target: repo}
			policyError(t, log, spec, p)
			assert.Equal(t, 0, log.manifests, "no manifest PUT")
			assert.Equal(t, 0, log.tags, "no tag")
			assert.Equal(t, 0, log.blobs, "no blob: the policy was decided before anything was sent")
			for _, d := range append(want.Layers(), want.Descriptor()) {
				ok, err := repo.Exists(t.Context(), d)
				require.NoError(t, err)
				assert.False(t, ok, "%s %s", d.MediaType, d.Digest)
			}
			_, err := repo.Resolve(t.Context(), "v1")
			assert.ErrorIs(t, err, errdef.ErrNotFound)
		})
	}
}

// TestPolicyCheckedAgainAfterStoring: a file that grows on disk while the
// build is stored, past the size limit, breaks the build at the second
// check: no record, manifest or tag is stored, though a blob already sent
// stays.
func TestPolicyCheckedAgainAfterStoring(t *testing.T) {
	src := t.TempDir()
	tree{"a.txt": "fits\n", "b.txt": "fits\n"}.write(t, src, false)
	p := mustPolicy(t, build.PolicySpec{MaxFileSize: 10})
	var once sync.Once
	log := &pushLog{Target: memory.New(), onPush: func(ocispec.Descriptor) {
		once.Do(func() { // in one of New's goroutines: no require
			assert.NoError(t, os.WriteFile(filepath.Join(src, "b.txt"), []byte("grown past the limit\n"), 0o644))
		})
	}}
	_, err := build.New(t.Context(), log, "shop", build.Spec{Dir: src, Created: fixedTime}, build.Options{Policy: p, Concurrency: 1, Tags: []string{"v1"}})
	var pe *build.PolicyError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, []attest.PolicyFinding{{Rule: "maxFileSize", Message: `"b.txt" is 21 bytes, over the limit of 10`}}, pe.Findings)
	assert.Equal(t, 2, log.blobs, "the files were sent")
	assert.Equal(t, 0, log.manifests)
	assert.Equal(t, 0, log.tags)
}

// TestPolicyPackedDirectories: files inside a packed directory are checked
// by name and size while the build is made; a stored build's facts list
// the packed directory only.
func TestPolicyPackedDirectories(t *testing.T) {
	src := t.TempDir()
	tree{
		"bin/server":            "#!/bin/sh\n",
		"static/index.html":     "<h1>shop</h1>\n",
		"static/keys/id_rsa":    "-----BEGIN\n",
		"static/big/video.mp4":  strings.Repeat("v", 100),
		"static/keys/id_rsa.pk": "->id_rsa",
	}.write(t, src, false)
	spec := build.Spec{Dir: src, Tar: []string{"static"}, Created: fixedTime}
	p := mustPolicy(t, build.PolicySpec{ForbiddenFiles: []string{"id_rsa*"}, MaxFileSize: 64})
	pe := policyError(t, memory.New(), spec, p)
	assert.Equal(t, []attest.PolicyFinding{
		{Rule: "forbiddenFiles", Message: `"static/keys/id_rsa" matches "id_rsa*"`},
		{Rule: "forbiddenFiles", Message: `"static/keys/id_rsa.pk" matches "id_rsa*"`},
		{Rule: "maxFileSize", Message: `"static/big/video.mp4" is 100 bytes, over the limit of 64`},
	}, pe.Findings)

	// A pattern naming the packed directory itself matches it and all in it.
	pe = policyError(t, memory.New(), spec, mustPolicy(t, build.PolicySpec{ForbiddenFiles: []string{"static/keys"}}))
	assert.Equal(t, []attest.PolicyFinding{
		{Rule: "forbiddenFiles", Message: `"static/keys/id_rsa" is in "static/keys", which matches "static/keys"`},
		{Rule: "forbiddenFiles", Message: `"static/keys/id_rsa.pk" is in "static/keys", which matches "static/keys"`},
	}, pe.Findings)

	b, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	var paths []string
	for _, f := range b.Facts().Files {
		paths = append(paths, f.Path+" "+f.Type)
	}
	assert.Equal(t, []string{"bin/server file", "static tar"}, paths)
}

// TestFacts: what a stored build gives its policy's rules.
func TestFacts(t *testing.T) {
	spec := policySpec()
	spec.Files = append(spec.Files, build.File{Name: "bin/current", Linkname: "server"})
	spec.Builder = "https://example.invalid/ci/7"
	spec.Processes = []build.Process{{Name: "web", Command: "bin/server"}, {Name: "migrate", Command: "bin/server migrate", Admin: true}}
	b, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.Equal(t, build.Facts{
		App:     "shop",
		Digest:  b.Digest().String(),
		Created: fixedTime,
		Source:  build.FactsSource{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9d0b8a7c6e5f4d3c2b1a09f8e7d6c5b4a3"},
		Builder: "https://example.invalid/ci/7",
		Files: []build.FileFacts{
			{Path: "bin/current", Type: "symlink", Mode: 0o777},
			{Path: "bin/server", Type: "file", Size: 23, Mode: 0o755},
			{Path: "config/app.toml", Type: "file", Size: 12, Mode: 0o644},
		},
		Processes: []build.ProcessFacts{{Name: "web", Command: "bin/server"}, {Name: "migrate", Command: "bin/server migrate", Admin: true}},
	}, b.Facts())

	// A stored build checked again against a policy: only the digest
	// differs from what New saw, and the checks are the same.
	p := mustPolicy(t, build.PolicySpec{Rules: []build.Rule{
		{Name: "named", Expr: `build.digest.startsWith("sha256:")`},
		{Name: "admin", Expr: `build.processes.filter(p, p.admin).size() == 1`},
	}})
	assert.Empty(t, p.Check(b.Summary(), b.Facts()))
	f := b.Facts()
	f.Digest = ""
	assert.Equal(t, []string{"named"}, findingRules(p.Check(b.Summary(), f)))
}

// TestFactsOfGoBinaries: module, toolchain and binaries come from the Go
// binaries' build info; with a policy the generated SBOM is what New would
// make without one.
func TestFactsOfGoBinaries(t *testing.T) {
	exe, rev := gobintest.Build(t)
	spec := build.Spec{Files: []build.File{{Name: "bin/tinyapp", Path: exe, Mode: 0o755}}, Created: fixedTime}
	plain, err := build.New(t.Context(), memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	f := plain.Facts()
	require.Len(t, f.Binaries, 1)
	assert.Equal(t, "bin/tinyapp", f.Binaries[0].Path)
	assert.NotEmpty(t, f.Binaries[0].Module)
	assert.Equal(t, f.Binaries[0].Module, f.Module)
	assert.True(t, strings.HasPrefix(f.Toolchain, "go1."), f.Toolchain)
	assert.Equal(t, rev, f.Source.Revision)

	p := mustPolicy(t, build.PolicySpec{RequireSBOM: true, RequireRevision: true, Rules: []build.Rule{
		{Name: "module", Expr: `build.binaries.all(b, b.module == build.module) && build.toolchain.startsWith("go1.")`},
		{Name: "sbom-size", Expr: `summary.sbom.components >= 2`},
	}})
	layout, err := build.OpenLayout(t.Context(), t.TempDir())
	require.NoError(t, err)
	b, err := build.New(t.Context(), layout, "shop", spec, build.Options{Policy: p})
	require.NoError(t, err)
	assert.Equal(t, plain.Summary().SBOM, b.Summary().SBOM, "the same SBOM, made before the binary was stored")
	assert.Equal(t, plain.Layers(), b.Layers())
	assert.Equal(t, &attest.PolicyResult{Digest: p.Digest().String(), Pass: true}, b.Summary().Policy)
}

// TestPolicyCEL: rules over summary and over build, each passing and
// failing; a rule that cannot be evaluated is a finding.
func TestPolicyCEL(t *testing.T) {
	p := mustPolicy(t, build.PolicySpec{Rules: []build.Rule{
		{Name: "no-critical", Expr: `summary.vulnerabilities.open.critical == 0`, Message: "no open critical vulnerability"},
		{Name: "no-shell", Expr: `!build.files.exists(f, f.path.endsWith('.sh'))`, Message: "shell scripts are not shipped"},
		{Name: "tenth-file", Expr: `build.files[9].size < 100`},
		{Name: "recent", Expr: `build.created >= timestamp("2026-01-01T00:00:00Z")`},
	}})
	spec := policySpec()
	spec.Scans = []build.Scan{{Path: testTrivy}}
	spec.Files = append(spec.Files, build.File{Name: "run.sh", Reader: strings.NewReader("#!/bin/sh\n")})
	pe := policyError(t, memory.New(), spec, p)
	require.Len(t, pe.Findings, 3)
	assert.Equal(t, attest.PolicyFinding{Rule: "no-critical", Message: "no open critical vulnerability"}, pe.Findings[0])
	assert.Equal(t, attest.PolicyFinding{Rule: "no-shell", Message: "shell scripts are not shipped"}, pe.Findings[1])
	assert.Equal(t, "tenth-file", pe.Findings[2].Rule)
	assert.Equal(t, "cannot evaluate: index out of bounds: 9", pe.Findings[2].Message, "fails closed")

	// Pure: Check says the same of a summary and facts made by hand.
	findings := p.Check(attest.Summary{}, build.Facts{Created: fixedTime, Files: make([]build.FileFacts, 10)})
	assert.Empty(t, findings)
	findings = p.Check(attest.Summary{}, build.Facts{Files: []build.FileFacts{{Path: "x.sh"}}})
	assert.Equal(t, []string{"no-shell", "tenth-file", "recent"}, findingRules(findings))
	assert.Equal(t, `rule not satisfied: build.created >= timestamp("2026-01-01T00:00:00Z")`, findings[2].Message)
}

// TestPolicyInvalid: every problem of a policy is reported, each naming the
// field or the rule and where in it, and wrapping ErrInvalidPolicy.
func TestPolicyInvalid(t *testing.T) {
	_, err := build.NewPolicy(build.PolicySpec{
		FailOn:         "severe",
		ForbiddenFiles: []string{"[a", "/etc/passwd", "**/*.pem", "", "dir/"},
		MaxFileSize:    -1,
		Rules: []build.Rule{
			{Name: "ok", Expr: "true"},
			{Name: "typo", Expr: "build.fles.size() > 0"},
			{Name: "requireSBOM", Expr: "true"},
			{Name: "two-lines", Expr: "build.app == 'shop' &&\n  summary.sbom.components > 'x'"},
			{Name: "not-bool", Expr: "build.files.size()"},
			{Name: "ok", Expr: "true"},
		},
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, build.ErrInvalidPolicy)
	msg := err.Error()
	for _, want := range []string{
		`build: failOn "severe": invalid policy: want critical, high, medium, low or unknown`,
		`build: forbiddenFiles[0] "[a": invalid policy: syntax error in pattern`,
		`build: forbiddenFiles[1] "/etc/passwd": invalid policy: a pattern is matched against relative paths`,
		`build: forbiddenFiles[2] "**/*.pem": invalid policy: path.Match has no "**"`,
		`build: forbiddenFiles[3] "": invalid policy: empty pattern`,
		`build: forbiddenFiles[4] "dir/": invalid policy`,
		`build: maxFileSize: invalid policy: negative: -1`,
		`build: rules[1] "typo" at 1:6: invalid policy: undefined field 'fles'`,
		`build: rules[2] "requireSBOM": invalid policy: the name of a typed rule`,
		`build: rules[3] "two-lines" at 2:27: invalid policy: found no matching overload for '_>_'`,
		`build: rules[4] "not-bool" at 1:1: invalid policy: expression is of type int, want bool`,
		`build: rules[5] "ok": invalid policy: another rule has this name`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "rules[0]")

	// Severity words that ParseSeverity maps onto the scale are refused
	// unless they are the scale's own, so that "none" never means "low".
	for _, word := range []string{"none", "moderate", "High", "negligible"} {
		_, err := build.NewPolicy(build.PolicySpec{FailOn: attest.Severity(word)})
		assert.ErrorIs(t, err, build.ErrInvalidPolicy, word)
	}
	for _, s := range attest.Severities {
		_, err := build.NewPolicy(build.PolicySpec{FailOn: s})
		assert.NoError(t, err, s)
	}
}

// TestParsePolicy: strict JSON, errors with file, line and column; the
// digest is that of the spec, whatever the layout.
func TestParsePolicy(t *testing.T) {
	compact := `{"failOn":"high","forbiddenFiles":[".env"],"rules":[{"name":"no-shell","expr":"!build.files.exists(f, f.path.endsWith('.sh'))"}]}`
	laidOut := "{\n  \"rules\": [\n    {\n      \"expr\": \"!build.files.exists(f, f.path.endsWith('.sh'))\",\n      \"name\": \"no-shell\"\n    }\n  ],\n  \"forbiddenFiles\": [ \".env\" ],\n  \"failOn\": \"high\",\n  \"requireSBOM\": false\n}\n"
	a, err := build.ParsePolicy([]byte(compact), "a.json")
	require.NoError(t, err)
	b, err := build.ParsePolicy([]byte(laidOut), "b.json")
	require.NoError(t, err)
	assert.Equal(t, a.Digest(), b.Digest(), "same spec, same digest")
	assert.Equal(t, a.Spec(), b.Spec())
	c, err := build.NewPolicy(a.Spec())
	require.NoError(t, err)
	assert.Equal(t, a.Digest(), c.Digest(), "a policy built in Go has the digest of its file")

	changed, err := build.ParsePolicy([]byte(strings.Replace(compact, ".sh", ".bash", 1)), "c.json")
	require.NoError(t, err)
	assert.NotEqual(t, a.Digest(), changed.Digest(), "a changed rule changes the digest")
	messaged, err := build.ParsePolicy([]byte(strings.Replace(compact, `"name":"no-shell",`, `"name":"no-shell","message":"no shell",`, 1)), "d.json")
	require.NoError(t, err)
	assert.NotEqual(t, a.Digest(), messaged.Digest())

	// Spec is a copy.
	spec := a.Spec()
	spec.ForbiddenFiles[0] = "*"
	spec.Rules[0].Expr = "false"
	assert.Equal(t, ".env", a.Spec().ForbiddenFiles[0])
	assert.Equal(t, b.Spec(), a.Spec())

	for _, tc := range []struct{ name, doc, want string }{
		{"unknown field", "{\n  \"failOn\": \"high\",\n  \"failOnn\": \"low\"\n}", `p.json:3:3: invalid policy`},
		{"unknown rule field", "{\"rules\": [\n  {\"name\": \"a\", \"expr\": \"true\", \"msg\": \"x\"}]}", `p.json:2:33: invalid policy`},
		{"field in other case", "{\"failOn\": \"high\", \"RequireSBOM\": true}", `p.json:1:20: invalid policy: unknown field "RequireSBOM" (field names are case-sensitive)`},
		{"wrong type", "{\"maxFileSize\": \"1MB\"}", `p.json:1:21: maxFileSize: invalid policy`},
		{"trailing data", "{} {}", `p.json:1:4: invalid policy: data after the policy object`},
		{"null", " null", `p.json:1:1: invalid policy: want a JSON object`},
		{"not an object", "[]", `p.json:1:1: invalid policy`},
		{"bad value", "{\"failOn\": \"severe\"}", `p.json: failOn "severe": invalid policy`},
		{"compile error", "{\"rules\": [{\"name\": \"x\", \"expr\": \"build.nope\"}]}", `p.json: rules[0] "x" at 1:6: invalid policy: undefined field 'nope'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build.ParsePolicy([]byte(tc.doc), "p.json")
			require.Error(t, err)
			assert.ErrorIs(t, err, build.ErrInvalidPolicy)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "build: "), err.Error())
		})
	}
}

func TestReadPolicyFile(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "policy.json", `{"requireSBOM": true}`)
	p, err := build.ReadPolicyFile(good)
	require.NoError(t, err)
	assert.True(t, p.Spec().RequireSBOM)

	bad := writeFile(t, dir, "bad.json", "{\"rules\": [{\"name\": \"x\", \"expr\": \"build.app ==\"}]}")
	_, err = build.ReadPolicyFile(bad)
	assert.ErrorIs(t, err, build.ErrInvalidPolicy)
	assert.Contains(t, err.Error(), bad+`: rules[0] "x" at 1:`)

	big := writeFile(t, dir, "big.json", "{}"+strings.Repeat(" ", 1<<20))
	_, err = build.ReadPolicyFile(big)
	assert.ErrorIs(t, err, build.ErrInvalidPolicy)
	assert.Contains(t, err.Error(), big)

	_, err = build.ReadPolicyFile(filepath.Join(dir, "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "missing.json")
}

// TestPassingBuildRecordsPolicy: the result is in the record, survives
// Load, and a build with another policy (or none) has another digest.
func TestPassingBuildRecordsPolicy(t *testing.T) {
	ctx := t.Context()
	layout, err := build.OpenLayout(ctx, t.TempDir())
	require.NoError(t, err)
	spec := policySpec()
	spec.SBOM, spec.Scans, spec.VEX = testSBOM, []build.Scan{{Path: testTrivy}}, []string{testVEX}
	p := mustPolicy(t, build.PolicySpec{FailOn: attest.SeverityCritical, Rules: []build.Rule{
		// CVE-2026-1111 is critical and open: allowed by name here, with
		// the typed rule off, to pass.
		{Name: "only-known-critical", Expr: `summary.vulnerabilities.findings.all(f, f.severity != "critical" || f.id == "CVE-2026-1111")`},
	}})
	policyError(t, layout, spec, p) // failOn critical still breaks it
	p = mustPolicy(t, build.PolicySpec{RequireSBOM: true, Rules: p.Spec().Rules})
	b, err := build.New(ctx, layout, "shop", spec, build.Options{Policy: p, Tags: []string{"v1"}})
	require.NoError(t, err)
	want := &attest.PolicyResult{Digest: p.Digest().String(), Pass: true}
	assert.Equal(t, want, b.Summary().Policy)
	rec, _ := b.Record()
	assert.Contains(t, string(rec), `"policy":{"digest":"`+p.Digest().String()+`","pass":true}`)
	loaded, err := build.Load(ctx, layout, "v1")
	require.NoError(t, err)
	assert.Equal(t, want, loaded.Summary().Policy)
	assert.Equal(t, b.Summary(), loaded.Summary())

	plain, err := build.New(ctx, memory.New(), "shop", spec, build.Options{})
	require.NoError(t, err)
	assert.Nil(t, plain.Summary().Policy)
	assert.NotEqual(t, plain.Digest(), b.Digest())
	s := plain.Summary()
	s.Policy = want
	assert.Equal(t, s, b.Summary(), "the policy adds its result and changes nothing else")

	// Without evidence the summary holds the result alone.
	bare, err := build.New(ctx, memory.New(), "shop", policySpec(), build.Options{Policy: mustPolicy(t, build.PolicySpec{RequireRevision: true})})
	require.NoError(t, err)
	assert.Empty(t, bare.Evidence())
	require.NotNil(t, bare.Summary().Policy)
	assert.True(t, bare.Summary().Policy.Pass)
}

// TestLoadRefusesAFailedPolicy: a record that says its build failed its
// policy is not a build New makes.
func TestLoadRefusesAFailedPolicy(t *testing.T) {
	ctx := t.Context()
	store := memory.New()
	p := mustPolicy(t, build.PolicySpec{RequireRevision: true})
	b, err := build.New(ctx, store, "shop", policySpec(), build.Options{Policy: p})
	require.NoError(t, err)
	rec, _ := b.Record()
	var m ocispec.Manifest
	require.NoError(t, json.Unmarshal(b.Manifest(), &m))
	for name, lie := range map[string]string{
		"failed":       strings.Replace(string(rec), `"pass":true`, `"pass":false`, 1),
		"bad digest":   strings.Replace(string(rec), p.Digest().String(), "sha256:nope", 1),
		"with finding": strings.Replace(string(rec), `"pass":true`, `"pass":true,"findings":[{"rule":"x","message":"y"}]`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, string(rec), lie)
			m.Config = pushRaw(t, store, build.MediaType, []byte(lie))
			desc := pushJSON(t, store, ocispec.MediaTypeImageManifest, m)
			require.NoError(t, store.Tag(ctx, desc, "forged"))
			_, err := build.Load(ctx, store, "forged")
			assert.ErrorIs(t, err, build.ErrInvalidRecord)
		})
	}
}
