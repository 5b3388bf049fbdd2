package attest

import (
	"strings"

	packageurl "github.com/package-url/packageurl-go"
)

// pkgID is a package identity as scanners, SBOMs and VEX documents spell
// it: a parsed purl (type, full path, version), or a bare name.
type pkgID struct {
	purl    bool
	typ     string
	path    string // namespace and name joined by '/'
	version string
}

// parsePkg reads s as a purl when it is one, else as a bare name. The
// full path joins namespace and name, so govulncheck's
// "pkg:golang/github.com%2Ffoo%2Fbar@v1" and
// "pkg:golang/github.com/foo/bar@v1" are the same package. Paths are
// compared as packageurl-go parses them (golang purls case-folded, which
// loses nothing: one Go build cannot hold two paths differing in case).
func parsePkg(s string) pkgID {
	if strings.HasPrefix(s, "pkg:") {
		if p, err := packageurl.FromString(s); err == nil {
			path := p.Name
			if p.Namespace != "" {
				path = p.Namespace + "/" + p.Name
			}
			return pkgID{purl: true, typ: strings.ToLower(p.Type), path: path, version: p.Version}
		}
	}
	return pkgID{path: s}
}

// samePackage reports whether a and b name the same package. A version
// missing from either side matches any version when anyVersion is true;
// otherwise versions must be equal.
func samePackage(a, b string, anyVersion bool) bool {
	pa, pb := parsePkg(a), parsePkg(b)
	if pa.purl != pb.purl || pa.typ != pb.typ || pa.path != pb.path {
		return false
	}
	if anyVersion && (pa.version == "" || pb.version == "") {
		return true
	}
	return pa.version == pb.version
}

// golangPURL returns the purl of a Go module at a version:
// pkg:golang/<module path>@<version>, the version left off when empty.
func golangPURL(module, version string) string {
	ns, name := "", module
	if i := strings.LastIndexByte(module, '/'); i >= 0 {
		ns, name = module[:i], module[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

// GoPURL returns the purl of a Go module at a version,
// pkg:golang/<module path>@<version>, with no version when version is
// empty.
func GoPURL(module, version string) string { return golangPURL(module, version) }
