package build

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/slipway-dev/slipway/internal/extract"
)

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

// resolveLink checks that the link name with target resolves inside the
// tree whose links are links, as the run stage's extractor checks it
// again before writing it (internal/extract).
func resolveLink(links map[string]string, name, target string) error {
	if err := extract.ResolveLink(links, name, target); err != nil {
		return fmt.Errorf("%w: %s", ErrLinkEscape, strings.TrimPrefix(err.Error(), extract.ErrUnsafeLink.Error()+": "))
	}
	return nil
}
