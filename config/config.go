package config

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway-dev/slipway/internal/canonjson"
)

// MediaType is the media type of a stored config: its canonical JSON
// encoding (docs/config.md).
const MediaType = "application/vnd.slipway.config.v1+json"

// Limits on a config.
const (
	// MaxSize is the largest config document, as a file or stored blob.
	MaxSize = 1 << 20
	// MaxValueSize is the largest value of one variable or reference.
	MaxValueSize = 64 << 10
	maxNameLen   = 63
	maxVarLen    = 256
)

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	versionRE = regexp.MustCompile(`-v[0-9]+$`)
	varRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Spec is what a config holds besides its app and environment. Maps may be
// nil.
type Spec struct {
	// Env holds the plain variables, name to value. A value that looks
	// like a secret is refused unless its name is in
	// Options.AllowPlaintext.
	Env map[string]string
	// Secrets holds the secret references, name to URI such as
	// vault://kv/shop/prod#db_password, env://NAME or file:///run/secret.
	// They are resolved only when a release runs, by a [Resolver].
	Secrets map[string]string
}

// Options are the optional settings of [New], [Parse] and [ReadFile]. The
// zero value is ready to use and refuses every plaintext secret.
type Options struct {
	// AllowPlaintext names plain variables whose values may match a
	// plaintext-secret rule: the escape hatch for false positives. Each
	// allowed match is still reported by [Config.Findings], and so in the
	// security summary of every release that uses the config.
	AllowPlaintext []string
}

// Finding is a plain variable that matched a plaintext-secret rule and was
// admitted: by Options.AllowPlaintext, or, in a decoded config, when the
// config was made.
type Finding struct {
	Name string // the variable
	Rule string // the rule it matched, as docs/config.md lists them
}

// Config is one deploy's configuration: app, environment, plain variables
// and secret references, never secret values. It is immutable and safe for
// concurrent use; its identity is the digest of its canonical JSON
// encoding. Make one with [New], [Parse], [ReadFile] or [Decode].
type Config struct {
	app, env string
	vars     map[string]string
	secrets  map[string]string
	findings []Finding
	allow    []string
	raw      []byte
	desc     ocispec.Descriptor
}

// document is the JSON form of a config, as a file and as a stored blob.
type document struct {
	App         string            `json:"app"`
	Environment string            `json:"environment"`
	Env         map[string]string `json:"env,omitempty"`
	Secrets     map[string]string `json:"secrets,omitempty"`
}

// New makes the config of app in environment. It checks the names, that
// every secret reference is an absolute URI without credentials, that no
// variable is both plain and secret, and that no plain variable looks like
// a plaintext secret (docs/config.md lists the rules). Every problem is
// reported, joined, each naming its variable and never its value.
func New(app, environment string, spec Spec, opts Options) (*Config, error) {
	c, err := newConfig(app, environment, spec, opts)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

// newConfig is New without the package prefix on its error.
func newConfig(app, environment string, spec Spec, opts Options) (*Config, error) {
	return build(document{App: app, Environment: environment, Env: spec.Env, Secrets: spec.Secrets}, opts.AllowPlaintext, true)
}

// Decode reads a stored config blob: the canonical JSON encoding that
// [Config.Bytes] returns. It checks syntax, names and references like New,
// but does not refuse values that match a plaintext-secret rule: it reports
// them as [Config.Findings], since the allow-list that admitted them is not
// part of the config. The With methods of a decoded config admit the
// variables of its findings again, as that allow-list did.
func Decode(data []byte) (*Config, error) {
	doc, err := parseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("config: %w: %w", ErrInvalidConfig, err)
	}
	c, err := build(doc, nil, false)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if !bytes.Equal(c.raw, data) {
		return nil, fmt.Errorf("config: %w: not the canonical encoding (%d bytes re-encode to %d)", ErrInvalidConfig, len(data), len(c.raw))
	}
	for _, f := range c.findings {
		c.allow = append(c.allow, f.Name)
	}
	return c, nil
}

// build checks doc and makes its Config. With refuse, plain variables that
// look like secrets and are not in allow are errors; without, findings.
func build(doc document, allow []string, refuse bool) (*Config, error) {
	var errs []error
	if err := checkName("app", doc.App); err != nil {
		errs = append(errs, err)
	}
	if err := checkName("environment", doc.Environment); err != nil {
		errs = append(errs, err)
	} else if versionRE.MatchString(doc.Environment) {
		errs = append(errs, fmt.Errorf("%w: environment %q ends like a version tag (-vN)", ErrInvalidName, doc.Environment))
	}
	c := &Config{
		app:     doc.App,
		env:     doc.Environment,
		vars:    maps.Clone(doc.Env),
		secrets: maps.Clone(doc.Secrets),
		allow:   slices.Clone(allow),
	}
	for _, name := range slices.Sorted(maps.Keys(c.vars)) {
		value := c.vars[name]
		if err := checkVar(name, value); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := c.secrets[name]; dup {
			errs = append(errs, &VarError{Name: name, Err: fmt.Errorf("%w: both a plain variable and a secret", ErrInvalidConfig)})
			continue
		}
		rule := detect(name, value)
		switch {
		case rule == "":
		case refuse && !slices.Contains(allow, name):
			errs = append(errs, &VarError{Name: name, Rule: rule, Err: ErrPlaintextSecret})
		default:
			c.findings = append(c.findings, Finding{Name: name, Rule: rule})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.secrets)) {
		ref := c.secrets[name]
		if err := checkVar(name, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := checkReference(ref); err != nil {
			errs = append(errs, &VarError{Name: name, Err: err})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	raw, err := canonjson.Marshal(document{App: c.app, Environment: c.env, Env: c.vars, Secrets: c.secrets})
	if err != nil {
		return nil, err
	}
	if len(raw) > MaxSize {
		return nil, fmt.Errorf("%w: encoding of %d bytes exceeds %d", ErrInvalidConfig, len(raw), MaxSize)
	}
	c.raw = raw
	c.desc = ocispec.Descriptor{MediaType: MediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
	return c, nil
}

func checkName(what, name string) error {
	if len(name) > maxNameLen || !nameRE.MatchString(name) {
		return fmt.Errorf("%w: %s %q: want lowercase letters, digits and inner hyphens, at most %d characters", ErrInvalidName, what, shown(name, maxNameLen), maxNameLen)
	}
	return nil
}

// shown is name as an error may show it: itself, or, if it is longer than
// limit or looks like a secret value, a note of its length. A name in the
// wrong place may be a value (a file with key and value swapped).
func shown(name string, limit int) string {
	if len(name) > limit || detectValue(name) != "" {
		return fmt.Sprintf("(%d bytes, not shown)", len(name))
	}
	return name
}

// checkVar checks a variable's name and the size and bytes of its value
// (or reference); the message never holds the value, nor a name that may
// be one.
func checkVar(name, value string) error {
	if len(name) > maxVarLen || !varRE.MatchString(name) {
		return &VarError{Name: shown(name, maxVarLen), Err: fmt.Errorf("%w: want letters, digits and underscores, not starting with a digit, at most %d characters", ErrInvalidName, maxVarLen)}
	}
	if rule := detectPattern(name); rule != "" {
		return &VarError{Name: shown(name, 0), Rule: rule, Err: fmt.Errorf("%w: the name itself looks like a secret value", ErrPlaintextSecret)}
	}
	if len(value) > MaxValueSize {
		return &VarError{Name: name, Err: fmt.Errorf("%w: value of %d bytes exceeds %d", ErrInvalidConfig, len(value), MaxValueSize)}
	}
	if !utf8.ValidString(value) {
		return &VarError{Name: name, Err: fmt.Errorf("%w: value is not valid UTF-8", ErrInvalidConfig)}
	}
	if strings.IndexByte(value, 0) >= 0 {
		return &VarError{Name: name, Err: fmt.Errorf("%w: value holds a NUL byte", ErrInvalidConfig)}
	}
	return nil
}

// App is the app the config is for.
func (c *Config) App() string { return c.app }

// Environment is the environment the config is for, such as "prod".
func (c *Config) Environment() string { return c.env }

// Env returns a copy of the plain variables.
func (c *Config) Env() map[string]string { return cloneMap(c.vars) }

// Secrets returns a copy of the secret references, name to URI.
func (c *Config) Secrets() map[string]string { return cloneMap(c.secrets) }

// Findings lists, sorted by name, the plain variables that match a
// plaintext-secret rule: those Options.AllowPlaintext admitted, or, for a
// decoded config, every match.
func (c *Config) Findings() []Finding { return slices.Clone(c.findings) }

// Bytes returns the config's canonical JSON encoding: what is stored.
func (c *Config) Bytes() []byte { return bytes.Clone(c.raw) }

// Descriptor describes the stored config blob.
func (c *Config) Descriptor() ocispec.Descriptor { return c.desc }

// Digest is the digest of the config's canonical JSON encoding.
func (c *Config) Digest() digest.Digest { return c.desc.Digest }

// WithVar returns a config equal to c except that the plain variable name
// is set to value (and is no longer a secret, if it was one). The checks of
// New apply, with the allow-list c was made with.
func (c *Config) WithVar(name, value string) (*Config, error) {
	vars, secrets := cloneMap(c.vars), cloneMap(c.secrets)
	vars[name] = value
	delete(secrets, name)
	return New(c.app, c.env, Spec{Env: vars, Secrets: secrets}, Options{AllowPlaintext: c.allow})
}

// WithSecret returns a config equal to c except that name is the secret
// reference ref (and is no longer a plain variable, if it was one). The
// checks of New apply.
func (c *Config) WithSecret(name, ref string) (*Config, error) {
	vars, secrets := cloneMap(c.vars), cloneMap(c.secrets)
	secrets[name] = ref
	delete(vars, name)
	return New(c.app, c.env, Spec{Env: vars, Secrets: secrets}, Options{AllowPlaintext: c.allow})
}

// Without returns a config equal to c without the variable or secret name;
// without either, it returns an equal config.
func (c *Config) Without(name string) (*Config, error) {
	vars, secrets := cloneMap(c.vars), cloneMap(c.secrets)
	delete(vars, name)
	delete(secrets, name)
	return New(c.app, c.env, Spec{Env: vars, Secrets: secrets}, Options{AllowPlaintext: c.allow})
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}
