package attest

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSamePackage(t *testing.T) {
	for _, tc := range []struct {
		a, b       string
		anyVersion bool
		want       bool
	}{
		{"pkg:golang/github.com/foo/bar@v1.2.3", "pkg:golang/github.com%2Ffoo%2Fbar@v1.2.3", false, true},
		{"pkg:golang/github.com/foo/bar@v1.2.3", "pkg:golang/github.com/foo/bar@v1.2.4", false, false},
		{"pkg:golang/github.com/foo/bar@v1.2.3", "pkg:golang/github.com/foo/bar", true, true},
		{"pkg:golang/github.com/foo/bar", "pkg:golang/github.com/foo/bar@v1.2.3", false, false},
		// packageurl-go folds the case of golang purls; a Go build cannot hold
		// two module paths that differ only in case, so nothing is lost.
		{"pkg:golang/github.com/Foo/bar@v1", "pkg:golang/github.com/foo/bar@v1", false, true},
		{"pkg:npm/bar@1", "pkg:golang/bar@1", false, false},
		{"openssl", "openssl", false, true},
		{"openssl", "pkg:deb/debian/openssl", true, false},
	} {
		assert.Equal(t, tc.want, samePackage(tc.a, tc.b, tc.anyVersion), "%s vs %s", tc.a, tc.b)
	}
	assert.Equal(t, "pkg:golang/github.com/foo/bar@v1.2.3%2Bincompatible", golangPURL("github.com/foo/bar", "v1.2.3+incompatible"))
	assert.Equal(t, "pkg:golang/stdlib@v1.26.8", golangPURL("stdlib", "v1.26.8"))
}
