// Package doctest reads the examples of the pages under docs/ for tests
// that check those pages against what the code writes.
package doctest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// JSONBlock returns the JSON code block that follows the marker
// <!-- name --> in doc, compacted; it fails t if there is none.
func JSONBlock(t testing.TB, doc, name string) []byte {
	t.Helper()
	re := regexp.MustCompile("(?s)<!-- " + regexp.QuoteMeta(name) + " -->\\s*```json\\n(.*?)```")
	m := re.FindStringSubmatch(doc)
	require.NotNil(t, m, "the page has no %s block", name)
	var out bytes.Buffer
	require.NoError(t, json.Compact(&out, []byte(m[1])))
	return out.Bytes()
}

// Block is a fenced code block of a page that follows a marker
// <!-- PREFIX:NAME -->.
type Block struct {
	Name string // NAME of the marker
	Line int    // the marker's line, 1-based
	Body string // the block's text, without its fences
	// Next is the text of the page's next fenced code block after this
	// one, whatever its marker, and "" if there is none: where a page
	// shows what its example gives.
	Next string
}

var fenceRE = regexp.MustCompile("(?s)```[A-Za-z]*\\n(.*?)```")

// Blocks returns each fenced code block that directly follows a marker
// <!-- prefix:NAME --> in doc, in page order. It fails t if there is none
// or if a NAME repeats.
func Blocks(t testing.TB, doc, prefix string) []Block {
	t.Helper()
	re := regexp.MustCompile("(?s)<!-- " + regexp.QuoteMeta(prefix) + ":([A-Za-z0-9_.-]+) -->\\n\\s*```[A-Za-z]*\\n(.*?)```")
	var out []Block
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatchIndex(doc, -1) {
		b := Block{Name: doc[m[2]:m[3]], Line: strings.Count(doc[:m[0]], "\n") + 1, Body: doc[m[4]:m[5]]}
		require.False(t, seen[b.Name], "line %d: marker %s:%s repeats", b.Line, prefix, b.Name)
		seen[b.Name] = true
		if next := fenceRE.FindStringSubmatch(doc[m[1]:]); next != nil {
			b.Next = next[1]
		}
		out = append(out, b)
	}
	require.NotEmpty(t, out, "the page has no %s: blocks", prefix)
	return out
}
