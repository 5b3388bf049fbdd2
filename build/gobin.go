package build

import (
	"debug/buildinfo"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
)

// readBinary returns what the Go binary at file says about its build, or
// ok=false when file is not a Go binary.
func readBinary(file, name string) (b binaryRecord, info *debug.BuildInfo, ok bool) {
	bi, err := buildinfo.ReadFile(file)
	if err != nil {
		return binaryRecord{}, nil, false
	}
	b = binaryRecord{Path: name, Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		b.Deps = append(b.Deps, dependencyRecord{Path: d.Path, Version: d.Version, Sum: d.Sum})
	}
	slices.SortFunc(b.Deps, func(x, y dependencyRecord) int { return strings.Compare(x.Path, y.Path) })
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.modified":
			b.Dirty = s.Value == "true"
		}
	}
	return b, bi, true
}

// mergeBinaries fills in src, module and toolchain from the build's Go
// binaries. A revision the caller gave must agree with every binary's; the
// tree is dirty if the caller or any binary says so.
func mergeBinaries(src *sourceRecord, bins []binaryRecord) (module, toolchain string, err error) {
	var rev, revFrom string
	for i, b := range bins {
		if b.Dirty {
			src.Dirty = true
		}
		if i == 0 { // the build names one module and toolchain only if every binary agrees
			module, toolchain = b.Module, b.GoVersion
		}
		if b.Module != module {
			module = ""
		}
		if b.GoVersion != toolchain {
			toolchain = ""
		}
		if b.Revision == "" {
			continue
		}
		if src.Revision != "" && !sameRevision(src.Revision, b.Revision) {
			return "", "", fileErr(b.Path, fmt.Errorf("%w: given revision %s, binary built from %s", ErrRevisionMismatch, src.Revision, b.Revision))
		}
		if rev != "" && !sameRevision(rev, b.Revision) {
			return "", "", fileErr(b.Path, fmt.Errorf("%w: built from %s, %q from %s", ErrRevisionMismatch, b.Revision, revFrom, rev))
		}
		if len(b.Revision) > len(rev) {
			rev, revFrom = b.Revision, b.Path
		}
	}
	if src.Revision == "" {
		src.Revision = rev
	}
	return module, toolchain, nil
}

// sameRevision treats an abbreviated commit ID as equal to the full ID it
// begins.
func sameRevision(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}
