package build

import (
	"io"
	"io/fs"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway-dev/slipway/attest"
)

// Spec says what goes into a build. Give either Dir or Files; Image may
// stand alone or come with either.
type Spec struct {
	// Dir is a directory whose whole tree becomes the build: each regular
	// file one layer, each symbolic link a link in the record. Links are
	// never followed; a link that resolves outside Dir, a device, a socket
	// or a FIFO is refused.
	Dir string
	// Tar names subdirectories of Dir (slash-separated, relative to Dir)
	// that are packed as one deterministic tar+gzip layer each instead of
	// one layer per file. oras pull unpacks such a layer into the directory.
	Tar []string
	// Files is an explicit list of files, instead of Dir.
	Files []File
	// Image adopts an existing container image: the digest of an image
	// manifest or index already in the target New stores into. The build
	// manifest's subject is that image and its record names it.
	Image digest.Digest

	// Source is where the build's code came from. Go binaries in the build
	// fill in what is left empty; see [New].
	Source Source
	// Builder identifies who or what made the build, e.g. a CI job URI.
	Builder string
	// Processes are the build's declared process types, as in a Procfile.
	Processes []Process
	// Invocation identifies the run that made the build, e.g. a CI job's
	// URL ([DetectCI]); it becomes the provenance's invocationId.
	Invocation string
	// Created is the build's creation time. If zero, SOURCE_DATE_EPOCH is
	// used, and if that is unset, the Unix epoch: never the wall clock.
	Created time.Time

	// SBOM is a CycloneDX (1.4 to 1.7) or SPDX (2.2, 2.3) JSON SBOM of the
	// build. If empty and the build holds Go binaries, a CycloneDX 1.6 SBOM
	// is generated from their build info ([attest.GoSBOM]).
	SBOM string
	// Scans are vulnerability scan reports of the build: Trivy, Grype or
	// SARIF JSON, or govulncheck's JSON stream, told apart by content.
	Scans []Scan
	// VEX are OpenVEX v0.2.0 documents whose statements apply to the
	// scans' findings ([attest.ApplyVEX]).
	VEX []string
}

// Scan is a vulnerability scan report to store with a build.
type Scan struct {
	// Path is the report file.
	Path string
	// Scanner overrides what the report says of its scanner; fields left
	// empty are taken from the report.
	Scanner attest.Scanner
	// Started and Finished are when the scan ran. If Finished is zero, the
	// time the report states is used, and if it states none, the build's
	// creation time. If Started is zero, Finished is used.
	Started, Finished time.Time
}

// Evidence is a piece of evidence stored with a build: a predicate, ready
// to be attested about each release of the build.
type Evidence struct {
	// PredicateType is one of the attest Predicate constants.
	PredicateType string
	// Descriptor describes the stored predicate: a layer of the build
	// manifest without a title, so that oras pull leaves it out.
	Descriptor ocispec.Descriptor
	// Source is the base name of the file it was read from, or
	// "generated" for an SBOM made from Go build info.
	Source string
}

// Source is the version control origin of a build.
type Source struct {
	Repository string // e.g. "https://github.com/acme/shop"
	Revision   string // commit ID
	Dirty      bool   // the tree had uncommitted changes
}

// Process is one declared process type: a name and the command that runs
// it. Admin marks a one-off admin process (a migration, a console) that
// runs against a release rather than as part of the app.
type Process struct {
	Name    string
	Command string
	Admin   bool
}

// File is one entry of an explicit file list: a regular file read from Path
// or from Reader, or a symbolic link to Linkname. Exactly one of the three
// is set.
type File struct {
	// Name is the slash-separated path in the build, e.g. "bin/server".
	Name string
	// Path is a file on disk whose contents are stored.
	Path string
	// Reader gives the contents; it is read once, to its end.
	Reader io.Reader
	// Linkname makes the entry a symbolic link to this relative target.
	Linkname string
	// Mode holds the permission bits (0o777 at most). If zero, 0o644 for a
	// file and 0o777 for a link; for a Path, zero means the file's own.
	Mode fs.FileMode
}

// EntryType says what kind of entry of a build record an [Entry] is.
type EntryType string

// The kinds of entry in a build record.
const (
	TypeFile    EntryType = "file"    // a regular file, one layer
	TypeSymlink EntryType = "symlink" // a symbolic link, no layer
	TypeTar     EntryType = "tar"     // a directory packed as one tar+gzip layer
)

// Entry is one file, link or packed directory of a stored build.
type Entry struct {
	Path   string        // slash-separated path in the build
	Type   EntryType     // file, symlink or tar
	Mode   fs.FileMode   // permission bits (files and links)
	Size   int64         // bytes of the layer (files and tar)
	Digest digest.Digest // of the layer (files and tar)
	// Target is the link target (symlinks only).
	Target string
	// TarDigest is the digest of the uncompressed tar (tar only).
	TarDigest digest.Digest
}

// Binary is what a Go binary in a build says about itself (debug/buildinfo).
type Binary struct {
	Path      string // the file in the build
	Module    string // main module path
	Version   string // main module version, e.g. "v1.2.3" or "(devel)"
	GoVersion string // toolchain, e.g. "go1.26.8"
	Revision  string // vcs.revision, if stamped
	Dirty     bool   // vcs.modified=true
	// Deps are the modules the binary was built with, replacements
	// resolved, in path order.
	Deps []Dependency
}

// Dependency is a Go module a binary was built with: what was built, so
// for a replaced module the replacement.
type Dependency struct {
	Path    string // module path, or a directory for a local replacement
	Version string // empty for a local replacement
	Sum     string // go.sum hash ("h1:…"), if known
}
