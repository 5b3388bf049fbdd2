package release

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/canonjson"
	"github.com/slipway-dev/slipway/internal/policy"
)

// Rule is a CEL rule of a release policy: a bool expression over the
// variables summary, release, build, signers and now, true when the rule
// is satisfied. docs/policy.md lists their fields.
type Rule = build.Rule

// PolicySpec is a go / no-go policy as a policy file writes it. Each field
// left zero checks nothing; a policy file is the JSON of this struct, with
// unknown fields rejected. docs/policy.md explains each rule with
// examples.
type PolicySpec struct {
	// MaxOpen limits the open vulnerabilities of each severity (after VEX
	// and the exceptions in Allow), e.g. {"critical": 0, "high": 3}.
	// With a limit set, a release without any scan is no-go: its risk
	// is unknown.
	MaxOpen map[attest.Severity]int `json:"maxOpen,omitempty"`
	// Allow lists open vulnerabilities accepted until a date: they do not
	// count against MaxOpen until they expire.
	Allow []Exception `json:"allow,omitempty"`
	// RequiredSigners must each have signed the release, besides the
	// keys its verification trusts.
	RequiredSigners []Signer `json:"requiredSigners,omitempty"`
	// Builders, if set, lists the provenance builder IDs accepted.
	Builders []string `json:"builders,omitempty"`
	// Sources, if set, lists patterns ([path.Match], so "*" stops at
	// "/") one of which the build's source repository must match, e.g.
	// "https://github.com/acme/*".
	Sources []string `json:"sources,omitempty"`
	// RequireSBOM: the build must carry an SBOM.
	RequireSBOM bool `json:"requireSBOM,omitempty"`
	// RequireClean: the build's source tree must not have been dirty.
	RequireClean bool `json:"requireClean,omitempty"`
	// MaxBuildAge is how old the build may be.
	MaxBuildAge Duration `json:"maxBuildAge,omitempty"`
	// MaxScanAge is how old the newest scan may be. With it set, a
	// release without any scan is no-go.
	MaxScanAge Duration `json:"maxScanAge,omitempty"`
	// Environments, if set, lists the environments the release may be
	// deployed to.
	Environments []string `json:"environments,omitempty"`
	// Rules are CEL rules for what the fields above cannot say.
	Rules []Rule `json:"rules,omitempty"`
}

// Exception accepts one open vulnerability until it expires.
type Exception struct {
	// ID is the vulnerability's ID or one of its aliases.
	ID string `json:"id"`
	// Expires is the last day (YYYY-MM-DD, through the end of that day
	// UTC) or instant (RFC 3339) the exception holds.
	Expires string `json:"expires"`
	// Reason says why it is accepted; it is shown in the decision.
	Reason string `json:"reason,omitempty"`
}

// Signer is a key that must have signed a release.
type Signer struct {
	// Name is shown in findings.
	Name string `json:"name"`
	// PublicKey is the key, PEM ("-----BEGIN PUBLIC KEY-----…").
	PublicKey string `json:"publicKey"`
}

// Duration is a time.Duration written in JSON as a Go duration ("72h",
// "90m") or a number of days ("30d").
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

// UnmarshalJSON reads "30d" or a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("duration: want a string such as \"30d\" or \"72h\", got %s", b)
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("duration %q: want a number of days such as \"30d\"", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want \"30d\" or a Go duration such as \"72h\"", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q: negative", s)
	}
	return v, nil
}

// Policy is a loaded go / no-go policy: checked, its CEL rules compiled,
// its keys parsed. It is immutable and safe for concurrent use.
type Policy struct {
	spec    PolicySpec
	digest  digest.Digest
	prg     *policy.Program
	signers []signerKey
	keys    []signature.Verifier // of signers, in order
	allow   []exception
}

type signerKey struct {
	name string
	id   string
}

type exception struct {
	Exception
	until time.Time
}

// Facts is what a policy's CEL rules know of a release, as the variable
// release; the build is the variable build ([build.Facts]).
type Facts struct {
	App         string    `json:"app"`
	Environment string    `json:"environment"`
	Version     int       `json:"version"`
	Digest      string    `json:"digest"`
	Created     time.Time `json:"created"`
	Rollback    int       `json:"rollback"` // the version this release rolled back to, or 0
	// Vars and Secrets name the config's plain variables and secret
	// references, never their values.
	Vars    []string `json:"vars"`
	Secrets []string `json:"secrets"`
}

// typedRules are the names of the findings of the typed rules: those of
// their fields, and "allow" for the notes about exceptions.
var typedRules = []string{"maxOpen", "allow", "requiredSigners", "builders", "sources", "requireSBOM", "requireClean", "maxBuildAge", "maxScanAge", "environments"}

var releaseEnv = sync.OnceValues(func() (*policy.Env, error) {
	return policy.NewEnv(
		policy.Var{Name: "summary", Of: attest.Summary{}},
		policy.Var{Name: "release", Of: Facts{}},
		policy.Var{Name: "build", Of: build.Facts{}},
		policy.Var{Name: "signers", Of: []string{}},
		policy.Var{Name: "now", Of: time.Time{}},
	)
})

// ErrInvalidPolicy: a policy file or spec is malformed: bad JSON, an
// unknown field, a bad value, or a CEL rule that does not compile.
var ErrInvalidPolicy = policy.ErrInvalid

// NewPolicy checks spec and compiles its rules. Every problem is reported
// at once; each wraps [ErrInvalidPolicy], and a rule that does not
// compile is named with the line and column of the error in its
// expression.
func NewPolicy(spec PolicySpec) (*Policy, error) { return newPolicy(spec, "") }

// ParsePolicy reads a policy file's JSON (at most 1 MiB, unknown fields
// rejected) and loads it as [NewPolicy] does. source names the file in
// errors.
func ParsePolicy(data []byte, source string) (*Policy, error) {
	var spec PolicySpec
	if err := policy.Decode(data, source, &spec); err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	return newPolicy(spec, source)
}

// ReadPolicyFile reads and loads the policy file at name.
func ReadPolicyFile(name string) (*Policy, error) {
	data, err := policy.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	return ParsePolicy(data, name)
}

func newPolicy(spec PolicySpec, source string) (*Policy, error) {
	spec = cloneSpec(spec)
	where := source
	if where == "" {
		where = "policy"
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %w: %s", where, field, ErrInvalidPolicy, fmt.Sprintf(format, args...)))
	}
	p := &Policy{}
	for s, n := range spec.MaxOpen {
		if _, err := attest.ParseSeverity(string(s)); err != nil || string(s) != strings.ToLower(string(s)) {
			bad("maxOpen", "severity %q: want critical, high, medium, low or unknown", s)
		}
		if n < 0 {
			bad("maxOpen."+string(s), "negative limit %d", n)
		}
	}
	for i, a := range spec.Allow {
		field := fmt.Sprintf("allow[%d]", i)
		if strings.TrimSpace(a.ID) == "" {
			bad(field+".id", "empty")
		}
		until, err := parseExpiry(a.Expires)
		if err != nil {
			bad(field+".expires", "%v", err)
		}
		p.allow = append(p.allow, exception{Exception: a, until: until})
	}
	for i, s := range spec.RequiredSigners {
		field := fmt.Sprintf("requiredSigners[%d]", i)
		v, err := attest.LoadPublicKey([]byte(s.PublicKey))
		if err != nil {
			bad(field+".publicKey", "not a PEM public key")
			continue
		}
		pub, err := v.PublicKey()
		if err != nil {
			bad(field+".publicKey", "%v", err)
			continue
		}
		id, err := attest.KeyID(pub)
		if err != nil {
			bad(field+".publicKey", "%v", err)
			continue
		}
		name := s.Name
		if name == "" {
			name = id
		}
		p.signers = append(p.signers, signerKey{name: name, id: id})
		p.keys = append(p.keys, v)
	}
	for i, b := range spec.Builders {
		if strings.TrimSpace(b) == "" {
			bad(fmt.Sprintf("builders[%d]", i), "empty")
		}
	}
	for i, s := range spec.Sources {
		if _, err := path.Match(s, ""); err != nil || s == "" {
			bad(fmt.Sprintf("sources[%d]", i), "pattern %q is malformed", s)
		}
	}
	for i, e := range spec.Environments {
		if strings.TrimSpace(e) == "" {
			bad(fmt.Sprintf("environments[%d]", i), "empty")
		}
	}
	env, err := releaseEnv()
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	rules := make([]policy.Rule, len(spec.Rules))
	for i, r := range spec.Rules {
		rules[i] = policy.Rule(r)
		if slices.Contains(typedRules, r.Name) {
			errs = append(errs, &policy.CompileError{Source: source, Index: i, Rule: r.Name, Msg: "the name of a typed rule"})
		}
	}
	p.prg, err = env.Compile(source, rules)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("release: %w", errors.Join(errs...))
	}
	raw, err := canonjson.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("release: policy: %w", err)
	}
	p.spec, p.digest = spec, digest.FromBytes(raw)
	return p, nil
}

// parseExpiry reads a day (valid through its end, UTC) or an RFC 3339
// instant.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want a date (2026-12-31) or an RFC 3339 time", s)
}

func cloneSpec(s PolicySpec) PolicySpec {
	out := s
	if s.MaxOpen != nil {
		out.MaxOpen = make(map[attest.Severity]int, len(s.MaxOpen))
		for k, v := range s.MaxOpen {
			out.MaxOpen[k] = v
		}
	}
	out.Allow = slices.Clone(s.Allow)
	out.RequiredSigners = slices.Clone(s.RequiredSigners)
	out.Builders = slices.Clone(s.Builders)
	out.Sources = slices.Clone(s.Sources)
	out.Environments = slices.Clone(s.Environments)
	out.Rules = slices.Clone(s.Rules)
	return out
}

// Spec returns a copy of the policy as written.
func (p *Policy) Spec() PolicySpec { return cloneSpec(p.spec) }

// Digest names the policy: the SHA-256 of its spec as canonical JSON, so
// the same rules give the same digest whatever the file's layout.
func (p *Policy) Digest() digest.Digest { return p.digest }

// RequiredKeyIDs returns the key IDs of the policy's required signers.
func (p *Policy) RequiredKeyIDs() []string {
	out := make([]string, len(p.signers))
	for i, s := range p.signers {
		out[i] = s.id
	}
	return out
}
