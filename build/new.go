package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/sde"
)

// New makes a build of app from spec and stores it in dst: a layer per
// regular file (or per packed directory), the build record as the config
// blob, then the manifest, then the tags in opts. It returns the stored,
// immutable build.
//
// Go binaries in the build are read with debug/buildinfo. Their main
// module and toolchain are recorded (in the build when all binaries agree)
// and their VCS revision fills spec.Source.Revision when it is empty; a
// given revision that contradicts a binary's fails with
// [ErrRevisionMismatch] before anything is stored. A binary built from a
// modified tree makes the build dirty.
//
// The same inputs give the same bytes and digests: the record holds no
// file times, owners or wall-clock time. Each file is read and hashed once
// when dst is an [Ingester] such as [Layout]; other targets get one hashing
// pass, then the push. Blobs dst already has are not sent again. Bad input
// fails before any I/O on dst with an error that names the file (see
// [FileError]) and wraps one of this package's Err values.
//
// With [Options.Policy], New applies the policy twice. First before
// anything is sent to dst: to the files as listed (their names and sizes,
// the members of packed directories included) and to the summary of the
// evidence; to make the generated SBOM for that, Go binaries are hashed in
// a pass of their own before their push, even to an [Ingester]. A build
// that breaks the policy then stores nothing at all: New returns a
// [*PolicyError] listing every finding, which wraps [ErrPolicy]. Then once
// more over what was stored, before the record: should the files have
// changed on disk meanwhile so that the build now breaks the policy, the
// error is the same and no record, manifest or tag is stored, but the file
// and evidence blobs already sent stay in dst, unreferenced. A build that
// passes records the result in its summary's Policy ([Build.Summary]).
func New(ctx context.Context, dst oras.Target, app string, spec Spec, opts Options) (*Build, error) {
	b, err := newBuild(ctx, dst, app, spec, opts)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	return b, nil
}

func newBuild(ctx context.Context, dst oras.Target, app string, spec Spec, opts Options) (*Build, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	if err := checkAppName(app); err != nil {
		return nil, err
	}
	if err := checkProcesses(spec.Processes); err != nil {
		return nil, err
	}
	if err := checkRepository(spec.Source.Repository); err != nil {
		return nil, fmt.Errorf("Spec.Source: %w", err)
	}
	created, err := sde.Created(spec.Created)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSpec, err)
	}
	var items []item
	switch {
	case spec.Dir != "" && len(spec.Files) > 0:
		return nil, fmt.Errorf("%w: give Spec.Dir or Spec.Files, not both", ErrInvalidSpec)
	case len(spec.Tar) > 0 && spec.Dir == "":
		return nil, fmt.Errorf("%w: Spec.Tar needs Spec.Dir", ErrInvalidSpec)
	case spec.Dir != "":
		if items, err = collectDir(spec.Dir, spec.Tar); err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, fileErr(spec.Dir, fmt.Errorf("%w: empty directory", ErrEmpty))
		}
	case len(spec.Files) > 0:
		if items, err = collectFiles(spec.Files); err != nil {
			return nil, err
		}
	case spec.Image == "":
		return nil, fmt.Errorf("%w: %w", ErrEmpty, errNoInput)
	}

	rec := &record{
		App:     app,
		Created: created.Format(time.RFC3339),
		Builder: spec.Builder,
	}
	for _, p := range spec.Processes {
		rec.Processes = append(rec.Processes, processRecord(p))
	}
	var subject *ocispec.Descriptor
	if spec.Image != "" {
		if subject, err = adopt(ctx, dst, spec.Image); err != nil {
			return nil, err
		}
		rec.Image = &imageRecord{MediaType: subject.MediaType, Digest: subject.Digest.String(), Size: subject.Size}
	}

	preds, err := readEvidence(&spec, created)
	if err != nil {
		return nil, err
	}
	rec.Invocation = spec.Invocation

	s := &storer{dst: dst, opts: opts}
	defer s.cleanup()
	if err := s.run(ctx, items, s.prepare); err != nil {
		return nil, err
	}
	src := sourceRecord(spec.Source)
	bins := s.binaries()
	if rec.Module, rec.Toolchain, err = mergeBinaries(&src, bins); err != nil {
		return nil, err
	}
	if src != (sourceRecord{}) {
		rec.Source = &src
	}
	rec.Binaries = bins
	genSBOM := spec.SBOM == "" && len(s.infos) > 0
	if opts.Policy != nil {
		if genSBOM {
			// The generated SBOM names the binaries by digest: hash them
			// now, one pass before their push, so that the policy is
			// decided before anything is sent.
			if err := s.run(ctx, items, s.hashBinary); err != nil {
				return nil, err
			}
		}
		if err := s.decide(opts.Policy, rec, items, preds, genSBOM, created); err != nil {
			return nil, err
		}
	}
	for i := range items {
		s.total += items[i].size
	}
	if err := s.run(ctx, items, s.store); err != nil {
		return nil, err
	}
	for _, it := range items {
		rec.Files = append(rec.Files, it.entry)
	}
	if genSBOM {
		p, err := goSBOM(rec, s.infos, rec.Files, created)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	if err := s.storeEvidence(ctx, rec, preds); err != nil {
		return nil, err
	}
	if p := opts.Policy; p != nil {
		// Once more over what was stored, which New read again: the
		// record must say what passed.
		if err := checkPolicy(p, rec, created, items); err != nil {
			return nil, err
		}
		if rec.Summary == nil {
			rec.Summary = &attest.Summary{}
		}
		rec.Summary.Policy = &attest.PolicyResult{Digest: p.Digest().String(), Pass: true}
	}
	return s.finish(ctx, rec, subject)
}

// decide applies the policy p to the build as it will be, before any of
// it is stored: its files as listed and prepared, and the summary of its
// evidence.
func (s *storer) decide(p *Policy, rec *record, items []item, preds []predicate, genSBOM bool, created time.Time) error {
	trial := *rec
	trial.Files = make([]entryRecord, len(items))
	for i, it := range items {
		trial.Files[i] = it.entry
	}
	if genSBOM {
		sbom, err := goSBOM(&trial, s.infos, trial.Files, created)
		if err != nil {
			return err
		}
		preds = append(slices.Clip(preds), sbom)
	}
	if _, err := recordEvidence(&trial, preds); err != nil {
		return err
	}
	return checkPolicy(p, &trial, created, items)
}

// checkPolicy applies p to the build that rec and items describe.
func checkPolicy(p *Policy, rec *record, created time.Time, items []item) error {
	var sum attest.Summary
	if rec.Summary != nil {
		sum = *rec.Summary
	}
	if findings := p.Check(sum, buildingFacts(rec, created, items)); len(findings) > 0 {
		return &PolicyError{Policy: p.Digest(), Findings: findings}
	}
	return nil
}

// hashBinary hashes a Go binary on disk whose digest is not known yet.
func (s *storer) hashBinary(ctx context.Context, it *item) error {
	if it.entry.Type != TypeFile || it.entry.Digest != "" || !slices.ContainsFunc(s.bins, func(b binaryRecord) bool { return b.Path == it.entry.Path }) {
		return nil
	}
	d, err := hashFile(ctx, it.disk)
	if err != nil {
		return fileErr(it.entry.Path, err)
	}
	it.entry.Digest, it.entry.Size = d.Digest.String(), d.Size
	return nil
}

// adopt resolves the image a build adopts; it must be in dst already.
func adopt(ctx context.Context, dst oras.Target, dgst digest.Digest) (*ocispec.Descriptor, error) {
	if err := dgst.Validate(); err != nil {
		return nil, fmt.Errorf("Spec.Image %q: %w: %w", dgst, ErrInvalidSpec, err)
	}
	desc, err := dst.Resolve(ctx, dgst.String())
	if err != nil {
		return nil, fmt.Errorf("adopt image %s: %w", dgst, err)
	}
	switch desc.MediaType {
	case ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, mediaTypeDockerManifest, mediaTypeDockerList:
	default:
		return nil, fmt.Errorf("adopt image %s: %w: %q is not an image manifest or index", dgst, ErrMediaType, desc.MediaType)
	}
	return &ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, nil
}

// storer carries one New call's state across its workers.
type storer struct {
	dst  oras.Target
	opts Options

	mu     sync.Mutex
	bins   []binaryRecord
	infos  []attest.GoBinary
	spools []string
	done   int64
	total  int64
}

func (s *storer) run(ctx context.Context, items []item, fn func(context.Context, *item) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Concurrency)
	for i := range items {
		g.Go(func() error { return fn(ctx, &items[i]) })
	}
	return g.Wait()
}

// prepare reads what must be known before anything is stored: the build
// info of Go binaries, and the digests of contents that are not files on
// disk (readers and packed directories), spooled to a temporary file as
// they are hashed.
func (s *storer) prepare(ctx context.Context, it *item) error {
	switch {
	case it.entry.Type == TypeFile && it.reader != nil:
		desc, spool, err := s.spool(ctx, FileMediaType, func(w io.Writer) error {
			_, err := io.CopyBuffer(w, ctxReader{ctx, it.reader}, make([]byte, copyBufferSize))
			return err
		})
		if err != nil {
			return fileErr(it.entry.Path, err)
		}
		it.disk, it.size = spool, desc.Size
		it.entry.Digest, it.entry.Size = desc.Digest.String(), desc.Size
	case it.entry.Type == TypeTar:
		var tarDigest digest.Digest
		desc, spool, err := s.spool(ctx, TarMediaType, func(w io.Writer) (err error) {
			tarDigest, err = packTar(ctx, w, it.members)
			return err
		})
		if err != nil {
			return fileErr(it.entry.Path, err)
		}
		it.disk, it.size = spool, desc.Size
		it.entry.Digest, it.entry.Size, it.entry.TarDigest = desc.Digest.String(), desc.Size, tarDigest.String()
		return nil
	}
	if it.entry.Type == TypeFile {
		if b, info, ok := readBinary(it.disk, it.entry.Path); ok {
			s.mu.Lock()
			s.bins = append(s.bins, b)
			s.infos = append(s.infos, attest.GoBinary{Path: b.Path, Info: info})
			s.mu.Unlock()
		}
	}
	return nil
}

// spool writes what fill produces to a temporary file, hashing it on the
// way, and returns its descriptor and path.
func (s *storer) spool(ctx context.Context, mediaType string, fill func(io.Writer) error) (ocispec.Descriptor, string, error) {
	f, err := os.CreateTemp(s.opts.TempDir, "slipway-spool-*")
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	s.mu.Lock()
	s.spools = append(s.spools, f.Name())
	s.mu.Unlock()
	dg := digest.SHA256.Digester()
	cw := &countWriter{w: io.MultiWriter(f, dg.Hash())}
	err = fill(cw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return ocispec.Descriptor{}, "", err
	}
	return ocispec.Descriptor{MediaType: mediaType, Digest: dg.Digest(), Size: cw.n}, f.Name(), ctx.Err()
}

func (s *storer) binaries() []binaryRecord {
	slices.SortFunc(s.bins, func(a, b binaryRecord) int { return strings.Compare(a.Path, b.Path) })
	return s.bins
}

func (s *storer) cleanup() {
	for _, p := range s.spools {
		os.Remove(p)
	}
}

// store puts one item's layer into the target, if it has one.
func (s *storer) store(ctx context.Context, it *item) error {
	if it.entry.Type == TypeSymlink {
		return nil
	}
	mediaType := FileMediaType
	if it.entry.Type == TypeTar {
		mediaType = TarMediaType
	}
	if it.entry.Digest == "" {
		// A file on disk: hash it now, in one pass with the write if the
		// target can take it so.
		if ing, ok := s.dst.(Ingester); ok {
			f, err := os.Open(it.disk)
			if err != nil {
				return fileErr(it.entry.Path, err)
			}
			defer f.Close()
			d, err := ing.Ingest(ctx, mediaType, f, func(n int64) { s.advance(it.entry.Path, n) })
			if err != nil {
				return fileErr(it.entry.Path, err)
			}
			it.entry.Digest, it.entry.Size = d.Digest.String(), d.Size
			s.logStored(it, false)
			return nil
		}
		d, err := hashFile(ctx, it.disk)
		if err != nil {
			return fileErr(it.entry.Path, err)
		}
		it.entry.Digest, it.entry.Size = d.Digest.String(), d.Size
	}
	desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.Digest(it.entry.Digest), Size: it.entry.Size}
	if ok, err := s.dst.Exists(ctx, desc); err != nil {
		return fileErr(it.entry.Path, fmt.Errorf("check %s: %w", desc.Digest, err))
	} else if ok {
		s.advance(it.entry.Path, it.size)
		s.logStored(it, true)
		return nil
	}
	f, err := os.Open(it.disk)
	if err != nil {
		return fileErr(it.entry.Path, err)
	}
	defer f.Close()
	if err := s.dst.Push(ctx, desc, s.counting(it.entry.Path, io.LimitReader(f, desc.Size))); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return fileErr(it.entry.Path, fmt.Errorf("push %s: %w", desc.Digest, err))
	}
	s.logStored(it, false)
	return nil
}

func (s *storer) logStored(it *item, existed bool) {
	s.opts.Logger.Debug("stored layer", "path", it.entry.Path, "digest", it.entry.Digest, "size", it.entry.Size, "existed", existed)
}

// hashFile is the one hashing pass over a file bound for a target that
// cannot hash while it writes.
func hashFile(ctx context.Context, p string) (ocispec.Descriptor, error) {
	f, err := os.Open(p)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	defer f.Close()
	dg := digest.SHA256.Digester()
	n, err := io.CopyBuffer(dg.Hash(), ctxReader{ctx, f}, make([]byte, copyBufferSize))
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{Digest: dg.Digest(), Size: n}, nil
}

func (s *storer) counting(name string, r io.Reader) io.Reader {
	return &progressReader{r, func(n int64) { s.advance(name, n) }}
}

func (s *storer) advance(name string, n int64) {
	if s.opts.Progress == nil || n == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done += n
	s.opts.Progress(Progress{Path: name, Done: s.done, Total: s.total})
}

// finish stores the record and the manifest, checks that they read back as
// a valid build, and sets the tags.
func (s *storer) finish(ctx context.Context, rec *record, subject *ocispec.Descriptor) (*Build, error) {
	if err := rec.validate(); err != nil {
		return nil, fmt.Errorf("%w", err)
	}
	recBytes, err := rec.encode()
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	config := content.NewDescriptorFromBytes(MediaType, recBytes)
	if err := pushBytes(ctx, s.dst, config, recBytes); err != nil {
		return nil, fmt.Errorf("store record: %w", err)
	}
	layers := layersOf(rec)
	if len(layers) == 0 {
		// An artifact without files carries the empty descriptor as its
		// one layer (image-spec, "Guidelines for Artifact Usage").
		empty := ocispec.DescriptorEmptyJSON
		if err := pushBytes(ctx, s.dst, empty, empty.Data); err != nil {
			return nil, fmt.Errorf("store empty layer: %w", err)
		}
		layers = []ocispec.Descriptor{{MediaType: empty.MediaType, Digest: empty.Digest, Size: empty.Size}}
	}
	annotations := map[string]string{ocispec.AnnotationCreated: rec.Created}
	if rec.Source != nil && rec.Source.Repository != "" {
		annotations[ocispec.AnnotationSource] = rec.Source.Repository
	}
	if rec.Source != nil && rec.Source.Revision != "" {
		annotations[ocispec.AnnotationRevision] = rec.Source.Revision
	}
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: MediaType,
		Config:       config,
		Layers:       layers,
		Subject:      subject,
		Annotations:  annotations,
	}
	manifestBytes, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	b, err := parse(manifestBytes, recBytes)
	if err != nil {
		return nil, fmt.Errorf("made an invalid build: %w", err)
	}
	desc := b.Descriptor()
	if err := pushBytes(ctx, s.dst, desc, manifestBytes); err != nil {
		return nil, fmt.Errorf("store manifest: %w", err)
	}
	for _, t := range s.opts.Tags {
		if err := s.dst.Tag(ctx, desc, t); err != nil {
			return nil, fmt.Errorf("tag %s as %q: %w", desc.Digest, t, err)
		}
	}
	return b, nil
}

// layersOf lists the layers a record's entries call for, in record order,
// then its evidence.
func layersOf(rec *record) []ocispec.Descriptor {
	var layers []ocispec.Descriptor
	for _, e := range rec.Files {
		switch e.Type {
		case TypeFile:
			layers = append(layers, ocispec.Descriptor{
				MediaType:   FileMediaType,
				Digest:      digest.Digest(e.Digest),
				Size:        e.Size,
				Annotations: map[string]string{ocispec.AnnotationTitle: e.Path},
			})
		case TypeTar:
			layers = append(layers, ocispec.Descriptor{
				MediaType: TarMediaType,
				Digest:    digest.Digest(e.Digest),
				Size:      e.Size,
				Annotations: map[string]string{
					ocispec.AnnotationTitle: e.Path,
					AnnotationTarDigest:     e.TarDigest,
					AnnotationUnpack:        "true",
				},
			})
		}
	}
	for _, e := range rec.Evidence {
		layers = append(layers, ocispec.Descriptor{MediaType: e.MediaType, Digest: digest.Digest(e.Digest), Size: e.Size})
	}
	return layers
}

func pushBytes(ctx context.Context, dst oras.Target, desc ocispec.Descriptor, data []byte) error {
	if ok, err := dst.Exists(ctx, desc); err != nil {
		return err
	} else if ok {
		return nil
	}
	if err := dst.Push(ctx, desc, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return err
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// progressReader reports each read to fn.
type progressReader struct {
	r  io.Reader
	fn func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.fn(int64(n))
	return n, err
}
