package extract

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Kind says what an [Entry] is.
type Kind string

// The kinds of entry.
const (
	File    Kind = "file"    // a regular file: one layer holds its bytes
	Symlink Kind = "symlink" // a symbolic link: no layer
	Tar     Kind = "tar"     // a directory packed as one tar+gzip layer
)

// Entry is one entry of a build, as its record lists it.
type Entry struct {
	Path      string        // slash-separated path in the build
	Kind      Kind          // File, Symlink or Tar
	Mode      fs.FileMode   // permission bits of a File; ignored for links, which have none on Linux
	Size      int64         // bytes of the layer (File, Tar)
	Digest    digest.Digest // of the layer (File, Tar)
	Target    string        // link target (Symlink)
	TarDigest digest.Digest // of the uncompressed tar (Tar)
}

// Opener gives the stored bytes of the layer of a File or Tar entry.
// [Extract] checks their size and digest itself, as they stream; the
// Opener need not.
type Opener interface {
	Open(ctx context.Context, e Entry) (io.ReadCloser, error)
}

// OpenerFunc adapts a function to an [Opener].
type OpenerFunc func(ctx context.Context, e Entry) (io.ReadCloser, error)

// Open calls f(ctx, e).
func (f OpenerFunc) Open(ctx context.Context, e Entry) (io.ReadCloser, error) { return f(ctx, e) }

// Defaults of [Options].
const (
	DefaultMaxBytes int64 = 8 << 30
	DefaultMaxFiles       = 50_000
)

// Options are the optional settings of [Extract]. The zero value is ready
// to use: an empty or missing target, 8 GiB, 50,000 entries.
type Options struct {
	// Overwrite allows a target directory that holds files. Entries of
	// the build replace files and links at their paths, each with one
	// rename; directories of the build are merged into existing ones,
	// which keep their mode and their other contents; files the build does
	// not have are kept. A directory where the build has a file or link,
	// or a file or link (even one to a directory) where the build has a
	// directory, fails with [ErrNotEmpty] before anything is moved.
	Overwrite bool
	// MaxBytes bounds the bytes written: files and tar members. If zero,
	// [DefaultMaxBytes].
	MaxBytes int64
	// MaxFiles bounds the entries written: files, links, directories
	// (those that hold entries included) and tar members. If zero,
	// [DefaultMaxFiles].
	MaxFiles int
}

// Result says what [Extract] wrote.
type Result struct {
	Files int   // entries written: files, links, directories, tar members
	Bytes int64 // bytes written: files and tar members
}

// copyBufferSize is the size of the buffer bytes are copied through.
const copyBufferSize = 256 << 10

// Extract writes entries into the directory dir, made (0755) if missing,
// reading the layers of files and packed directories from src. It fails
// closed, with an [*Error] naming the entry and wrapping one of the Err
// values of this package:
//
//   - before anything is written: an unsafe path or duplicate
//     ([ErrUnsafePath]), an unsafe link ([ErrUnsafeLink]), an unknown kind
//     or a mode with more than permission bits ([ErrUnsupportedEntry]),
//     more files or bytes than the limits allow ([ErrLimit]), or, unless
//     opts.Overwrite, a dir that holds anything ([ErrNotEmpty]);
//   - while the layers stream: the same rules for each tar member, a hard
//     link to anything but an earlier file of the same packed directory,
//     a device, FIFO or other special member, the limits counted as bytes
//     and entries are written, and each layer's size and digest, and for
//     a packed directory its uncompressed tar's digest
//     ([ErrDigestMismatch]); a link that a later link makes leave the
//     directory is refused once all are known.
//
// A packed directory's layer is read twice: from src into a spool file in
// the staging directory while every member is checked and counted and
// both digests are verified, without writing a member; then from the
// spool, with the same checks, writing them. A hostile or corrupt packed
// directory thus fails before any of its members is written; the spool
// takes the layer's size on disk meanwhile.
//
// Everything is written into a staging directory inside dir, through an
// [os.Root], and moved into place only when every check passed: a failed
// Extract leaves no file of its own in dir, and removes dir if it made it.
// Files are created 0600 and take their recorded permission bits once
// their bytes are written; directories are 0755 unless a tar member says
// otherwise, which they take after the move. Owners and times are not
// restored. Memory does not grow with the size of files.
func Extract(ctx context.Context, dir string, entries []Entry, src Opener, opts Options) (Result, error) {
	switch {
	case opts.MaxBytes < 0:
		return Result{}, fmt.Errorf("extract: MaxBytes %d: negative", opts.MaxBytes)
	case opts.MaxFiles < 0:
		return Result{}, fmt.Errorf("extract: MaxFiles %d: negative", opts.MaxFiles)
	case opts.MaxBytes == 0:
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.MaxFiles == 0 {
		opts.MaxFiles = DefaultMaxFiles
	}
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b Entry) int { return cmp.Compare(a.Path, b.Path) })
	links, err := plan(entries, opts)
	if err != nil {
		return Result{}, err
	}

	made, err := makeDir(dir)
	if err != nil {
		return Result{}, err
	}
	x := &extractor{
		src:      src,
		opts:     opts,
		links:    links,
		kinds:    make(map[string]Kind, len(entries)),
		dirModes: make(map[string]fs.FileMode),
	}
	res, err := x.run(ctx, dir, entries)
	if err != nil && made {
		_ = os.Remove(dir) // only if empty: what this call made, nothing else
	}
	return res, err
}

// plan checks entries before anything is written: paths, duplicates,
// nesting, kinds, modes, digests, link targets (each link followed through
// the others) and the limits, as far as the entries tell them (the files'
// declared sizes; the entries and the directories that hold them). It
// returns the links, path to target. opts must have its limits set.
func plan(entries []Entry, opts Options) (map[string]string, error) {
	seen := make(map[string]Kind, len(entries))
	links := make(map[string]string)
	for _, e := range entries {
		if err := CheckPath(e.Path); err != nil {
			return nil, &Error{Path: e.Path, Err: err}
		}
		if _, dup := seen[e.Path]; dup {
			return nil, &Error{Path: e.Path, Err: fmt.Errorf("%w: listed twice", ErrUnsafePath)}
		}
		seen[e.Path] = e.Kind
		if err := checkEntry(e); err != nil {
			return nil, &Error{Path: e.Path, Err: err}
		}
		if e.Kind == Symlink {
			links[e.Path] = e.Target
		}
	}
	var files int
	var size int64
	dirs := make(map[string]bool)
	for _, e := range entries {
		for d := path.Dir(e.Path); d != "."; d = path.Dir(d) {
			if k, ok := seen[d]; ok {
				return nil, &Error{Path: e.Path, Err: fmt.Errorf("%w: below the %s %q", ErrUnsafePath, kindName(k), d)}
			}
			if !dirs[d] {
				dirs[d] = true
				files++
			}
		}
		if files++; files > opts.MaxFiles {
			return nil, &Error{Path: e.Path, Err: fmt.Errorf("%w: more than %d entries (MaxFiles)", ErrLimit, opts.MaxFiles)}
		}
		if e.Kind == File {
			if size += e.Size; size > opts.MaxBytes {
				return nil, &Error{Path: e.Path, Err: fmt.Errorf("%w: files of more than %d bytes (MaxBytes)", ErrLimit, opts.MaxBytes)}
			}
		}
	}
	if err := checkLinks(links); err != nil {
		return nil, err
	}
	return links, nil
}

// checkEntry checks what one entry says of itself.
func checkEntry(e Entry) error {
	switch e.Kind {
	case File, Tar:
		if err := e.Digest.Validate(); err != nil {
			return fmt.Errorf("%w: digest: %w", ErrUnsupportedEntry, err)
		}
		if e.Size < 0 {
			return fmt.Errorf("%w: size %d", ErrUnsupportedEntry, e.Size)
		}
		if e.Kind == Tar {
			if err := e.TarDigest.Validate(); err != nil {
				return fmt.Errorf("%w: tar digest: %w", ErrUnsupportedEntry, err)
			}
		} else if e.Mode&^fs.ModePerm != 0 {
			return fmt.Errorf("%w: mode %s: only permission bits are allowed", ErrUnsupportedEntry, e.Mode)
		}
	case Symlink:
		return checkTarget(e.Target)
	default:
		return fmt.Errorf("%w: kind %q", ErrUnsupportedEntry, e.Kind)
	}
	return nil
}

// checkLinks resolves every link among links, following the others, and
// refuses the first, in path order, that leaves the directory.
func checkLinks(links map[string]string) error {
	names := make([]string, 0, len(links))
	for name := range links {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := resolve(links, name, links[name]); err != nil {
			return &Error{Path: name, Err: err}
		}
	}
	return nil
}

func kindName(k Kind) string {
	switch k {
	case Tar:
		return "packed directory"
	case Symlink:
		return "link"
	case dirKind:
		return "directory"
	}
	return string(k)
}

// makeDir makes dir if it is missing and reports whether it did.
func makeDir(dir string) (bool, error) {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return false, &Error{Path: dir, Err: err}
		}
		return true, nil
	case err != nil:
		return false, &Error{Path: dir, Err: err}
	case !info.IsDir():
		return false, &Error{Path: dir, Err: fmt.Errorf("%w: not a directory", ErrNotEmpty)}
	}
	return false, nil
}

// CheckEmpty returns nil if dir is missing or an empty directory, and
// otherwise an [*Error] wrapping [ErrNotEmpty] (or the error that kept it
// from looking). It reads at most one name.
func CheckEmpty(dir string) error {
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &Error{Path: dir, Err: err}
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return &Error{Path: dir, Err: err}
	}
	if !info.IsDir() {
		return &Error{Path: dir, Err: fmt.Errorf("%w: not a directory", ErrNotEmpty)}
	}
	names, err := f.Readdirnames(1)
	if err != nil && err != io.EOF {
		return &Error{Path: dir, Err: err}
	}
	if len(names) > 0 {
		return &Error{Path: dir, Err: fmt.Errorf("%w: it holds %q", ErrNotEmpty, names[0])}
	}
	return nil
}

// dirKind marks a directory in extractor.kinds: one that holds entries,
// the top of a packed directory or a directory member of one.
const dirKind Kind = "dir"

// node is something Extract made in the staging directory.
type node struct {
	path string
	dir  bool
}

// extractor carries one Extract call's state.
type extractor struct {
	root   *os.Root
	stage  string // the staging directory, relative to root
	src    Opener
	opts   Options
	buf    []byte
	dry    bool // check and count only: write nothing (see dryRun)
	spools int  // spool files made for packed directories

	files int
	bytes int64

	links    map[string]string      // every link: the record's, then tar members'
	kinds    map[string]Kind        // every path made, by kind
	dirModes map[string]fs.FileMode // the mode each made directory takes at the end
	nodes    []node                 // every path made, for the move into place
}

func (x *extractor) run(ctx context.Context, dir string, entries []Entry) (Result, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Result{}, &Error{Path: dir, Err: err}
	}
	defer root.Close()
	x.root = root
	if !x.opts.Overwrite {
		if err := CheckEmpty(dir); err != nil {
			return Result{}, err
		}
	}
	if err := x.makeStage(entries); err != nil {
		return Result{}, &Error{Path: dir, Err: fmt.Errorf("make a staging directory: %w", err)}
	}
	defer root.RemoveAll(x.stage) // empty after a move into place; else what failed
	x.buf = make([]byte, copyBufferSize)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return Result{}, &Error{Path: e.Path, Err: err}
		}
		if err := x.entry(ctx, e); err != nil {
			return Result{}, err
		}
	}
	// A link a later link made leave the directory: every link, now that
	// all are known.
	if err := checkLinks(x.links); err != nil {
		return Result{}, err
	}
	if err := x.moveIntoPlace(); err != nil {
		return Result{}, err
	}
	return Result{Files: x.files, Bytes: x.bytes}, nil
}

// stagePrefix starts the name of the staging directory in the target.
const stagePrefix = ".slipway-extract-"

// makeStage makes the staging directory, 0700, under a random name that no
// entry starts with, and in it the directory "tree" the entries are
// written into.
func (x *extractor) makeStage(entries []Entry) error {
	var err error
	for range 4 {
		name := stagePrefix + strings.ToLower(rand.Text()[:16])
		if slices.ContainsFunc(entries, func(e Entry) bool { return e.Path == name || strings.HasPrefix(e.Path, name+"/") }) {
			continue
		}
		if err = x.root.Mkdir(name, 0o700); err == nil {
			x.stage = name
			return x.root.Mkdir(filepath.Join(name, "tree"), 0o700)
		}
	}
	return err
}

// staged is where the entry name is written: in the staging directory's
// tree, beside which the spool files of packed directories are kept.
func (x *extractor) staged(name string) string {
	return filepath.Join(x.stage, "tree", filepath.FromSlash(name))
}

// count counts one more entry written at name, failing past MaxFiles.
func (x *extractor) count(name string) error {
	if x.files++; x.files > x.opts.MaxFiles {
		return &Error{Path: name, Err: fmt.Errorf("%w: more than %d entries (MaxFiles)", ErrLimit, x.opts.MaxFiles)}
	}
	return nil
}

// made records that name was made, as kind.
func (x *extractor) made(name string, kind Kind) {
	x.kinds[name] = kind
	x.nodes = append(x.nodes, node{path: name, dir: kind == dirKind || kind == Tar})
}

// mkdir makes the directory name, 0755 for now, unless it was made
// already; it takes mode's permission bits at the end.
func (x *extractor) mkdir(name string, mode fs.FileMode) error {
	if k, ok := x.kinds[name]; ok {
		if k != dirKind && k != Tar {
			return &Error{Path: name, Err: fmt.Errorf("%w: a %s, not a directory", ErrUnsafePath, kindName(k))}
		}
		return nil
	}
	if err := x.count(name); err != nil {
		return err
	}
	if !x.dry {
		if err := x.root.Mkdir(x.staged(name), 0o755); err != nil {
			return entryErr(name, err)
		}
	}
	x.made(name, dirKind)
	x.dirModes[name] = mode
	return nil
}

// parents makes the directories that hold name.
func (x *extractor) parents(name string) error {
	var dirs []string
	for d := path.Dir(name); d != "."; d = path.Dir(d) {
		if _, ok := x.kinds[d]; ok {
			break
		}
		dirs = append(dirs, d)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := x.mkdir(dirs[i], implied); err != nil {
			return err
		}
	}
	return nil
}

// entry writes one entry of the record.
func (x *extractor) entry(ctx context.Context, e Entry) error {
	if err := x.parents(e.Path); err != nil {
		return err
	}
	switch e.Kind {
	case File:
		return x.file(ctx, e)
	case Symlink:
		if err := x.count(e.Path); err != nil {
			return err
		}
		if err := x.root.Symlink(e.Target, x.staged(e.Path)); err != nil {
			return entryErr(e.Path, err)
		}
		x.made(e.Path, Symlink)
		return nil
	case Tar:
		return x.tar(ctx, e)
	}
	return &Error{Path: e.Path, Err: fmt.Errorf("%w: kind %q", ErrUnsupportedEntry, e.Kind)}
}

// file writes a regular file of the record from its layer, checking the
// layer's size and digest as it streams.
func (x *extractor) file(ctx context.Context, e Entry) error {
	if err := x.count(e.Path); err != nil {
		return err
	}
	if e.Size > x.opts.MaxBytes-x.bytes {
		return &Error{Path: e.Path, Err: fmt.Errorf("%w: more than %d bytes (MaxBytes)", ErrLimit, x.opts.MaxBytes)}
	}
	rc, err := x.src.Open(ctx, e)
	if err != nil {
		return &Error{Path: e.Path, Err: fmt.Errorf("open layer %s: %w", e.Digest, err)}
	}
	defer rc.Close()
	layer := newDigestReader(ctx, rc, e.Digest, e.Size)
	f, err := x.root.OpenFile(x.staged(e.Path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return entryErr(e.Path, err)
	}
	x.made(e.Path, File)
	n, err := io.CopyBuffer(&fileWriter{f: f, name: e.Path}, layer, x.buf)
	x.bytes += n
	var xe *Error
	switch {
	case errors.As(err, &xe):
	case err != nil && !errors.Is(err, ErrDigestMismatch):
		err = &Error{Path: e.Path, Err: fmt.Errorf("read layer %s: %w", e.Digest, err)}
	case err == nil:
		err = layer.verify()
	}
	if err == nil {
		err = f.Chmod(e.Mode.Perm())
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.As(err, &xe) {
		return entryErr(e.Path, err)
	}
	return err
}

// fileWriter writes to a file being extracted; its errors name the entry,
// so that they are told from errors reading the layer. It hides the
// file's ReadFrom, so that io.CopyBuffer uses the buffer it is given.
type fileWriter struct {
	f    *os.File
	name string
}

func (w *fileWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil {
		return n, entryErr(w.name, err)
	}
	return n, nil
}

// digestReader reads a layer, or the uncompressed tar in one, hashing what
// it reads. A layer may hold exactly its declared size, and reading stops
// one byte past it; a tar has no declared size but a limit.
type digestReader struct {
	ctx      context.Context
	r        io.Reader
	h        hash.Hash
	want     digest.Digest
	size     int64 // declared size, or the limit of a tar
	declared bool  // size is declared, not a limit
	n        int64
}

// newDigestReader reads a layer of the declared size.
func newDigestReader(ctx context.Context, r io.Reader, want digest.Digest, size int64) *digestReader {
	return &digestReader{ctx: ctx, r: io.LimitReader(r, size+1), h: want.Algorithm().Hash(), want: want, size: size, declared: true}
}

func (d *digestReader) Read(p []byte) (int, error) {
	if err := d.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := d.r.Read(p)
	d.h.Write(p[:n])
	d.n += int64(n)
	switch {
	case d.n <= d.size:
		return n, err
	case d.declared:
		return n, fmt.Errorf("%w: the layer holds more than the %d bytes declared", ErrDigestMismatch, d.size)
	}
	return n, fmt.Errorf("%w: the uncompressed tar holds more than %d bytes", ErrLimit, d.size)
}

// verify checks the size and digest of what was read.
func (d *digestReader) verify() error {
	what := "the uncompressed tar"
	if d.declared {
		what = "the layer"
		if d.n != d.size {
			return fmt.Errorf("%w: %s holds %d bytes, %d declared", ErrDigestMismatch, what, d.n, d.size)
		}
	}
	if got := digest.NewDigest(d.want.Algorithm(), d.h); got != d.want {
		return fmt.Errorf("%w: %s is %s, the build names %s", ErrDigestMismatch, what, got, d.want)
	}
	return nil
}

// moveIntoPlace moves what was made in the staging directory into the
// target: all of it, or, should a path be taken, nothing. With Overwrite,
// files and links replace those at their paths and directories merge into
// existing ones; the moves are planned, and conflicts found, before the
// first one. Directories made take their modes last, deepest first.
func (x *extractor) moveIntoPlace() error {
	slices.SortFunc(x.nodes, func(a, b node) int { return cmp.Compare(a.path, b.path) })
	type move struct {
		path    string
		replace bool
	}
	var moves []move
	moved := make(map[string]bool)
	under := func(p string) bool {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if moved[d] {
				return true
			}
		}
		return false
	}
	var modes []string // the directories made that take a mode, in path order
	for _, n := range x.nodes {
		if under(n.path) {
			if n.dir {
				modes = append(modes, n.path)
			}
			continue
		}
		info, err := x.root.Lstat(filepath.FromSlash(n.path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			moves = append(moves, move{path: n.path})
			moved[n.path] = true
			if n.dir {
				modes = append(modes, n.path)
			}
		case err != nil:
			return entryErr(n.path, err)
		case !x.opts.Overwrite:
			return &Error{Path: n.path, Err: fmt.Errorf("%w: the path was taken while the build was written", ErrNotEmpty)}
		case n.dir && info.IsDir():
			// merged: the existing directory keeps its mode and contents
		case n.dir:
			return &Error{Path: n.path, Err: fmt.Errorf("%w: a file or link is where the build has a directory", ErrNotEmpty)}
		case info.IsDir():
			return &Error{Path: n.path, Err: fmt.Errorf("%w: a directory is where the build has a file or link", ErrNotEmpty)}
		default:
			moves = append(moves, move{path: n.path, replace: true})
			moved[n.path] = true
		}
	}
	for i, m := range moves {
		if err := x.root.Rename(x.staged(m.path), filepath.FromSlash(m.path)); err != nil {
			// Take back what was moved to a free path; a replaced file
			// stays replaced.
			for _, back := range moves[:i] {
				if !back.replace {
					_ = x.root.RemoveAll(filepath.FromSlash(back.path))
				}
			}
			return entryErr(m.path, err)
		}
	}
	for i := len(modes) - 1; i >= 0; i-- {
		if err := x.root.Chmod(filepath.FromSlash(modes[i]), x.dirModes[modes[i]].Perm()); err != nil {
			return entryErr(modes[i], err)
		}
	}
	return nil
}
