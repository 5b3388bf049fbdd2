package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Value is the value of one variable as a diff shows it.
type Value struct {
	Text   string // the plain value, or the reference URI if Secret
	Secret bool   // Text is a secret reference, not a value
}

// String renders v as [Change.String] does: a plain value as written, or
// Go-quoted if it is empty or holds spaces, quotes, backslashes or
// unprintable characters, or begins with "secret("; a secret reference as
// secret(URI).
func (v Value) String() string {
	if v.Secret {
		return "secret(" + v.Text + ")"
	}
	if v.Text == "" || strings.HasPrefix(v.Text, "secret(") || strings.ContainsFunc(v.Text, func(r rune) bool {
		return !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '"' || r == '\\'
	}) {
		return strconv.Quote(v.Text)
	}
	return v.Text
}

// ChangeKind says how a variable differs between two configs.
type ChangeKind int

// The kinds of change.
const (
	Added   ChangeKind = iota + 1 // in the new config only
	Removed                       // in the old config only
	Changed                       // in both, with another value or from plain to secret or back
)

// String returns "added", "removed" or "changed".
func (k ChangeKind) String() string {
	switch k {
	case Added:
		return "added"
	case Removed:
		return "removed"
	case Changed:
		return "changed"
	}
	return fmt.Sprintf("ChangeKind(%d)", int(k))
}

// Change is one variable that differs between two configs. Old is the zero
// Value for Added, New for Removed.
type Change struct {
	Name     string
	Kind     ChangeKind
	Old, New Value
}

// String renders c on one line: "+ NAME=new" if Added, "- NAME=old" if
// Removed, "~ NAME: old -> new" if Changed, values as [Value.String]
// renders them. For example:
//
//	~ LOG_LEVEL: info -> debug
//	+ DB_PASSWORD=secret(vault://kv/shop/prod#db_password)
//	- DEBUG=1
func (c Change) String() string {
	switch c.Kind {
	case Added:
		return "+ " + c.Name + "=" + c.New.String()
	case Removed:
		return "- " + c.Name + "=" + c.Old.String()
	}
	return "~ " + c.Name + ": " + c.Old.String() + " -> " + c.New.String()
}

// Diff returns the variables that differ from a to b, sorted by name: those
// only b has (Added), those only a has (Removed), and those whose value
// differs or which moved between plain and secret (Changed). Secret
// references are compared and shown as references; nothing is resolved.
// A nil config has no variables, so Diff(nil, b) lists all of b as added.
//
// Diff compares variables only: the caller compares App and Environment,
// and decides whether configs of different apps may be compared at all.
func Diff(a, b *Config) []Change {
	old, next := values(a), values(b)
	var changes []Change
	for _, name := range slices.Sorted(maps.Keys(old)) {
		v := old[name]
		w, ok := next[name]
		switch {
		case !ok:
			changes = append(changes, Change{Name: name, Kind: Removed, Old: v})
		case v != w:
			changes = append(changes, Change{Name: name, Kind: Changed, Old: v, New: w})
		}
	}
	for name, w := range next {
		if _, ok := old[name]; !ok {
			changes = append(changes, Change{Name: name, Kind: Added, New: w})
		}
	}
	slices.SortFunc(changes, func(x, y Change) int { return strings.Compare(x.Name, y.Name) })
	return changes
}

// values returns the variables of c, plain and secret, by name.
func values(c *Config) map[string]Value {
	m := map[string]Value{}
	if c == nil {
		return m
	}
	for name, text := range c.vars {
		m[name] = Value{Text: text}
	}
	for name, ref := range c.secrets {
		m[name] = Value{Text: ref, Secret: true}
	}
	return m
}
