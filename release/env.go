package release

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Redacted is what [Env] shows in place of a secret value.
const Redacted = "[redacted]"

// Env is the environment of an opened release's processes: the config's
// plain variables and its secret references as a [config.Resolver]
// resolved them. Only [Env.Environ] and [Env.Lookup] give secret values;
// every way of printing, encoding or logging an Env (String, fmt's %v, %+v,
// %#v, %s and every other verb, json.Marshal, encoding.TextMarshaler,
// slog) shows [Redacted] in their place. In an unexported field of a
// struct, where fmt calls no method, an Env prints as an address, so fmt
// cannot reach its values through reflection either; a tool that reads
// memory can. The zero Env is empty. An Env is immutable and safe for
// concurrent use.
type Env struct {
	// data returns the variables. It is a function, not the data or a
	// pointer to it: fmt prints a function as an address, whatever the
	// verb, and never calls it, so a struct holding an Env in an
	// unexported field prints no value.
	data func() *envData
}

type envData struct {
	names  []string // sorted
	values map[string]string
	secret map[string]bool
}

// newEnv makes the Env of values, where the names in secrets are secret.
func newEnv(values map[string]string, secrets []string) Env {
	d := &envData{values: maps.Clone(values), secret: make(map[string]bool, len(secrets))}
	for _, name := range secrets {
		d.secret[name] = true
	}
	d.names = slices.Sorted(maps.Keys(d.values))
	return Env{data: func() *envData { return d }}
}

// d returns the variables, or nil for the zero Env.
func (e Env) d() *envData {
	if e.data == nil {
		return nil
	}
	return e.data()
}

// Environ returns the variables as NAME=VALUE, sorted by name, secret
// values included: for [exec.Cmd.Env] only. Never print or log it.
func (e Env) Environ() []string {
	d := e.d()
	if d == nil {
		return []string{}
	}
	out := make([]string, len(d.names))
	for i, name := range d.names {
		out[i] = name + "=" + d.values[name]
	}
	return out
}

// Names returns the names of the variables, plain and secret, sorted.
func (e Env) Names() []string {
	d := e.d()
	if d == nil {
		return []string{}
	}
	return slices.Clone(d.names)
}

// Lookup returns the value of the variable name, a secret one included,
// and whether it is set.
func (e Env) Lookup(name string) (string, bool) {
	d := e.d()
	if d == nil {
		return "", false
	}
	v, ok := d.values[name]
	return v, ok
}

// IsSecret reports whether name is a variable whose value came from a
// secret reference.
func (e Env) IsSecret(name string) bool {
	d := e.d()
	return d != nil && d.secret[name]
}

// shown is the value of name as Env prints it.
func (d *envData) shown(name string) string {
	if d.secret[name] {
		return Redacted
	}
	return d.values[name]
}

// String returns the variables as NAME=VALUE, sorted by name and separated
// by spaces, each secret value as [Redacted]. A value that is empty or
// holds spaces, quotes, '=' or characters that do not print is quoted.
func (e Env) String() string {
	d := e.d()
	if d == nil {
		return ""
	}
	var b strings.Builder
	for i, name := range d.names {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(name)
		b.WriteByte('=')
		v := d.shown(name)
		if d.secret[name] || !needsQuote(v) {
			b.WriteString(v)
		} else {
			b.WriteString(strconv.Quote(v))
		}
	}
	return b.String()
}

func needsQuote(s string) bool {
	return s == "" || strings.ContainsFunc(s, func(r rune) bool {
		return r == '"' || r == '=' || r == '\\' || unicode.IsSpace(r) || !unicode.IsPrint(r)
	})
}

// GoString returns the variables as a Go-like map literal, each secret
// value as [Redacted]: what %#v prints.
func (e Env) GoString() string {
	var b strings.Builder
	b.WriteString("release.Env{")
	if d := e.d(); d != nil {
		for i, name := range d.names {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q:%q", name, d.shown(name))
		}
	}
	b.WriteString("}")
	return b.String()
}

// Format implements [fmt.Formatter], so that no verb prints a secret
// value: %v, %+v and %s print [Env.String], %#v [Env.GoString], %q the
// quoted String, and any other verb the String marked as a bad verb.
func (e Env) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		if f.Flag('#') {
			io.WriteString(f, e.GoString())
			return
		}
		io.WriteString(f, e.String())
	case 's':
		io.WriteString(f, e.String())
	case 'q':
		io.WriteString(f, strconv.Quote(e.String()))
	default:
		fmt.Fprintf(f, "%%!%c(release.Env=%s)", verb, e.String())
	}
}

// MarshalJSON encodes the variables as a JSON object, name to value, each
// secret value as [Redacted].
func (e Env) MarshalJSON() ([]byte, error) {
	out := make(map[string]string)
	if d := e.d(); d != nil {
		for _, name := range d.names {
			out[name] = d.shown(name)
		}
	}
	return json.Marshal(out)
}

// MarshalText encodes the variables as [Env.String] does, for encoders
// that use [encoding.TextMarshaler].
func (e Env) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// LogValue implements [slog.LogValuer]: a group of the variables, each
// secret value as [Redacted].
func (e Env) LogValue() slog.Value {
	d := e.d()
	if d == nil {
		return slog.GroupValue()
	}
	attrs := make([]slog.Attr, len(d.names))
	for i, name := range d.names {
		attrs[i] = slog.String(name, d.shown(name))
	}
	return slog.GroupValue(attrs...)
}
