package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

// Ingester is a store that takes a blob whose digest is not known in
// advance and hashes it as it stores it. [New] uses it when the target has
// it, so that each file is read once and hashed once; other targets get a
// hashing pass before the push. New finds it with a type assertion on its
// target: a wrapper around a [Layout] must implement Ingester itself to
// keep the single pass.
type Ingester interface {
	// Ingest stores what r yields as a blob of mediaType and returns its
	// descriptor. A blob the store already has is kept as it is. If
	// progress is not nil, it is called with the number of bytes done as
	// the blob is stored.
	Ingest(ctx context.Context, mediaType string, r io.Reader, progress func(n int64)) (ocispec.Descriptor, error)
}

// Layout is an OCI image layout on disk: oras-go's content/oci store, which
// does all reading, tagging and indexing, plus [Ingester] for single-pass
// writes of blobs. A layout that does not exist yet is created by the first
// write, so a command that fails on bad input leaves no empty layout
// behind.
//
// A Layout is safe for concurrent use, and several handles, in one process
// or in several, may share a directory: every change to index.json (a tag,
// or a manifest pushed) is made by [Layout.Update] under a lock file in the
// layout, on a view of the layout reloaded from disk, so no handle undoes
// what another saved. Reads use the view the handle loaded last: when it
// was opened or at its last change. They may therefore miss tags set since
// by other handles; to read the newest tags, read inside Update. Blobs and
// manifests are read from disk, so resolving a digest finds content that
// was stored after the view was loaded.
type Layout struct {
	root string

	// lock holds one token, taken by the goroutine that holds the layout's
	// lock file; a channel, so that waiting for it can end with a context.
	lock chan struct{}

	mu    sync.Mutex
	store *oci.Store // nil until the layout exists; it never saves index.json by itself
}

var (
	_ oras.Target          = (*Layout)(nil)
	_ content.GraphStorage = (*Layout)(nil)
	_ registry.TagLister   = (*Layout)(nil)
	_ Ingester             = (*Layout)(nil)
)

// lockFileName is the file in a layout's root on which writers take an
// exclusive lock.
const lockFileName = "slipway.lock"

// errNoLockFile is the cause when a layout has no lock file and this
// process may not create one.
var errNoLockFile = errors.New("cannot create the lock file")

// OpenLayout opens the OCI image layout in dir. If dir does not exist, the
// layout is created by the first write; until then it is empty. Opening an
// existing layout loads its index under the layout's lock (see
// [Layout.Update]), so it waits while another handle or process changes
// the layout, or until ctx is done. A layout this process may read but not
// write opens too, for reading: without the lock if it has no lock file
// yet and this process may not create one.
func OpenLayout(ctx context.Context, dir string) (*Layout, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("build: layout %q: %w", dir, err)
	}
	l := &Layout{root: root, lock: make(chan struct{}, 1)}
	if _, err := os.Stat(root); err == nil {
		if err := l.reload(ctx); errors.Is(err, errNoLockFile) {
			// A layout this process may not create a file in, it cannot
			// write to either (read-only media, another user's layout):
			// load it without the lock. A writer with more rights could
			// be saving index.json meanwhile and make the load fail.
			s, err := l.load(ctx)
			if err != nil {
				return nil, err
			}
			l.setStore(s)
		} else if err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("build: layout %q: %w", dir, err)
	}
	return l, nil
}

// Update runs fn with the layout to itself and saves what fn changed before
// anyone else may change it: the way to read tags, decide, and write tags
// without losing another writer's tags or acting on an old view.
//
// Update first waits for two locks: l's own, which orders the goroutines
// using l, then an exclusive flock(2) on the file slipway.lock in the
// layout's root, creating the layout if it does not exist yet. Waiting
// honours ctx: if ctx is done first, Update returns an error wrapping
// ctx.Err() and does not run fn. Waiters are not served in order. Update
// then reloads the layout from disk and hands fn a target backed by that
// fresh view, which holds every tag and manifest any handle or process
// saved before. If fn returns nil having set a tag or pushed a manifest,
// index.json is saved before the locks are released; on success the fresh
// view becomes the one l reads. If fn returns an error, Update returns it
// as it is and leaves index.json as it was: none of fn's tags is saved,
// while blobs and manifests fn pushed stay in blobs/, unlisted.
//
// Guaranteed: Update, [Layout.Tag] and pushes of manifests exclude one
// another across goroutines, handles and processes that use this package
// on the same directory of one host, on a file system where flock works.
// Network file systems such as NFS are not covered: whether flock there
// locks across hosts depends on client and server. Where the syscall
// package has no flock (Windows, Plan 9, WebAssembly, AIX, Solaris), the
// lock holds only among the handles of one process.
//
// Not guaranteed: anything about programs that write index.json without
// this lock, such as oras-go's content/oci store used directly or other
// OCI tools; they can still overwrite tags. Nor is index.json ever
// replaced atomically: oras-go rewrites it in place, so a program that
// reads it without the lock may find it empty or half written while it is
// saved, and a process that dies while saving leaves it so.
//
// The target is valid only while fn runs (writes through it fail
// afterwards) and may be used by several goroutines meanwhile. Like Layout
// it implements [Ingester], content.GraphStorage and registry.TagLister, so
// [New] can store a build into it. fn must not write through l or call
// l.Update: those wait for the locks fn's Update holds, until ctx is done.
// Reads through l are fine but see the old view.
func (l *Layout) Update(ctx context.Context, fn func(t oras.Target) error) error {
	unlock, err := l.acquire(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	s, err := l.load(ctx)
	if err != nil {
		return err
	}
	t := &updateTarget{root: l.root, store: s}
	err = t.run(fn)
	if err != nil {
		return err
	}
	if t.changed.Load() {
		if err := s.SaveIndex(); err != nil {
			return fmt.Errorf("build: layout %q: save index: %w", l.root, err)
		}
	}
	l.setStore(s)
	return nil
}

// acquire takes the in-process lock and then the lock file, and returns the
// function that releases both.
func (l *Layout) acquire(ctx context.Context) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("build: layout %q: wait for lock: %w", l.root, err)
	}
	select {
	case l.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("build: layout %q: wait for lock: %w", l.root, ctx.Err())
	}
	if err := os.MkdirAll(l.root, 0o777); err != nil {
		<-l.lock
		return nil, fmt.Errorf("build: layout %q: %w", l.root, err)
	}
	unlockFile, err := lockFile(ctx, filepath.Join(l.root, lockFileName))
	if err != nil {
		<-l.lock
		return nil, fmt.Errorf("build: layout %q: lock: %w", l.root, err)
	}
	return func() {
		unlockFile()
		<-l.lock
	}, nil
}

// load reads the layout from disk into a new store, creating what is
// missing of it. The caller holds the locks.
func (l *Layout) load(ctx context.Context) (*oci.Store, error) {
	s, err := oci.NewWithContext(ctx, l.root)
	if err != nil {
		return nil, fmt.Errorf("build: layout %q: %w", l.root, err)
	}
	// Only Update saves index.json, under the locks: a store that saved
	// itself on each tag or manifest push would write its own, possibly
	// old, view over what other handles saved.
	s.AutoSaveIndex = false
	return s, nil
}

// reload replaces l's view with a fresh one from disk, creating the layout
// if it does not exist.
func (l *Layout) reload(ctx context.Context) error {
	return l.Update(ctx, func(oras.Target) error { return nil })
}

func (l *Layout) current() *oci.Store {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.store
}

func (l *Layout) setStore(s *oci.Store) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.store = s
}

// open returns the store, creating the layout on disk if it does not exist.
func (l *Layout) open(ctx context.Context) (*oci.Store, error) {
	if s := l.current(); s != nil {
		return s, nil
	}
	if err := l.reload(ctx); err != nil {
		return nil, err
	}
	return l.current(), nil
}

func (l *Layout) notFound(what string) error {
	return fmt.Errorf("%s: layout %q is empty: %w", what, l.root, errdef.ErrNotFound)
}

// Fetch opens the blob or manifest target describes.
func (l *Layout) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	s := l.current()
	if s == nil {
		return nil, l.notFound(target.Digest.String())
	}
	return s.Fetch(ctx, target)
}

// Push stores a blob or manifest whose descriptor is known; the bytes are
// verified against it. A manifest is pushed inside [Layout.Update], as it
// is listed in index.json; other blobs are written without the lock.
func (l *Layout) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	if isManifest(expected) {
		return l.Update(ctx, func(t oras.Target) error { return t.Push(ctx, expected, r) })
	}
	s, err := l.open(ctx)
	if err != nil {
		return err
	}
	return s.Push(ctx, expected, r)
}

// isManifest reports whether oras-go's store lists desc in index.json when
// it is pushed, that is whether desc is an image manifest or index in the
// OCI or Docker media types, or an OCI artifact manifest.
func isManifest(desc ocispec.Descriptor) bool {
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex,
		"application/vnd.docker.distribution.manifest.v2+json",
		"application/vnd.docker.distribution.manifest.list.v2+json",
		"application/vnd.oci.artifact.manifest.v1+json":
		return true
	}
	return false
}

// Exists reports whether the layout has target.
func (l *Layout) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	s := l.current()
	if s == nil {
		return false, nil
	}
	return s.Exists(ctx, target)
}

// Resolve finds the manifest a tag or digest names, in the view l loaded
// last; see [Layout].
func (l *Layout) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	s := l.current()
	if s == nil {
		return ocispec.Descriptor{}, l.notFound(reference)
	}
	return s.Resolve(ctx, reference)
}

// Tag points reference at desc, which must be stored already. It tags
// inside [Layout.Update], so two handles or processes tagging at once both
// keep their tags.
func (l *Layout) Tag(ctx context.Context, desc ocispec.Descriptor, reference string) error {
	return l.Update(ctx, func(t oras.Target) error { return t.Tag(ctx, desc, reference) })
}

// Predecessors lists the manifests that refer to node, in the view l
// loaded last.
func (l *Layout) Predecessors(ctx context.Context, node ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	s := l.current()
	if s == nil {
		return nil, nil
	}
	return s.Predecessors(ctx, node)
}

// Tags lists the layout's tags in order, starting after last, in the view
// l loaded last.
func (l *Layout) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	s := l.current()
	if s == nil {
		return nil
	}
	return s.Tags(ctx, last, fn)
}

// errUpdateOver is the cause of a write through an [Layout.Update] target
// after Update has returned.
var errUpdateOver = errors.New("target used after its Update returned")

// updateTarget is the target [Layout.Update] hands to its function: the
// freshly loaded store, open to writes until Update returns.
type updateTarget struct {
	root    string
	store   *oci.Store
	changed atomic.Bool // a tag was set or a manifest pushed: save index.json
	over    atomic.Bool // Update has returned
}

var (
	_ oras.Target          = (*updateTarget)(nil)
	_ content.GraphStorage = (*updateTarget)(nil)
	_ registry.TagLister   = (*updateTarget)(nil)
	_ Ingester             = (*updateTarget)(nil)
)

// run calls fn with t and closes t to writes when fn returns or panics.
func (t *updateTarget) run(fn func(oras.Target) error) error {
	defer t.over.Store(true)
	return fn(t)
}

func (t *updateTarget) writable() error {
	if t.over.Load() {
		return fmt.Errorf("build: layout %q: %w", t.root, errUpdateOver)
	}
	return nil
}

func (t *updateTarget) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	return t.store.Fetch(ctx, target)
}

func (t *updateTarget) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	if err := t.writable(); err != nil {
		return err
	}
	if isManifest(expected) {
		t.changed.Store(true)
	}
	return t.store.Push(ctx, expected, r)
}

func (t *updateTarget) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	return t.store.Exists(ctx, target)
}

func (t *updateTarget) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	return t.store.Resolve(ctx, reference)
}

func (t *updateTarget) Tag(ctx context.Context, desc ocispec.Descriptor, reference string) error {
	if err := t.writable(); err != nil {
		return err
	}
	t.changed.Store(true)
	return t.store.Tag(ctx, desc, reference)
}

func (t *updateTarget) Predecessors(ctx context.Context, node ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	return t.store.Predecessors(ctx, node)
}

func (t *updateTarget) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	return t.store.Tags(ctx, last, fn)
}

func (t *updateTarget) Ingest(ctx context.Context, mediaType string, r io.Reader, progress func(n int64)) (ocispec.Descriptor, error) {
	if err := t.writable(); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ingest(ctx, t.root, mediaType, r, progress)
}

// Ingest copies r into a temporary file in the layout, hashes that copy,
// and moves it to its content address, blobs/<alg>/<hex>. When r is an
// *os.File the copy is made by the kernel (copy_file_range, a reflink on
// file systems that have them), so the source is read once and only the
// layout's own copy is hashed: the digest is always that of the stored
// bytes, even if the source changes meanwhile. Other readers are hashed as
// they are written. Nothing is held in memory beyond one copy buffer; if the
// blob exists already, the temporary file is removed and the stored blob
// kept.
func (l *Layout) Ingest(ctx context.Context, mediaType string, r io.Reader, progress func(n int64)) (ocispec.Descriptor, error) {
	if _, err := l.open(ctx); err != nil {
		return ocispec.Descriptor{}, err
	}
	return ingest(ctx, l.root, mediaType, r, progress)
}

// ingest is [Layout.Ingest] into the existing layout at root.
func ingest(ctx context.Context, root, mediaType string, r io.Reader, progress func(n int64)) (desc ocispec.Descriptor, err error) {
	dir := filepath.Join(root, "ingest")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "slipway_*")
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if progress == nil {
		progress = func(int64) {}
	}
	dg := digest.SHA256.Digester()
	buf := make([]byte, copyBufferSize)
	var n int64
	if f, ok := r.(*os.File); ok {
		if err := kernelCopy(ctx, tmp, f); err != nil {
			return ocispec.Descriptor{}, err
		}
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return ocispec.Descriptor{}, err
		}
		n, err = io.CopyBuffer(dg.Hash(), &progressReader{ctxReader{ctx, tmp}, progress}, buf)
	} else {
		n, err = io.CopyBuffer(io.MultiWriter(tmp, dg.Hash()), &progressReader{ctxReader{ctx, r}, progress}, buf)
	}
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := tmp.Close(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest: %w", err)
	}
	d := dg.Digest()
	desc = ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: n}
	target := filepath.Join(root, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
	if _, err := os.Stat(target); err == nil {
		os.Remove(tmp.Name())
		return desc, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o777); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	return desc, nil
}

// kernelCopy copies src to dst in chunks, so that ctx can stop it; os.File
// makes each chunk one copy_file_range call where the kernel has it.
func kernelCopy(ctx context.Context, dst, src *os.File) error {
	const chunk = 64 << 20
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := dst.ReadFrom(&io.LimitedReader{R: src, N: chunk})
		if err != nil {
			return err
		}
		if n < chunk {
			return nil
		}
	}
}

// copyBufferSize is the size of the one buffer each file copy uses.
const copyBufferSize = 1 << 20

// ctxReader stops a copy when ctx is done. It also hides any WriterTo of
// the underlying reader, so copies use the caller's large buffer.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
