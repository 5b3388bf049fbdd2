package extract

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Errors a caller may branch on with [errors.Is]. Each comes wrapped in an
// [*Error] that names the entry.
var (
	// ErrUnsafePath: an entry path or tar member name is empty, absolute,
	// holds an empty, "." or ".." element, a backslash, NUL or another
	// control character, repeats another, lies below a file or link, or a
	// tar member lies outside its packed directory.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrUnsafeLink: a symbolic link is absolute or resolves outside the
	// directory, itself or through other links; or a hard link names
	// something other than an earlier file of its packed directory.
	ErrUnsafeLink = errors.New("unsafe link")
	// ErrUnsupportedEntry: a device, FIFO, socket or other kind of entry
	// that is not a file, directory or link; a mode with setuid, setgid or
	// sticky bits; or a tar layer that cannot be read as tar+gzip.
	ErrUnsupportedEntry = errors.New("unsupported entry")
	// ErrLimit: more bytes or entries than [Options] allow.
	ErrLimit = errors.New("extraction limit exceeded")
	// ErrDigestMismatch: the bytes of a layer, or the tar inside it, do not
	// match the digest or size the build records.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrNotEmpty: the target directory holds files and Overwrite is not
	// set, or, with Overwrite, holds a directory where the build has a file
	// or a file or link where the build has a directory.
	ErrNotEmpty = errors.New("target directory not empty")
)

// Error records a failure about one entry, or about the target directory.
type Error struct {
	Path string // the entry or tar member, slash-separated; or the target directory
	Err  error  // wraps one of the Err values of this package, or an I/O error
}

func (e *Error) Error() string { return fmt.Sprintf("extract %q: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// entryErr attaches name to err. An *fs.PathError or *os.LinkError gives
// up its paths, which name the staging directory rather than the entry.
func entryErr(name string, err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		err = fmt.Errorf("%s: %w", e.Op, e.Err)
	case *os.LinkError:
		err = fmt.Errorf("%s: %w", e.Op, e.Err)
	}
	return &Error{Path: name, Err: err}
}
