package depcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rule limits which packages of this module the packages named by pkg may import.
// Paths and patterns are relative to the module path; "x/..." means x and everything
// under it, "..." the whole module.
type rule struct {
	pkg    string   // the packages the rule applies to: "build", "internal/..."
	allow  []string // module packages they may import; empty: none
	deny   []string // exceptions to allow
	direct bool     // check direct imports only; otherwise every non-test dependency
	why    string   // the rule in words, for failure messages
}

// rules is STYLE.md section 3. A new package is one row; a package matched by
// several rows obeys all of them.
var rules = []rule{
	{pkg: "attest", allow: []string{"internal/..."}, why: "attest imports no public package of this module"},
	{pkg: "config", allow: []string{"internal/..."}, why: "config imports no public package of this module"},
	{pkg: "build", allow: []string{"attest", "internal/..."}, why: "build may import only attest and internal/..."},
	{pkg: "release", allow: []string{"build", "config", "attest", "internal/..."},
		why: "release may import only build, config, attest and internal/..."},
	// Direct imports only: the public packages an example uses import internal ones themselves.
	{pkg: "examples/...", allow: []string{"..."}, deny: []string{"internal/..."}, direct: true,
		why: "examples use the public API only, no internal/ package"},
	{pkg: "internal/...", allow: []string{"internal/..."}, why: "internal packages import no public package of this module"},
}

// match reports whether the module-relative path rel is named by pattern.
func match(pattern, rel string) bool {
	if pattern == "..." {
		return true
	}
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == base || strings.HasPrefix(rel, base+"/")
	}
	return rel == pattern
}

// relative returns path relative to the module path mod ("." for the module's root
// package), and false when path is not in the module.
func relative(mod, path string) (string, bool) {
	if path == mod {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, mod+"/")
	return rel, ok
}

// violations returns the packages among imports (full import paths, as go list
// gives them) that r forbids. Packages of other modules are never violations.
func (r rule) violations(mod string, imports []string) []string {
	var bad []string
	for _, imp := range imports {
		rel, ours := relative(mod, imp)
		if !ours {
			continue
		}
		allowed := slices.ContainsFunc(r.allow, func(p string) bool { return match(p, rel) }) &&
			!slices.ContainsFunc(r.deny, func(p string) bool { return match(p, rel) })
		if !allowed {
			bad = append(bad, imp)
		}
	}
	return bad
}

// chain returns a shortest import chain from one package to another, both
// included, through the graph of direct imports; nil if there is none.
func chain(imports map[string][]string, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var path []string
			for ; p != ""; p = prev[p] {
				path = append(path, p)
			}
			slices.Reverse(path)
			return path
		}
		for _, next := range imports[p] {
			if _, seen := prev[next]; !seen {
				prev[next] = p
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// pkg is what the test reads from go list about one package. Imports and Deps
// leave out what only the package's tests import.
type pkg struct {
	ImportPath string
	Imports    []string // direct
	Deps       []string // transitive
}

// goList returns the module path and every package of the module.
func goList(t *testing.T) (string, []pkg) {
	t.Helper()
	run := func(args ...string) []byte {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), "go", args...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "go %s:\n%s", strings.Join(args, " "), stderr.String())
		return out
	}
	mod := strings.TrimSpace(string(run("list", "-m", "-f", "{{.Path}}")))
	require.NotEmpty(t, mod, "go list -m: no module path")

	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(run("list", "-json=ImportPath,Imports,Deps", mod+"/...")))
	for {
		var p pkg
		err := dec.Decode(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "decode go list -json output")
		pkgs = append(pkgs, p)
	}
	require.NotEmpty(t, pkgs, "go list %s/...: no packages", mod)
	return mod, pkgs
}

// TestImports checks every package of the module against every rule that names it.
func TestImports(t *testing.T) {
	mod, pkgs := goList(t)
	graph := make(map[string][]string, len(pkgs))
	for _, p := range pkgs {
		graph[p.ImportPath] = p.Imports
	}

	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			checked := 0
			for _, p := range pkgs {
				rel, _ := relative(mod, p.ImportPath)
				if !match(r.pkg, rel) {
					continue
				}
				checked++
				deps := p.Deps
				if r.direct {
					deps = p.Imports
				}
				for _, bad := range r.violations(mod, deps) {
					if slices.Contains(p.Imports, bad) {
						assert.Failf(t, "import rule broken", "%s imports %s; %s (STYLE.md section 3)",
							p.ImportPath, bad, r.why)
						continue
					}
					path := chain(graph, p.ImportPath, bad)
					for i := range path {
						path[i], _ = relative(mod, path[i])
					}
					assert.Failf(t, "import rule broken", "%s depends on %s (%s); %s (STYLE.md section 3)",
						p.ImportPath, bad, strings.Join(path, " -> "), r.why)
				}
			}
			if checked == 0 {
				t.Skipf("no package %s in %s yet", r.pkg, mod)
			}
		})
	}
}

// TestEveryPackageHasRule makes a new package decide where it sits in the layers.
func TestEveryPackageHasRule(t *testing.T) {
	mod, pkgs := goList(t)
	for _, p := range pkgs {
		rel, _ := relative(mod, p.ImportPath)
		covered := slices.ContainsFunc(rules, func(r rule) bool { return match(r.pkg, rel) })
		assert.Truef(t, covered, "%s matches no row of rules in internal/depcheck/depcheck_test.go: add one", p.ImportPath)
	}
}

// TestRuleViolations feeds the rules made-up import lists, so a checker that
// lets everything through fails here.
func TestRuleViolations(t *testing.T) {
	const mod = "example.com/slip"
	ruleFor := func(pkg string) rule {
		i := slices.IndexFunc(rules, func(r rule) bool { return r.pkg == pkg })
		require.GreaterOrEqual(t, i, 0, "no rule for %s", pkg)
		return rules[i]
	}
	tests := []struct {
		name    string
		rule    string
		imports []string
		want    []string
	}{
		{"config imports build", "config",
			[]string{"fmt", mod + "/build", "oras.land/oras-go/v2"}, []string{mod + "/build"}},
		{"config imports internal", "config", []string{mod + "/internal/canonjson"}, nil},
		{"config imports attest", "config", []string{mod + "/attest"}, []string{mod + "/attest"}},
		{"config imports the module root", "config", []string{mod}, []string{mod}},
		{"attest imports only others", "attest", []string{"fmt", "github.com/sigstore/sigstore/pkg/signature"}, nil},
		{"another module sharing the prefix is not ours", "attest", []string{mod + "-extra/build", mod + "x"}, nil},
		{"build imports attest and internal", "build",
			[]string{mod + "/attest", mod + "/internal/canonjson", mod + "/internal/sde"}, nil},
		{"build imports config and release", "build",
			[]string{mod + "/config", mod + "/attest", mod + "/release"}, []string{mod + "/config", mod + "/release"}},
		{"build imports a package named like internal", "build", []string{mod + "/internalx"}, []string{mod + "/internalx"}},
		{"release imports its layers", "release",
			[]string{mod + "/build", mod + "/config", mod + "/attest", mod + "/internal/sde"}, nil},
		{"release imports examples", "release", []string{mod + "/examples/quickstart"}, []string{mod + "/examples/quickstart"}},
		{"example imports public packages", "examples/...", []string{mod + "/build", mod + "/release", "log"}, nil},
		{"example imports internal", "examples/...",
			[]string{mod + "/build", mod + "/internal/registrytest"}, []string{mod + "/internal/registrytest"}},
		{"internal imports internal", "internal/...", []string{mod + "/internal/canonjson"}, nil},
		{"internal imports build", "internal/...",
			[]string{mod + "/internal/canonjson", mod + "/build"}, []string{mod + "/build"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, ruleFor(tc.rule).violations(mod, tc.imports))
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, rel string
		want         bool
	}{
		{"build", "build", true},
		{"build", "build/sub", false},
		{"build", "buildx", false},
		{"internal/...", "internal", true},
		{"internal/...", "internal/canonjson", true},
		{"internal/...", "internal/a/b", true},
		{"internal/...", "internalx", false},
		{"...", ".", true},
		{"...", "examples/quickstart", true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, match(tc.pattern, tc.rel), "match(%q, %q)", tc.pattern, tc.rel)
	}
}

func TestChain(t *testing.T) {
	graph := map[string][]string{
		"m/build":          {"fmt", "m/internal/a"},
		"m/internal/a":     {"m/internal/b", "m/config"},
		"m/internal/b":     {"m/config"},
		"m/config":         {"strings"},
		"m/examples/hello": {"m/build"},
	}
	assert.Equal(t, []string{"m/build", "m/internal/a", "m/config"}, chain(graph, "m/build", "m/config"))
	assert.Equal(t, []string{"m/config"}, chain(graph, "m/config", "m/config"))
	assert.Nil(t, chain(graph, "m/config", "m/build"))
}
