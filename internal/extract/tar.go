package extract

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// Bounds on what a packed directory's tar may hold besides its members'
// bytes, so that a small layer cannot make Extract decompress without end.
const (
	// tarOverheadBase and tarOverheadPerMember bound the headers of a tar:
	// what the tar holds besides the bytes of its files may be at most the
	// base plus so much per member. A member's PAX header naming a path of
	// 4096 bytes takes less than 5 KiB.
	tarOverheadBase      = 1 << 20
	tarOverheadPerMember = 8 << 10
	// tarTrailer bounds what may follow the end of the archive.
	tarTrailer = 1 << 20
)

// tar writes a packed directory: the directory itself, then each member of
// its tar+gzip layer. It reads the layer twice. First from the source into
// a spool file in the staging directory, checking every member as it
// comes and, at the end, the layer's size and digest and the tar's digest,
// without writing any member: a hostile or corrupt packed directory fails
// before any of it is written. Then from the spool, with the same checks,
// writing each member.
func (x *extractor) tar(ctx context.Context, e Entry) error {
	if err := x.mkdir(e.Path, 0o755); err != nil {
		return err
	}
	x.kinds[e.Path] = Tar
	x.spools++
	name := filepath.Join(x.stage, fmt.Sprintf("layer-%d", x.spools))
	spool, err := x.root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return entryErr(e.Path, fmt.Errorf("spool the layer: %w", err))
	}
	defer func() {
		spool.Close()
		x.root.Remove(name)
	}()

	rc, err := x.src.Open(ctx, e)
	if err != nil {
		return &Error{Path: e.Path, Err: fmt.Errorf("open layer %s: %w", e.Digest, err)}
	}
	defer rc.Close()
	scan := x.dryRun()
	t := &tarReader{x: scan, e: e, layer: newDigestReader(ctx, io.TeeReader(rc, &fileWriter{f: spool, name: e.Path}), e.Digest, e.Size)}
	if err := t.read(); err != nil {
		return t.fail(err)
	}

	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return entryErr(e.Path, err)
	}
	t = &tarReader{x: x, e: e, layer: newDigestReader(ctx, spool, e.Digest, e.Size)}
	if err := t.read(); err != nil {
		return t.fail(err)
	}
	return nil
}

// dryRun returns a copy of x that checks and counts as x does, with its
// own books, and writes nothing.
func (x *extractor) dryRun() *extractor {
	return &extractor{
		dry:      true,
		opts:     x.opts,
		buf:      x.buf,
		files:    x.files,
		bytes:    x.bytes,
		links:    maps.Clone(x.links),
		kinds:    maps.Clone(x.kinds),
		dirModes: make(map[string]fs.FileMode),
	}
}

// tarReader reads one packed directory's layer.
type tarReader struct {
	x       *extractor
	e       Entry
	layer   *digestReader   // the tar+gzip layer as stored
	tar     *digestReader   // the uncompressed tar
	member  string          // the member being read, for errors
	members int             // members read
	data    int64           // bytes of regular members read
	regular map[string]bool // regular members written, for hard links
	top     bool            // a member for the packed directory itself was read
}

func (t *tarReader) init() {
	if t.regular == nil {
		t.regular = make(map[string]bool)
	}
}

// read reads the layer to its end.
func (t *tarReader) read() error {
	t.init()
	zr, err := gzip.NewReader(t.layer)
	if err != nil {
		return err
	}
	// The tar's size is not recorded: it may hold the bytes the limits
	// allow, plus its headers, plus a trailer.
	limit := t.x.opts.MaxBytes + tarOverheadBase + int64(t.x.opts.MaxFiles)*tarOverheadPerMember + tarTrailer
	t.tar = &digestReader{ctx: t.layer.ctx, r: zr, h: t.e.TarDigest.Algorithm().Hash(), want: t.e.TarDigest, size: limit}
	tr := tar.NewReader(t.tar)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		t.members++
		t.member = hdr.Name
		if over := t.tar.n - t.data; over > tarOverheadBase+int64(t.members)*tarOverheadPerMember {
			return &Error{Path: hdr.Name, Err: fmt.Errorf("%w: the tar's headers take more than %d bytes", ErrLimit, over)}
		}
		if err := t.write(hdr, tr); err != nil {
			return err
		}
	}
	t.member = ""
	// What follows the end of the archive counts toward the tar's digest.
	n, err := io.CopyN(io.Discard, t.tar, tarTrailer+1)
	switch {
	case n > tarTrailer:
		return &Error{Path: t.e.Path, Err: fmt.Errorf("%w: more than %d bytes follow the end of the tar", ErrLimit, tarTrailer)}
	case err != nil && err != io.EOF:
		return err
	}
	if err := zr.Close(); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, t.layer); err != nil {
		return err
	}
	if err := t.layer.verify(); err != nil {
		return &Error{Path: t.e.Path, Err: err}
	}
	if err := t.tar.verify(); err != nil {
		return &Error{Path: t.e.Path, Err: err}
	}
	return nil
}

// fail makes err, met while reading the layer, an *Error. A layer that
// cannot be read is first read to its end: if its bytes are not the
// recorded ones, that is the failure.
func (t *tarReader) fail(err error) error {
	var xe *Error
	switch {
	case errors.As(err, &xe):
		return err
	case errors.Is(err, ErrDigestMismatch), errors.Is(err, ErrLimit),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &Error{Path: t.e.Path, Err: err}
	}
	if _, cerr := io.Copy(io.Discard, t.layer); cerr == nil {
		if verr := t.layer.verify(); verr != nil {
			return &Error{Path: t.e.Path, Err: verr}
		}
	} else if errors.Is(cerr, ErrDigestMismatch) {
		return &Error{Path: t.e.Path, Err: cerr}
	}
	where := t.e.Path
	if t.member != "" {
		where = t.member
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return &Error{Path: where, Err: fmt.Errorf("%w: the tar ends before the bytes it declares: %w", ErrDigestMismatch, err)}
	}
	return &Error{Path: where, Err: fmt.Errorf("%w: not a readable tar+gzip layer: %w", ErrUnsupportedEntry, err)}
}

// write checks one member and writes it.
func (t *tarReader) write(hdr *tar.Header, r io.Reader) error {
	x, e := t.x, t.e
	name := hdr.Name
	if hdr.Typeflag == tar.TypeDir {
		name = strings.TrimSuffix(name, "/")
	}
	fail := func(err error) error { return &Error{Path: hdr.Name, Err: err} }
	if err := CheckPath(name); err != nil {
		return fail(err)
	}
	if name != e.Path && !strings.HasPrefix(name, e.Path+"/") {
		return fail(fmt.Errorf("%w: outside the packed directory %q", ErrUnsafePath, e.Path))
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink:
	default:
		return fail(fmt.Errorf("%w: %s", ErrUnsupportedEntry, typeName(hdr.Typeflag)))
	}
	if hdr.Mode&0o7000 != 0 {
		return fail(fmt.Errorf("%w: mode %#o has setuid, setgid or sticky bits", ErrUnsupportedEntry, hdr.Mode))
	}
	perm := fs.FileMode(hdr.Mode) & fs.ModePerm
	if name == e.Path {
		// The packed directory itself: its mode, once.
		if hdr.Typeflag != tar.TypeDir || t.top {
			return fail(fmt.Errorf("%w: the packed directory itself again, as a %s", ErrUnsafePath, typeName(hdr.Typeflag)))
		}
		t.top = true
		x.dirModes[name] = perm
		return nil
	}
	for d := parentOf(name); d != e.Path; d = parentOf(d) {
		if k, ok := x.kinds[d]; ok && k != dirKind {
			return fail(fmt.Errorf("%w: below the %s %q", ErrUnsafePath, kindName(k), d))
		}
	}
	if k, ok := x.kinds[name]; ok {
		// A directory made to hold earlier members may be listed later
		// (tar writers list it first); anything else is listed twice.
		if k != dirKind || hdr.Typeflag != tar.TypeDir || x.dirModes[name] != implied {
			return fail(fmt.Errorf("%w: listed twice", ErrUnsafePath))
		}
		x.dirModes[name] = perm
		return nil
	}
	if err := x.parents(name); err != nil {
		return err
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := x.mkdir(name, perm); err != nil {
			return err
		}
	case tar.TypeSymlink:
		x.links[name] = hdr.Linkname
		if err := resolve(x.links, name, hdr.Linkname); err != nil {
			return fail(err)
		}
		if err := x.count(hdr.Name); err != nil {
			return err
		}
		if !x.dry {
			if err := x.root.Symlink(hdr.Linkname, x.staged(name)); err != nil {
				return entryErr(hdr.Name, err)
			}
		}
		x.made(name, Symlink)
	case tar.TypeLink:
		if CheckPath(hdr.Linkname) != nil || !t.regular[hdr.Linkname] {
			return fail(fmt.Errorf("%w: hard link to %q, not an earlier file of the packed directory", ErrUnsafeLink, hdr.Linkname))
		}
		if err := x.count(hdr.Name); err != nil {
			return err
		}
		if !x.dry {
			if err := x.root.Link(x.staged(hdr.Linkname), x.staged(name)); err != nil {
				return entryErr(hdr.Name, err)
			}
		}
		x.made(name, File)
		t.regular[name] = true
	case tar.TypeReg:
		return t.regularFile(hdr, name, perm, r)
	}
	return nil
}

// implied is the mode a directory made to hold members takes unless a
// member for it says otherwise. Its sticky bit, which no member may have,
// tells it from a listed one until then.
const implied = 0o755 | fs.ModeSticky

// regularFile writes a regular member: exactly its declared bytes.
func (t *tarReader) regularFile(hdr *tar.Header, name string, perm fs.FileMode, r io.Reader) error {
	x := t.x
	if err := x.count(hdr.Name); err != nil {
		return err
	}
	if hdr.Size > x.opts.MaxBytes-x.bytes {
		return &Error{Path: hdr.Name, Err: fmt.Errorf("%w: more than %d bytes (MaxBytes)", ErrLimit, x.opts.MaxBytes)}
	}
	x.made(name, File)
	if x.dry {
		n, err := io.CopyBuffer(io.Discard, r, x.buf)
		x.bytes += n
		t.data += n
		if err != nil {
			return err
		}
		t.regular[name] = true
		return nil
	}
	f, err := x.root.OpenFile(x.staged(name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return entryErr(hdr.Name, err)
	}
	n, err := io.CopyBuffer(&fileWriter{f: f, name: hdr.Name}, r, x.buf)
	x.bytes += n
	t.data += n
	if err == nil && n != hdr.Size {
		err = &Error{Path: hdr.Name, Err: fmt.Errorf("%w: %d bytes, %d declared", ErrDigestMismatch, n, hdr.Size)}
	}
	if err == nil {
		if err = f.Chmod(perm); err != nil {
			err = entryErr(hdr.Name, err)
		}
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = entryErr(hdr.Name, cerr)
	}
	if err != nil {
		return err // a read error: fail checks the layer, then names the member
	}
	t.regular[name] = true
	return nil
}

// parentOf is path.Dir for paths CheckPath accepts.
func parentOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return "."
}

// typeName names a tar member's type for errors.
func typeName(flag byte) string {
	switch flag {
	case tar.TypeReg:
		return "file"
	case tar.TypeDir:
		return "directory"
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "FIFO"
	case tar.TypeCont:
		return "contiguous file"
	case tar.TypeXGlobalHeader:
		return "global PAX header"
	case tar.TypeGNUSparse:
		return "sparse file"
	}
	return fmt.Sprintf("member of type %q", flag)
}
