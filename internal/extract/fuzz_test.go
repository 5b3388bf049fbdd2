package extract_test

import (
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slipway-dev/slipway/internal/extract"
)

// FuzzCheckPath checks the checks of entry paths, tar member names and
// link targets against the standard library's idea of a local path: a
// name CheckPath accepts is exactly a valid, clean, local slash path
// without control characters or backslashes; a link CheckLink accepts is
// exactly one whose target, joined to the link's directory, stays inside.
func FuzzCheckPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"bin/server", "server"},
		{"static/css/site.css", "../index.html"},
		{"current", "bin/server"},
		{"a/b/c", "../../x"},
		{"a/b/c", "../../../x"},
		{"../x", "x"},
		{"/etc/passwd", "passwd"},
		{"a//b", "b"},
		{"a/./b", "./b"},
		{"a/", "a"},
		{"a\x00b", "b"},
		{`a\b`, `..\..\x`},
		{".", "."},
		{"lib", "/etc"},
		{"x", ""},
		{"a/b", "c//d/../../.."},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, name, target string) {
		err := extract.CheckPath(name)
		clean := name != "" && len(name) <= extract.MaxPathLen && fs.ValidPath(name) && name != "." &&
			!strings.ContainsFunc(name, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' })
		switch {
		case err == nil && !clean:
			t.Fatalf("CheckPath(%q) accepts a name that is not a clean local path", name)
		case err != nil && clean:
			t.Fatalf("CheckPath(%q) refuses a clean local path: %v", name, err)
		case err != nil && !errors.Is(err, extract.ErrUnsafePath):
			t.Fatalf("CheckPath(%q): %v does not wrap ErrUnsafePath", name, err)
		case err != nil:
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name {
			t.Fatalf("CheckPath(%q) accepts a path that is not local or not clean", name)
		}

		err = extract.CheckLink(name, target)
		okTarget := target != "" && len(target) <= extract.MaxPathLen && !path.IsAbs(target) && utf8.ValidString(target) &&
			!strings.ContainsFunc(target, func(c rune) bool { return c < 0x20 || c == 0x7f || c == '\\' })
		joined := path.Join(path.Dir(name), target)
		inside := okTarget && (joined == "." || fs.ValidPath(joined))
		switch {
		case err == nil && !inside:
			t.Fatalf("CheckLink(%q, %q) accepts a link to %q", name, target, joined)
		case err != nil && inside:
			t.Fatalf("CheckLink(%q, %q) refuses a link to %q, inside: %v", name, target, joined, err)
		case err != nil && !errors.Is(err, extract.ErrUnsafeLink):
			t.Fatalf("CheckLink(%q, %q): %v does not wrap ErrUnsafeLink", name, target, err)
		}
	})
}
