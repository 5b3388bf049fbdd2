package config

import (
	"errors"
	"fmt"
)

// Errors a caller may branch on with [errors.Is]. Errors about one
// variable come wrapped in a [*VarError] that names it.
var (
	// ErrInvalidName: an app, environment or variable name is missing or
	// breaks the naming rules.
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidConfig: a config document is malformed: bad JSON, an
	// unknown or duplicate field, a value that is not a string, a value
	// that is not valid UTF-8 or holds a NUL byte, a variable both plain
	// and secret, a stored form that is not canonical, or a size limit
	// exceeded.
	ErrInvalidConfig = errors.New("invalid config")
	// ErrInvalidReference: a secret reference is not an absolute URI with
	// a lowercase scheme, or it carries credentials or looks like a secret
	// value itself.
	ErrInvalidReference = errors.New("invalid secret reference")
	// ErrPlaintextSecret: a plain variable looks like a secret value, by
	// its name or by the shape of its value. The error names the variable
	// and the rule, never the value.
	ErrPlaintextSecret = errors.New("plaintext secret")
	// ErrMediaType: a stored blob is not a config of a format version this
	// reader knows.
	ErrMediaType = errors.New("wrong media type")
	// ErrUnresolved: a secret reference could not be resolved. The error
	// is a [*ResolveError] naming the reference.
	ErrUnresolved = errors.New("secret reference not resolved")
)

// VarError records a failure about one variable of a config.
type VarError struct {
	Name string // the variable; a name that may be a secret value itself, a note of its length
	Rule string // for ErrPlaintextSecret, the rule that matched
	Err  error  // the cause, one of the Err values of this package
}

// Error names the variable, the failure and, for ErrPlaintextSecret, the
// rule, as in "DB_PASSWORD": plaintext secret (rule name-password).
func (e *VarError) Error() string {
	if e.Rule != "" {
		return fmt.Sprintf("%q: %v (rule %s)", e.Name, e.Err, e.Rule)
	}
	return fmt.Sprintf("%q: %v", e.Name, e.Err)
}

// Unwrap returns the cause.
func (e *VarError) Unwrap() error { return e.Err }

// ResolveError records a secret reference that could not be resolved. The
// resolvers of this package return it, and [Config.Resolve] returns one per
// variable that failed, with Name set. It never holds a resolved value.
type ResolveError struct {
	Name string // the variable, when known
	Ref  string // the reference; a note in its place if it is invalid and so may hold credentials
	Err  error  // wraps ErrUnresolved, and the cause: ErrInvalidReference, a file or context error
}

// Error names the variable, if known, and the reference, as in
// config: resolve "DB_PASSWORD" (env://DB_PASS): secret reference not
// resolved: environment variable DB_PASS is not set.
func (e *ResolveError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("config: resolve %q (%s): %v", e.Name, e.Ref, e.Err)
	}
	return fmt.Sprintf("config: resolve %s: %v", e.Ref, e.Err)
}

// Unwrap returns the cause.
func (e *ResolveError) Unwrap() error { return e.Err }
