package build_test

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/doctest"
)

// docBuild is the example build of docs/policy.md ("The example build").
func docBuild() build.Spec {
	return build.Spec{
		Files: []build.File{
			{Name: "bin/server", Reader: strings.NewReader(strings.Repeat("\x00", 2_500_000)), Mode: 0o755},
			{Name: "config/.env", Reader: strings.NewReader("TOKEN=abc\n")},
			{Name: "config/app.toml", Reader: strings.NewReader("port = 8080\n")},
			{Name: "public/index.html", Reader: strings.NewReader("<h1>shop</h1>\n")},
			{Name: "run.sh", Reader: strings.NewReader("#!/bin/sh\nexec bin/server\n"), Mode: 0o755},
		},
		Source:    build.Source{Repository: "https://github.com/acme/shop", Dirty: true},
		Processes: []build.Process{{Name: "web", Command: "bin/server"}, {Name: "migrate", Command: "bin/server migrate", Admin: true}},
		Scans:     []build.Scan{{Path: testTrivy}},
		VEX:       []string{testVEX},
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// docOutcome is what docs/policy.md shows after a policy: "pass", or one
// "[rule] message" line per finding.
func docOutcome(t *testing.T, p *build.Policy) string {
	t.Helper()
	_, err := build.New(t.Context(), memory.New(), "shop", docBuild(), build.Options{Policy: p})
	if err == nil {
		return "pass\n"
	}
	var pe *build.PolicyError
	require.ErrorAs(t, err, &pe)
	var out strings.Builder
	for _, f := range pe.Findings {
		fmt.Fprintf(&out, "[%s] %s\n", f.Rule, f.Message)
	}
	return out.String()
}

// TestPolicyDoc checks docs/policy.md: each policy of the page, applied to
// its example build, finds what the page shows after it, or fails to load
// with the errors it shows; the example build is as the page describes
// it; every variable field the page names exists; the CLI output shown is
// that of the first policy.
func TestPolicyDoc(t *testing.T) {
	raw, err := os.ReadFile("../docs/policy.md")
	require.NoError(t, err)
	doc := string(raw)
	blocks := doctest.Blocks(t, doc, "build-policy")
	buildPart, _, ok := strings.Cut(doc, "\n## Release policy")
	require.True(t, ok, "the page has a release policy section after the build policy's")
	assert.Equal(t, strings.Count(buildPart, "```json\n"), len(blocks), "every JSON block of the build policy's sections follows a build-policy marker")

	for _, b := range blocks {
		t.Run(b.Name, func(t *testing.T) {
			p, err := build.ParsePolicy([]byte(b.Body), "build-policy.json")
			if err != nil {
				assert.ErrorIs(t, err, build.ErrInvalidPolicy)
				assert.Equal(t, b.Next, err.Error()+"\n", "line %d: the errors the page shows", b.Line)
				return
			}
			assert.Equal(t, b.Next, docOutcome(t, p), "line %d: the findings the page shows", b.Line)
		})
	}

	t.Run("example build", func(t *testing.T) {
		b, err := build.New(t.Context(), memory.New(), "shop", docBuild(), build.Options{})
		require.NoError(t, err)
		for _, f := range b.Facts().Files {
			row := fmt.Sprintf("| `%s` | %s | %s | `%04o` |", f.Path, f.Type, sizeText(f.Size), f.Mode)
			docSays(t, doc, row)
		}
		v := b.Summary().Vulnerabilities
		require.NotNil(t, v)
		assert.Equal(t, attest.Counts{Critical: 1, Medium: 1}, v.Open)
		assert.Nil(t, b.Summary().SBOM)
	})

	t.Run("variables", func(t *testing.T) {
		// Every summary.… and build.… path the page names is a field:
		// an expression over it compiles.
		paths := regexp.MustCompile("`((?:summary|build)(?:\\.[a-z][A-Za-z]*)+)`").FindAllStringSubmatch(doc, -1)
		require.NotEmpty(t, paths)
		for _, m := range paths {
			_, err := build.NewPolicy(build.PolicySpec{Rules: []build.Rule{{Name: "field", Expr: m[1] + " == " + m[1]}}})
			assert.NoError(t, err, m[1])
		}
		// And every field of Facts is named.
		var walk func(prefix string, t reflect.Type)
		walk = func(prefix string, typ reflect.Type) {
			for i := range typ.NumField() {
				name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
				ft := typ.Field(i).Type
				switch {
				case ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]():
					walk(prefix+name+".", ft)
				case ft.Kind() == reflect.Slice:
					docSays(t, doc, "`"+prefix+name+"`")
					var fields []string
					for j := range ft.Elem().NumField() {
						n, _, _ := strings.Cut(ft.Elem().Field(j).Tag.Get("json"), ",")
						fields = append(fields, n)
					}
					docSays(t, doc, "`{"+strings.Join(fields, ", ")+"}`")
				default:
					docSays(t, doc, "`"+prefix+name+"`")
				}
			}
		}
		walk("build.", reflect.TypeFor[build.Facts]())
		for _, r := range []string{build.RuleVulnerabilities, build.RuleSBOM, build.RuleClean, build.RuleRevision, build.RuleForbiddenFiles, build.RuleMaxFileSize} {
			docSays(t, doc, "| `"+r+"` |")
		}
	})

	t.Run("CLI", func(t *testing.T) {
		p, err := build.ParsePolicy([]byte(blocks[0].Body), "build-policy.json")
		require.NoError(t, err)
		findings := docOutcome(t, p)
		out := fmt.Sprintf("Build policy build-policy.json (%s) failed: %d findings\n", p.Digest(), strings.Count(findings, "\n"))
		for l := range strings.Lines(findings) {
			out += "  " + l
		}
		docSays(t, doc, "```text\n"+out+"```")
	})
}

// docSays is assert.Contains without printing the whole page.
func docSays(t *testing.T, doc, s string) {
	t.Helper()
	if !strings.Contains(doc, s) {
		assert.Fail(t, "docs/policy.md does not say "+strconv.Quote(s))
	}
}

// sizeText is a size as docs/policy.md writes it.
func sizeText(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s + " bytes"
}
