package extract

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// Limits on names.
const (
	// MaxPathLen is the longest entry path or link target accepted, as
	// build records allow.
	MaxPathLen = 4096
	// maxLinkHops bounds how many links one resolution follows, as the
	// kernel's ELOOP limit does.
	maxLinkHops = 40
)

// CheckPath returns nil if name is a safe entry path: relative,
// slash-separated, valid UTF-8, at most [MaxPathLen] bytes, without empty,
// "." or ".." elements, backslashes, NUL or other control characters. Otherwise it
// returns an error wrapping [ErrUnsafePath] that says why, without
// repeating name. Such a path, joined to any directory, names something
// inside that directory, before links are followed.
func CheckPath(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrUnsafePath)
	case len(name) > MaxPathLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrUnsafePath, MaxPathLen)
	case name[0] == '/':
		return fmt.Errorf("%w: absolute", ErrUnsafePath)
	}
	if c, ok := badChar(name); ok {
		return fmt.Errorf("%w: holds %q", ErrUnsafePath, c)
	}
	for elem := range strings.SplitSeq(name, "/") {
		switch elem {
		case "":
			return fmt.Errorf("%w: an empty element", ErrUnsafePath)
		case ".", "..":
			return fmt.Errorf("%w: a %q element", ErrUnsafePath, elem)
		}
	}
	return nil
}

// badChar returns the first backslash, NUL or other control character in
// s, or a byte that is not valid UTF-8, as utf8.RuneError.
func badChar(s string) (rune, bool) {
	for i, c := range s {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return c, true
		}
		if c == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return c, true
			}
		}
	}
	return 0, false
}

// CheckLink returns nil if a symbolic link at name (a path [CheckPath]
// accepts) with target resolves inside the directory, read lexically from
// name's directory, with no other links present. Otherwise it returns an
// error wrapping [ErrUnsafeLink]. Extract checks each link again with
// every other link of the build followed.
func CheckLink(name, target string) error {
	return resolve(nil, name, target)
}

// checkTarget checks a link target on its own: not empty, not absolute,
// valid UTF-8, no NUL, backslash or control character.
func checkTarget(target string) error {
	switch {
	case target == "":
		return fmt.Errorf("%w: empty target", ErrUnsafeLink)
	case len(target) > MaxPathLen:
		return fmt.Errorf("%w: target longer than %d bytes", ErrUnsafeLink, MaxPathLen)
	case target[0] == '/':
		return fmt.Errorf("%w: target %q is absolute", ErrUnsafeLink, target)
	}
	if c, ok := badChar(target); ok {
		return fmt.Errorf("%w: target holds %q", ErrUnsafeLink, c)
	}
	return nil
}

// ResolveLink returns nil if the symbolic link name with target, in a tree
// whose links are links (path → target), resolves inside the tree: target
// is walked from the directory of name one element at a time, an element
// that is itself one of links replaced by its target (at most a fixed
// number of times). Otherwise it returns an error wrapping
// [ErrUnsafeLink]. The build stage checks a tree's links with it before
// storing them, and Extract before writing them.
func ResolveLink(links map[string]string, name, target string) error {
	return resolve(links, name, target)
}

// resolve walks target from the directory of the link name one element at
// a time, replacing an element that is itself one of links by its target,
// and fails as soon as the walk leaves the root. Elements that are files
// rather than directories are not told apart: the kernel would refuse to
// walk through them, which is safe.
func resolve(links map[string]string, name, target string) error {
	if err := checkTarget(target); err != nil {
		return err
	}
	var stack []string
	if d := path.Dir(name); d != "." {
		stack = strings.Split(d, "/")
	}
	queue := strings.Split(target, "/")
	hops := 0
	for len(queue) > 0 {
		elem := queue[0]
		queue = queue[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				if hops > 0 {
					return fmt.Errorf("%w: target %q leaves the directory through another link", ErrUnsafeLink, target)
				}
				return fmt.Errorf("%w: target %q leaves the directory", ErrUnsafeLink, target)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, elem)
		if len(links) == 0 {
			continue
		}
		next, ok := links[strings.Join(stack, "/")]
		if !ok {
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("%w: target %q: more than %d links deep", ErrUnsafeLink, target, maxLinkHops)
		}
		if err := checkTarget(next); err != nil {
			return fmt.Errorf("%w: through link %q", err, strings.Join(stack, "/"))
		}
		stack = stack[:len(stack)-1]
		queue = append(strings.Split(next, "/"), queue...)
	}
	return nil
}
