// Package doctest reads the examples of the pages under docs/ for tests
// that check those pages against what the code writes.
package doctest

import (
	"bytes"
	"encoding/json"
	"regexp"
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
