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
// behind. It is safe for concurrent use within one process.
type Layout struct {
	root string

	mu    sync.Mutex
	store *oci.Store // nil until the layout exists
}

var (
	_ oras.Target          = (*Layout)(nil)
	_ content.GraphStorage = (*Layout)(nil)
	_ registry.TagLister   = (*Layout)(nil)
	_ Ingester             = (*Layout)(nil)
)

// OpenLayout opens the OCI image layout in dir. If dir does not exist, the
// layout is created by the first write; until then it is empty.
func OpenLayout(ctx context.Context, dir string) (*Layout, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("build: layout %q: %w", dir, err)
	}
	l := &Layout{root: root}
	if _, err := os.Stat(root); err == nil {
		if _, err := l.open(ctx, true); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("build: layout %q: %w", dir, err)
	}
	return l, nil
}

// open returns the store, creating the layout on disk if create is set;
// without create it returns nil while the layout does not exist.
func (l *Layout) open(ctx context.Context, create bool) (*oci.Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store != nil || !create {
		return l.store, nil
	}
	s, err := oci.NewWithContext(ctx, l.root)
	if err != nil {
		return nil, fmt.Errorf("build: layout %q: %w", l.root, err)
	}
	l.store = s
	return s, nil
}

func (l *Layout) notFound(what string) error {
	return fmt.Errorf("%s: layout %q is empty: %w", what, l.root, errdef.ErrNotFound)
}

// Fetch opens the blob or manifest target describes.
func (l *Layout) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	s, _ := l.open(ctx, false)
	if s == nil {
		return nil, l.notFound(target.Digest.String())
	}
	return s.Fetch(ctx, target)
}

// Push stores a blob or manifest whose descriptor is known; the bytes are
// verified against it.
func (l *Layout) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	s, err := l.open(ctx, true)
	if err != nil {
		return err
	}
	return s.Push(ctx, expected, r)
}

// Exists reports whether the layout has target.
func (l *Layout) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	s, _ := l.open(ctx, false)
	if s == nil {
		return false, nil
	}
	return s.Exists(ctx, target)
}

// Resolve finds the manifest a tag or digest names.
func (l *Layout) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	s, _ := l.open(ctx, false)
	if s == nil {
		return ocispec.Descriptor{}, l.notFound(reference)
	}
	return s.Resolve(ctx, reference)
}

// Tag points reference at desc, which must be stored already.
func (l *Layout) Tag(ctx context.Context, desc ocispec.Descriptor, reference string) error {
	s, err := l.open(ctx, true)
	if err != nil {
		return err
	}
	return s.Tag(ctx, desc, reference)
}

// Predecessors lists the manifests that refer to node.
func (l *Layout) Predecessors(ctx context.Context, node ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	s, _ := l.open(ctx, false)
	if s == nil {
		return nil, nil
	}
	return s.Predecessors(ctx, node)
}

// Tags lists the layout's tags in order, starting after last.
func (l *Layout) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	s, _ := l.open(ctx, false)
	if s == nil {
		return nil
	}
	return s.Tags(ctx, last, fn)
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
func (l *Layout) Ingest(ctx context.Context, mediaType string, r io.Reader, progress func(n int64)) (desc ocispec.Descriptor, err error) {
	if _, err := l.open(ctx, true); err != nil {
		return ocispec.Descriptor{}, err
	}
	dir := filepath.Join(l.root, "ingest")
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
	target := filepath.Join(l.root, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
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
