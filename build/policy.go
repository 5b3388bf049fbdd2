package build

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/canonjson"
	"github.com/slipway-dev/slipway/internal/policy"
)

// The names of a build policy's typed rules, those of their fields in a
// policy file, as in a release policy: the Rule of the
// [attest.PolicyFinding] each reports. [Policy.Check] applies them in this
// order, then the CEL rules in the order of [PolicySpec.Rules].
const (
	RuleVulnerabilities = "failOn"          // PolicySpec.FailOn: one finding per open vulnerability at or above it
	RuleSBOM            = "requireSBOM"     // PolicySpec.RequireSBOM
	RuleClean           = "requireClean"    // PolicySpec.RequireClean
	RuleRevision        = "requireRevision" // PolicySpec.RequireRevision
	RuleForbiddenFiles  = "forbiddenFiles"  // PolicySpec.ForbiddenFiles: one finding per file
	RuleMaxFileSize     = "maxFileSize"     // PolicySpec.MaxFileSize: one finding per file
)

var typedRules = []string{RuleVulnerabilities, RuleSBOM, RuleClean, RuleRevision, RuleForbiddenFiles, RuleMaxFileSize}

// Rule is a CEL rule of a build policy: Expr is a bool expression over the
// variables summary ([attest.Summary]) and build ([Facts]), true when the
// rule is satisfied. A rule that cannot be evaluated (an index out of
// range, a cost over the limit) fails, as if false.
type Rule struct {
	// Name names the rule in findings: letters, digits and _ . : / -,
	// unique in the policy and none of the typed rules' names.
	Name string `json:"name"`
	// Expr is the CEL expression, e.g.
	// !build.files.exists(f, f.path.endsWith('.sh')).
	Expr string `json:"expr"`
	// Message is the finding's text when Expr is false; if empty, the
	// finding quotes Expr.
	Message string `json:"message,omitempty"`
}

// PolicySpec says what breaks a build; docs/policy.md describes it field
// by field. The zero value breaks nothing. As a file it is a JSON object
// with these fields' json names, unknown fields refused ([ParsePolicy]).
type PolicySpec struct {
	// FailOn breaks the build on each open vulnerability (after VEX) of
	// this severity or a more severe one: critical, high, medium, low or
	// unknown, the bottom of the scale, so that "unknown" breaks on every
	// open vulnerability. If empty, vulnerabilities break nothing. A build
	// without scans has no open vulnerabilities.
	FailOn attest.Severity `json:"failOn,omitempty"`
	// RequireSBOM breaks a build that has no SBOM, given or generated.
	RequireSBOM bool `json:"requireSBOM,omitempty"`
	// RequireClean breaks a build of a source tree with uncommitted
	// changes (Source.Dirty, or a Go binary stamped vcs.modified).
	RequireClean bool `json:"requireClean,omitempty"`
	// RequireRevision breaks a build that records no source revision.
	RequireRevision bool `json:"requireRevision,omitempty"`
	// ForbiddenFiles are path.Match patterns of files the build must not
	// hold. A pattern without "/" is matched against the base name of each
	// file and of each directory a file is in ("*.pem", ".env", ".git");
	// one with "/" against the whole slash-separated path of each file and
	// of each directory a file is in ("config/*.key", "secrets"). Files in
	// packed directories are checked too while New makes the build.
	ForbiddenFiles []string `json:"forbiddenFiles,omitempty"`
	// MaxFileSize is the largest regular file the build may hold, in
	// bytes, files in packed directories included; 0 means no limit. The
	// compressed layer of a packed directory is not a file: its members
	// are checked instead.
	MaxFileSize int64 `json:"maxFileSize,omitempty"`
	// Rules are CEL rules, checked after the typed ones, in this order.
	Rules []Rule `json:"rules,omitempty"`
}

// Policy is a validated, compiled build policy: give it to [New] in
// [Options.Policy] and a build that breaks it is not stored. It is
// immutable and safe for concurrent use. Make one with [NewPolicy],
// [ParsePolicy] or [ReadPolicyFile].
type Policy struct {
	spec   PolicySpec
	digest digest.Digest
	prg    *policy.Program
}

// policyEnv declares the variables of build policy rules, once.
var policyEnv = sync.OnceValues(func() (*policy.Env, error) {
	return policy.NewEnv(policy.Var{Name: "summary", Of: attest.Summary{}}, policy.Var{Name: "build", Of: Facts{}})
})

// NewPolicy checks spec and compiles its CEL rules. Every problem is
// reported, joined, each wrapping [ErrInvalidPolicy] and naming the field
// (failOn, forbiddenFiles[2], maxFileSize) or the rule by index and name,
// with the line and column in its expression of a compile error (a
// [*policy.CompileError] from internal/policy, which errors.As finds).
// FailOn must be one of the five severities exactly, in lowercase; a
// pattern must be valid for path.Match, relative, not end in "/" and not
// hold "**" (path.Match has no recursive wildcard: a pattern without "/"
// already matches at any depth).
func NewPolicy(spec PolicySpec) (*Policy, error) {
	return newPolicy(spec, "")
}

// ParsePolicy reads a policy file: one JSON object whose fields are those
// of [PolicySpec] by their json names. Unknown fields, trailing data and
// documents over 1 MiB are refused with an error naming source and the
// line and column. It then checks and compiles the policy as [NewPolicy]
// does; those errors name source too.
func ParsePolicy(data []byte, source string) (*Policy, error) {
	var spec PolicySpec
	if err := policy.Decode(data, source, &spec); err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	return newPolicy(spec, source)
}

// ReadPolicyFile reads and parses the policy file at name, at most 1 MiB;
// its errors name the file.
func ReadPolicyFile(name string) (*Policy, error) {
	data, err := policy.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	return ParsePolicy(data, name)
}

func orPolicyName(source string) string {
	if source == "" {
		return "policy"
	}
	return source
}

func newPolicy(spec PolicySpec, source string) (*Policy, error) {
	spec = cloneSpec(spec)
	if len(spec.ForbiddenFiles) == 0 {
		spec.ForbiddenFiles = nil // as the digest sees it: left out
	}
	if len(spec.Rules) == 0 {
		spec.Rules = nil
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		where := field
		if source != "" {
			where = source + ": " + field
		}
		errs = append(errs, fmt.Errorf("build: %s: %w: %s", where, ErrInvalidPolicy, fmt.Sprintf(format, args...)))
	}
	if spec.FailOn != "" {
		if sev, err := attest.ParseSeverity(string(spec.FailOn)); err != nil || sev != spec.FailOn {
			bad(fmt.Sprintf("failOn %q", spec.FailOn), "want critical, high, medium, low or unknown")
		}
	}
	for i, p := range spec.ForbiddenFiles {
		field := fmt.Sprintf("forbiddenFiles[%d] %q", i, p)
		if _, err := path.Match(p, ""); err != nil {
			bad(field, "%v", err)
			continue
		}
		switch {
		case p == "":
			bad(field, "empty pattern")
		case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
			bad(field, "a pattern is matched against relative paths without a leading or trailing /")
		case strings.Contains(p, "**"):
			bad(field, `path.Match has no "**": a pattern without "/" such as "*.pem" matches at any depth`)
		}
	}
	if spec.MaxFileSize < 0 {
		bad("maxFileSize", "negative: %d", spec.MaxFileSize)
	}
	rules := make([]policy.Rule, len(spec.Rules))
	for i, r := range spec.Rules {
		rules[i] = policy.Rule(r)
		if slices.Contains(typedRules, r.Name) {
			errs = append(errs, fmt.Errorf("build: %w", &policy.CompileError{Source: source, Index: i, Rule: r.Name, Msg: "the name of a typed rule"}))
		}
	}
	env, err := policyEnv()
	if err != nil {
		return nil, fmt.Errorf("build: policy variables: %w", err)
	}
	prg, err := env.Compile(source, rules)
	if err != nil {
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) && len(joined.Unwrap()) > 0 {
			for _, e := range joined.Unwrap() {
				errs = append(errs, fmt.Errorf("build: %w", e))
			}
		} else {
			errs = append(errs, fmt.Errorf("build: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	canon, err := canonjson.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("build: encode policy: %w", err)
	}
	return &Policy{spec: spec, digest: digest.FromBytes(canon), prg: prg}, nil
}

func cloneSpec(s PolicySpec) PolicySpec {
	s.ForbiddenFiles = slices.Clone(s.ForbiddenFiles)
	s.Rules = slices.Clone(s.Rules)
	return s
}

// Spec returns a copy of the policy's spec, with empty lists as nil.
func (p *Policy) Spec() PolicySpec { return cloneSpec(p.spec) }

// Digest is the SHA-256 digest of the canonical JSON encoding of the
// policy's spec: the same spec has the same digest, however its file is
// laid out. A build that passed records it ([attest.PolicyResult]).
func (p *Policy) Digest() digest.Digest { return p.digest }

// Check applies the policy to a build's summary s and facts f and returns
// every finding, none when the build passes: first the typed rules, in the
// order failOn, requireSBOM, requireClean, requireRevision, forbiddenFiles,
// maxFileSize (the Rule* constants, named for the fields), then the CEL rules in the order of
// the spec. A CEL rule that cannot be evaluated is a finding whose message
// starts "cannot evaluate: ": it never passes. Check does no I/O.
func (p *Policy) Check(s attest.Summary, f Facts) []attest.PolicyFinding {
	if p == nil {
		return nil
	}
	var out []attest.PolicyFinding
	add := func(rule, format string, args ...any) {
		out = append(out, attest.PolicyFinding{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	if p.spec.FailOn != "" && s.Vulnerabilities != nil {
		limit := p.spec.FailOn.Rank()
		for _, v := range s.Vulnerabilities.Findings {
			if v.Severity.Rank() >= limit {
				add(RuleVulnerabilities, "%s", vulnText(v))
			}
		}
	}
	if p.spec.RequireSBOM && s.SBOM == nil {
		add(RuleSBOM, "the build has no SBOM")
	}
	if p.spec.RequireClean && f.Source.Dirty {
		add(RuleClean, "the source tree had uncommitted changes")
	}
	if p.spec.RequireRevision && f.Source.Revision == "" {
		add(RuleRevision, "the build records no source revision")
	}
	out = append(out, p.checkFiles(f)...)
	for _, r := range p.prg.Eval(map[string]any{"summary": s, "build": f}) {
		out = append(out, attest.PolicyFinding{Rule: r.Rule, Message: r.Message})
	}
	return out
}

// checkFiles applies the rules that read only the files' names and sizes.
func (p *Policy) checkFiles(f Facts) []attest.PolicyFinding {
	var out []attest.PolicyFinding
	if len(p.spec.ForbiddenFiles) > 0 {
		for _, file := range f.Files {
			if pattern, dir, ok := forbidden(p.spec.ForbiddenFiles, file.Path); ok {
				msg := fmt.Sprintf("%q matches %q", file.Path, pattern)
				if dir != file.Path {
					msg = fmt.Sprintf("%q is in %q, which matches %q", file.Path, dir, pattern)
				}
				out = append(out, attest.PolicyFinding{Rule: RuleForbiddenFiles, Message: msg})
			}
		}
	}
	if limit := p.spec.MaxFileSize; limit > 0 {
		for _, file := range f.Files {
			if file.Type == string(TypeFile) && file.Size > limit {
				out = append(out, attest.PolicyFinding{Rule: RuleMaxFileSize,
					Message: fmt.Sprintf("%q is %d bytes, over the limit of %d", file.Path, file.Size, limit)})
			}
		}
	}
	return out
}

// forbidden finds the first pattern that matches name or a directory name
// is in, and says which.
func forbidden(patterns []string, name string) (pattern, matched string, ok bool) {
	for _, pat := range patterns {
		whole := strings.Contains(pat, "/")
		for p := name; p != "." && p != "/" && p != ""; p = path.Dir(p) {
			subject := p
			if !whole {
				subject = path.Base(p)
			}
			if ok, _ := path.Match(pat, subject); ok { // patterns are checked by NewPolicy
				return pat, p, true
			}
		}
	}
	return "", "", false
}

// vulnText says which vulnerability is open where: "CVE-2026-1111
// critical in pkg:golang/golang.org/x/net@v0.30.0, installed v0.30.0,
// fixed in 0.31.0".
func vulnText(v attest.Finding) string {
	s := v.ID + " " + string(v.Severity)
	if v.Package != "" {
		s += " in " + v.Package
	}
	if v.Installed != "" {
		s += ", installed " + v.Installed
	}
	if v.Fixed != "" {
		s += ", fixed in " + v.Fixed
	}
	return s
}
