package build

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/opencontainers/go-digest"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/policy"
)

// Errors a caller may branch on with [errors.Is]. Errors about one file
// come wrapped in a [*FileError] that names it.
var (
	// ErrInvalidName: an app or process name breaks the naming rules.
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidPath: a path in the build is absolute, holds "..", an empty
	// element, a backslash or a control character.
	ErrInvalidPath = errors.New("invalid path")
	// ErrDuplicatePath: two files of a build have the same path.
	ErrDuplicatePath = errors.New("duplicate path")
	// ErrEmpty: there is nothing to build: an empty directory or file list
	// and no adopted image.
	ErrEmpty = errors.New("nothing to build")
	// ErrUnsupportedFile: a device, socket, FIFO or a file with the setuid,
	// setgid or sticky bit.
	ErrUnsupportedFile = errors.New("unsupported file type")
	// ErrLinkEscape: a symbolic link is absolute or resolves outside the
	// build's root.
	ErrLinkEscape = errors.New("link points outside the build")
	// ErrRevisionMismatch: the source revision given by the caller
	// contradicts the one a Go binary was built from, or two binaries
	// disagree.
	ErrRevisionMismatch = errors.New("revision mismatch")
	// ErrInvalidSpec: a Spec or Options field is malformed or contradicts
	// another.
	ErrInvalidSpec = errors.New("invalid build spec")

	// ErrMediaType: a stored manifest or blob is not of the media type a
	// build has; it is not a slipway build.
	ErrMediaType = errors.New("wrong media type")
	// ErrUnknownVersion: the artifact is a slipway build of a major format
	// version this reader does not know.
	ErrUnknownVersion = errors.New("unknown format version")
	// ErrInvalidRecord: the build record is malformed, not canonical or
	// breaks the rules New enforces.
	ErrInvalidRecord = errors.New("invalid build record")
	// ErrRecordMismatch: the build record and its manifest disagree.
	ErrRecordMismatch = errors.New("record does not match manifest")
	// ErrMissingBlob: a blob the manifest names is not in the store.
	ErrMissingBlob = errors.New("missing blob")

	// ErrInvalidPolicy: a build policy cannot be loaded: malformed JSON,
	// an unknown field, a bad value, or a CEL rule that does not compile.
	// It is the value release policies use too, so errors.Is matches it
	// whichever package reported it.
	ErrInvalidPolicy = policy.ErrInvalid
	// ErrPolicy: the build breaks its policy, and was not stored. The
	// error is a [*PolicyError] listing every finding.
	ErrPolicy = errors.New("build policy failed")
)

// PolicyError is a build that breaks its [Policy]: which policy, and every
// finding, in the order [Policy.Check] gives them. [New] returns it, and
// has stored no record, manifest or tag.
type PolicyError struct {
	Policy   digest.Digest          // the policy's digest
	Findings []attest.PolicyFinding // at least one
}

// Error lists every finding: `policy sha256:…: 2 findings: [requireSBOM] the
// build has no SBOM; [forbiddenFiles] "config/.env" matches ".env"`.
func (e *PolicyError) Error() string {
	var b strings.Builder
	n := len(e.Findings)
	fmt.Fprintf(&b, "policy %s failed: %d finding", e.Policy, n)
	if n != 1 {
		b.WriteString("s")
	}
	for i, f := range e.Findings {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "[%s] %s", f.Rule, f.Message)
	}
	return b.String()
}

// Unwrap returns [ErrPolicy].
func (e *PolicyError) Unwrap() error { return ErrPolicy }

// FileError records a failure about one file of a build.
type FileError struct {
	Path string // slash-separated path in the build, or a directory on disk
	Err  error  // the cause; often one of the Err values of this package
}

func (e *FileError) Error() string { return fmt.Sprintf("%q: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// fileErr attaches path to err. An *fs.PathError gives up its own path, so
// that messages name the file once: `"bin/x": open: permission denied`.
func fileErr(path string, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		err = fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return &FileError{Path: path, Err: err}
}
