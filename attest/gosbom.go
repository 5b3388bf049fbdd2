package attest

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"fmt"
	"maps"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/opencontainers/go-digest"
	packageurl "github.com/package-url/packageurl-go"
)

// Property names GoSBOM writes on components.
const (
	propToolchain = "slipway:go:toolchain" // the Go version that built the binary
	propBinary    = "slipway:go:binary"    // GoBinary.Path
	propPackage   = "slipway:go:package"   // the binary's main package
	propBuild     = "slipway:go:build:"    // + a build setting's key
	propReplaces  = "slipway:go:replaces"  // the module a replacement stands for
)

// GoBinary is one Go executable that [GoSBOM] describes.
type GoBinary struct {
	// Path names the binary within the release, such as "bin/server". It
	// must be set and unique among the binaries of one [GoSBOMInput].
	Path string
	// Digest is the digest of the binary file (sha256, sha384 or sha512).
	// If empty, the component carries no hash.
	Digest digest.Digest
	// Info is the binary's build information, as debug/buildinfo.ReadFile
	// returns it (or runtime/debug.ReadBuildInfo inside the binary). It
	// must be set and name a main module.
	Info *debug.BuildInfo
}

// GoSBOMInput is what [GoSBOM] describes: an application made of Go
// binaries.
type GoSBOMInput struct {
	// Name names the application; it must be set.
	Name string
	// Version is the application's version; if empty, none is written.
	Version string
	// Created is the document's timestamp, written in UTC to the second. If
	// zero, the document has no timestamp: GoSBOM never reads the clock.
	Created time.Time
	// Binaries are the application's Go binaries; at least one.
	Binaries []GoBinary
}

// GoSBOM returns a CycloneDX 1.6 JSON document describing the Go binaries
// of an application, in normalized form ([NormalizeJSON]): the bytes an
// attestation of predicate type [PredicateCycloneDX] carries and a blob of
// media type [MediaTypeCycloneDX] holds. The same input always gives the
// same bytes: components, properties and dependencies are sorted, and the
// serialNumber is a UUID (version 8) derived from the SHA-256 of the
// document without it.
//
// The document holds:
//   - metadata: the timestamp (Created), the application as
//     metadata.component (type application, Name, Version), and slipway as
//     the tool;
//   - for each binary, its main module as an application component named
//     by the module path, with the main module's version (none for
//     "(devel)"), the purl pkg:golang/<path>@<version>, the binary's digest
//     as its hash, and properties: "slipway:go:toolchain" (the Go version),
//     "slipway:go:binary" (GoBinary.Path), "slipway:go:package" (the main
//     package) and "slipway:go:build:<key>" for each build setting (GOOS,
//     GOARCH, CGO_ENABLED, -trimpath, vcs.revision, vcs.modified, …). Its
//     bom-ref is its purl with the qualifier binary=<GoBinary.Path>, so
//     binaries of one module stay apart;
//   - each module the binaries link, once however many binaries link it,
//     as a library component whose purl is also its bom-ref. A replaced
//     module is listed as what was built: the replacement's path and
//     version, with the original as property "slipway:go:replaces"
//     (<path>@<version>). A replacement by a local directory has no
//     version: the component keeps the original path, and its purl has no
//     version;
//   - the Go standard library of each toolchain as library component
//     "stdlib" with purl pkg:golang/stdlib@v<version> (go1.26.8 gives
//     v1.26.8; go1.27rc1 gives v1.27.0-rc.1), the form govulncheck and
//     Trivy use, so that standard library vulnerabilities match. A
//     toolchain that is not a Go release gives a purl without version;
//   - the dependency graph: the application depends on each binary, and
//     each binary on the modules it links and on its standard library.
//
// Build settings that hold flags are left out: -ldflags and every setting
// whose key ends in "flags" (-gcflags, -asmflags, CGO_CFLAGS, CGO_LDFLAGS,
// …), because their values can carry secrets (-ldflags "-X
// main.token=…") and local paths. Module checksums (h1:) are not
// written: they hash a module's source tree, not any artifact of the
// build.
//
// GoSBOM reports an error wrapping [ErrInvalidOptions] when Name is empty,
// there are no binaries, or a binary has no or a duplicate Path, no build
// information, no main module, or a Digest that is not a valid sha256,
// sha384 or sha512 digest.
func GoSBOM(in GoSBOMInput) ([]byte, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	g := goSBOM{libs: map[string]*cdx.Component{}, libProps: map[string]map[cdx.Property]bool{}}
	root := appRef(in.Name, in.Version)
	var apps []cdx.Component
	var bins []string
	for _, b := range in.Binaries {
		app := g.binary(b)
		apps = append(apps, app)
		bins = append(bins, app.BOMRef)
	}
	g.deps = append(g.deps, dependency(root, bins))

	components := apps
	for ref, c := range g.libs {
		if props := sortedProps(slices.Collect(maps.Keys(g.libProps[ref]))); len(props) > 0 {
			c.Properties = &props
		}
		components = append(components, *c)
	}
	slices.SortFunc(components, func(a, b cdx.Component) int { return strings.Compare(a.BOMRef, b.BOMRef) })
	slices.SortFunc(g.deps, func(a, b cdx.Dependency) int { return strings.Compare(a.Ref, b.Ref) })

	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: "slipway"}}},
		Component: &cdx.Component{
			BOMRef:  root,
			Type:    cdx.ComponentTypeApplication,
			Name:    in.Name,
			Version: in.Version,
		},
	}
	if !in.Created.IsZero() {
		bom.Metadata.Timestamp = in.Created.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	bom.Components = &components
	bom.Dependencies = &g.deps

	unsigned, err := encodeCycloneDX(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = serialNumber(unsigned)
	return encodeCycloneDX(bom)
}

func (in *GoSBOMInput) validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("attest: go sbom: %w: %s", ErrInvalidOptions, fmt.Sprintf(format, a...))
	}
	if in.Name == "" {
		return bad("GoSBOMInput.Name: empty")
	}
	if len(in.Binaries) == 0 {
		return bad("GoSBOMInput.Binaries: none")
	}
	seen := map[string]bool{}
	for i, b := range in.Binaries {
		switch {
		case b.Path == "":
			return bad("binary %d: empty Path", i)
		case seen[b.Path]:
			return bad("binary %q: listed twice", b.Path)
		case b.Info == nil:
			return bad("binary %q: no build info", b.Path)
		case b.Info.Main.Path == "":
			return bad("binary %q: build info names no main module", b.Path)
		}
		seen[b.Path] = true
		if b.Digest != "" {
			if err := b.Digest.Validate(); err != nil {
				return bad("binary %q: digest: %v", b.Path, err)
			}
			if _, ok := hashAlgorithms[b.Digest.Algorithm()]; !ok {
				return bad("binary %q: digest algorithm %s", b.Path, b.Digest.Algorithm())
			}
		}
	}
	return nil
}

// hashAlgorithms maps digest algorithms to CycloneDX hash names.
var hashAlgorithms = map[digest.Algorithm]cdx.HashAlgorithm{
	digest.SHA256: cdx.HashAlgoSHA256,
	digest.SHA384: cdx.HashAlgoSHA384,
	digest.SHA512: cdx.HashAlgoSHA512,
}

// goSBOM collects the library components and the dependency graph while
// GoSBOM walks the binaries.
type goSBOM struct {
	libs     map[string]*cdx.Component        // by purl
	libProps map[string]map[cdx.Property]bool // by purl: union over binaries
	deps     []cdx.Dependency
}

// binary returns the application component of b and records its modules.
func (g *goSBOM) binary(b GoBinary) cdx.Component {
	info := b.Info
	name, version, _ := goModule(&info.Main)
	app := cdx.Component{
		BOMRef:     binaryRef(name, version, b.Path),
		Type:       cdx.ComponentTypeApplication,
		Name:       name,
		Version:    version,
		PackageURL: golangPURL(name, version),
	}
	if b.Digest != "" {
		app.Hashes = &[]cdx.Hash{{Algorithm: hashAlgorithms[b.Digest.Algorithm()], Value: b.Digest.Encoded()}}
	}
	props := []cdx.Property{{Name: propBinary, Value: b.Path}}
	if info.GoVersion != "" {
		props = append(props, cdx.Property{Name: propToolchain, Value: info.GoVersion})
	}
	if info.Path != "" {
		props = append(props, cdx.Property{Name: propPackage, Value: info.Path})
	}
	for _, s := range info.Settings {
		if !secretSetting(s.Key) {
			props = append(props, cdx.Property{Name: propBuild + s.Key, Value: s.Value})
		}
	}
	props = sortedProps(props)
	app.Properties = &props

	var refs []string
	for _, m := range info.Deps {
		if m == nil || m.Path == "" {
			continue
		}
		name, version, replaces := goModule(m)
		var extra []cdx.Property
		if replaces != "" {
			extra = append(extra, cdx.Property{Name: propReplaces, Value: replaces})
		}
		refs = append(refs, g.library(name, version, extra))
	}
	refs = append(refs, g.library("stdlib", stdlibVersion(info.GoVersion), nil))
	g.deps = append(g.deps, dependency(app.BOMRef, refs))
	return app
}

// library records a library component once per purl and returns its
// bom-ref, the purl.
func (g *goSBOM) library(name, version string, props []cdx.Property) string {
	purl := golangPURL(name, version)
	if _, ok := g.libs[purl]; !ok {
		g.libs[purl] = &cdx.Component{
			BOMRef:     purl,
			Type:       cdx.ComponentTypeLibrary,
			Name:       name,
			Version:    version,
			PackageURL: purl,
		}
		g.libProps[purl] = map[cdx.Property]bool{}
	}
	for _, p := range props {
		g.libProps[purl][p] = true
	}
	return purl
}

// goModule returns the path and version of what was built for m (its
// replacement, if any) and, for a replaced module, the original as
// "<path>@<version>". A replacement by a local directory has no version
// and keeps the original path, since a directory is no module path.
func goModule(m *debug.Module) (path, version, replaces string) {
	path, version = m.Path, m.Version
	if r := m.Replace; r != nil {
		replaces = m.Path
		if m.Version != "" {
			replaces += "@" + m.Version
		}
		version = r.Version
		if r.Version != "" {
			path = r.Path
		}
	}
	if version == "(devel)" {
		version = ""
	}
	return path, version, replaces
}

// binaryRef is the bom-ref of a binary's main module: its purl with the
// qualifier binary=<path>.
func binaryRef(module, version, binPath string) string {
	ns, name := "", module
	if i := strings.LastIndexByte(module, '/'); i >= 0 {
		ns, name = module[:i], module[i+1:]
	}
	q := packageurl.Qualifiers{{Key: "binary", Value: binPath}}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, q, "").ToString()
}

// appRef is the bom-ref of the application. It cannot collide with the
// purls of the other components.
func appRef(name, version string) string {
	if version == "" {
		return "app:" + name
	}
	return "app:" + name + "@" + version
}

// secretSetting reports whether the build setting key may hold secrets:
// -ldflags and every other flags setting.
func secretSetting(key string) bool {
	return strings.HasSuffix(strings.ToLower(key), "flags")
}

// goRelease matches the Go release versions: go1.26.8, go1.21.0, go1.20,
// go1.27rc1, go1.27beta2.
var goRelease = regexp.MustCompile(`^go1\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?$`)

// stdlibVersion converts a toolchain version such as "go1.26.8" to the
// semantic version of the stdlib purl ("v1.26.8"), as govulncheck does;
// "" when the toolchain is not a Go release. Anything after a space
// (" X:jsonv2") is ignored.
func stdlibVersion(goVersion string) string {
	v, _, _ := strings.Cut(goVersion, " ")
	m := goRelease.FindStringSubmatch(v)
	if m == nil {
		return ""
	}
	patch := cmp.Or(m[2], "0")
	if m[3] != "" {
		return fmt.Sprintf("v1.%s.%s-%s.%s", m[1], patch, m[3], m[4])
	}
	return fmt.Sprintf("v1.%s.%s", m[1], patch)
}

// dependency is ref's entry in the dependency graph, its targets sorted
// and deduplicated.
func dependency(ref string, on []string) cdx.Dependency {
	on = slices.Compact(slices.Sorted(slices.Values(on)))
	d := cdx.Dependency{Ref: ref}
	if len(on) > 0 {
		d.Dependencies = &on
	}
	return d
}

func sortedProps(props []cdx.Property) []cdx.Property {
	slices.SortFunc(props, func(a, b cdx.Property) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
	})
	return slices.Compact(props)
}

// encodeCycloneDX writes bom as CycloneDX 1.6 JSON in normalized form.
func encodeCycloneDX(bom *cdx.BOM) ([]byte, error) {
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("attest: go sbom: encode: %w", err)
	}
	out, err := NormalizeJSON(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("attest: go sbom: encode: %w", err)
	}
	return out, nil
}

// serialNumber is the urn:uuid of a version 8 UUID (RFC 9562) made of the
// first 16 bytes of the SHA-256 of doc.
func serialNumber(doc []byte) string {
	sum := sha256.Sum256(doc)
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
