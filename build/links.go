package build

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
)

// maxLinkHops bounds how many links one resolution may follow, as the
// kernel's ELOOP limit does.
const maxLinkHops = 40

// checkLinks resolves every symbolic link among entries inside the tree the
// entries describe, following the other links of that tree (never the
// disk), and refuses a link that is absolute or resolves outside the root.
func checkLinks(entries []entryRecord) error {
	links := make(map[string]string)
	for _, e := range entries {
		if e.Type == TypeSymlink {
			links[e.Path] = e.Target
		}
	}
	return checkLinkMap(links)
}

func checkLinkMap(links map[string]string) error {
	for _, name := range slices.Sorted(maps.Keys(links)) { // the first bad link in path order
		if err := resolveLink(links, name, links[name]); err != nil {
			return fileErr(name, err)
		}
	}
	return nil
}

// resolveLink walks target from the directory of name one element at a
// time, replacing any element that is itself a link of the tree by its
// target, and fails as soon as the walk leaves the root.
func resolveLink(links map[string]string, name, target string) error {
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
				return fmt.Errorf("%w: target %q", ErrLinkEscape, target)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, elem)
		next, ok := links[strings.Join(stack, "/")]
		if !ok {
			continue
		}
		if hops++; hops > maxLinkHops {
			return fmt.Errorf("%w: target %q: more than %d links deep", ErrLinkEscape, target, maxLinkHops)
		}
		if err := checkTarget(next); err != nil {
			return err
		}
		stack = stack[:len(stack)-1]
		queue = append(strings.Split(next, "/"), queue...)
	}
	return nil
}

func checkTarget(target string) error {
	if target == "" || len(target) > maxPathLen {
		return fmt.Errorf("%w: target %q: empty or too long", ErrLinkEscape, target)
	}
	if path.IsAbs(target) {
		return fmt.Errorf("%w: target %q is absolute", ErrLinkEscape, target)
	}
	for _, c := range target {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fmt.Errorf("%w: target %q holds %q", ErrLinkEscape, target, c)
		}
	}
	return nil
}
