package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry"
)

// Ingester is a store that takes a blob whose digest is not known in
// advance and hashes it while writing it. [New] uses it when the target has
// it, so that each file is read once and hashed once; other targets get a
// hashing pass before the push.
type Ingester interface {
	// Ingest stores what r yields as a blob of mediaType and returns its
	// descriptor. A blob the store already has is kept as it is.
	Ingest(ctx context.Context, mediaType string, r io.Reader) (ocispec.Descriptor, error)
}

// Layout is an OCI image layout on disk: oras-go's content/oci store, which
// does all reading, tagging and indexing, plus [Ingester] for single-pass
// writes of blobs. It is safe for concurrent use within one process.
type Layout struct {
	store *oci.Store
	root  string
}

var (
	_ oras.Target          = (*Layout)(nil)
	_ content.GraphStorage = (*Layout)(nil)
	_ registry.TagLister   = (*Layout)(nil)
	_ Ingester             = (*Layout)(nil)
)

// OpenLayout opens the OCI image layout in dir, creating dir and the layout
// if they do not exist.
func OpenLayout(ctx context.Context, dir string) (*Layout, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("build: layout %q: %w", dir, err)
	}
	s, err := oci.NewWithContext(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("build: layout %q: %w", dir, err)
	}
	return &Layout{store: s, root: root}, nil
}

// Fetch opens the blob or manifest target describes.
func (l *Layout) Fetch(ctx context.Context, target ocispec.Descriptor) (io.ReadCloser, error) {
	return l.store.Fetch(ctx, target)
}

// Push stores a blob or manifest whose descriptor is known; the bytes are
// verified against it.
func (l *Layout) Push(ctx context.Context, expected ocispec.Descriptor, r io.Reader) error {
	return l.store.Push(ctx, expected, r)
}

// Exists reports whether the layout has target.
func (l *Layout) Exists(ctx context.Context, target ocispec.Descriptor) (bool, error) {
	return l.store.Exists(ctx, target)
}

// Resolve finds the manifest a tag or digest names.
func (l *Layout) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	return l.store.Resolve(ctx, reference)
}

// Tag points reference at desc, which must be stored already.
func (l *Layout) Tag(ctx context.Context, desc ocispec.Descriptor, reference string) error {
	return l.store.Tag(ctx, desc, reference)
}

// Predecessors lists the manifests that refer to node.
func (l *Layout) Predecessors(ctx context.Context, node ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	return l.store.Predecessors(ctx, node)
}

// Tags lists the layout's tags in order, starting after last.
func (l *Layout) Tags(ctx context.Context, last string, fn func(tags []string) error) error {
	return l.store.Tags(ctx, last, fn)
}

// Ingest streams r into a temporary file in the layout while hashing it,
// then moves it to its content address, blobs/<alg>/<hex>. Nothing is
// held in memory beyond one copy buffer; if the blob exists already, the
// temporary file is removed and the stored blob kept.
func (l *Layout) Ingest(ctx context.Context, mediaType string, r io.Reader) (desc ocispec.Descriptor, err error) {
	dir := filepath.Join(l.root, "ingest")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest: %w", err)
	}
	f, err := os.CreateTemp(dir, "slipway_*")
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	dg := digest.SHA256.Digester()
	buf := make([]byte, copyBufferSize)
	n, err := io.CopyBuffer(io.MultiWriter(f, dg.Hash()), ctxReader{ctx, r}, buf)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if err := f.Close(); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest: %w", err)
	}
	d := dg.Digest()
	desc = ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: n}
	target := filepath.Join(l.root, ocispec.ImageBlobsDir, d.Algorithm().String(), d.Encoded())
	if _, err := os.Stat(target); err == nil {
		os.Remove(tmp)
		return desc, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	if err := os.Chmod(tmp, 0o444); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o777); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("build: ingest %s: %w", d, err)
	}
	return desc, nil
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
