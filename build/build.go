package build

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/artifact"
)

// Build is a stored, immutable, content-addressed build: an OCI image
// manifest whose config blob is the build record and whose layers are the
// build's files. Its accessors return copies; it is safe for concurrent
// use. Make one with [New] or [Load].
type Build struct {
	desc     ocispec.Descriptor // of the manifest
	manifest ocispec.Manifest
	raw      []byte // manifest bytes
	record   []byte // record bytes
	rec      record
	created  time.Time
}

// Descriptor describes the build manifest.
func (b *Build) Descriptor() ocispec.Descriptor { return cloneDescriptor(b.desc) }

// Digest is the digest of the build manifest: the build's identity.
func (b *Build) Digest() digest.Digest { return b.desc.Digest }

// Manifest returns the exact bytes of the build manifest.
func (b *Build) Manifest() []byte { return bytes.Clone(b.raw) }

// Record returns the exact bytes of the build record, the manifest's config
// blob, and its descriptor.
func (b *Build) Record() ([]byte, ocispec.Descriptor) {
	return bytes.Clone(b.record), cloneDescriptor(b.manifest.Config)
}

// App is the name of the app the build belongs to.
func (b *Build) App() string { return b.rec.App }

// Created is the build's creation time.
func (b *Build) Created() time.Time { return b.created }

// Source is where the build's code came from, as given or as its Go
// binaries stamped it.
func (b *Build) Source() Source {
	if b.rec.Source == nil {
		return Source{}
	}
	return Source(*b.rec.Source)
}

// Builder identifies who or what made the build.
func (b *Build) Builder() string { return b.rec.Builder }

// Module is the main module of the build's Go binaries, empty unless they
// all agree.
func (b *Build) Module() string { return b.rec.Module }

// Toolchain is the Go version of the build's Go binaries, empty unless
// they all agree.
func (b *Build) Toolchain() string { return b.rec.Toolchain }

// Processes returns the declared process types in declaration order.
func (b *Build) Processes() []Process { return toProcesses(b.rec.Processes) }

// Process returns the declared process called name.
func (b *Build) Process(name string) (Process, bool) {
	for _, p := range b.rec.Processes {
		if p.Name == name {
			return Process(p), true
		}
	}
	return Process{}, false
}

// Entries returns the build's files, links and packed directories in path
// order.
func (b *Build) Entries() []Entry {
	out := make([]Entry, len(b.rec.Files))
	for i, e := range b.rec.Files {
		out[i] = Entry{
			Path:      e.Path,
			Type:      e.Type,
			Size:      e.Size,
			Digest:    digest.Digest(e.Digest),
			Target:    e.Target,
			TarDigest: digest.Digest(e.TarDigest),
		}
		if e.Mode != "" {
			out[i].Mode = parseMode(e.Mode)
		}
	}
	return out
}

// Binaries returns what the build's Go binaries say about themselves, in
// path order.
func (b *Build) Binaries() []Binary {
	out := make([]Binary, len(b.rec.Binaries))
	for i, x := range b.rec.Binaries {
		out[i] = Binary{Path: x.Path, Module: x.Module, Version: x.Version, GoVersion: x.GoVersion, Revision: x.Revision, Dirty: x.Dirty}
		for _, d := range x.Deps {
			out[i].Deps = append(out[i].Deps, Dependency(d))
		}
	}
	return out
}

// Invocation identifies the run that made the build, if it was given.
func (b *Build) Invocation() string { return b.rec.Invocation }

// Evidence returns the build's stored evidence in digest order: its SBOM,
// scans and VEX documents as predicates.
func (b *Build) Evidence() []Evidence {
	out := make([]Evidence, len(b.rec.Evidence))
	for i, e := range b.rec.Evidence {
		out[i] = Evidence{
			PredicateType: e.PredicateType,
			Descriptor:    ocispec.Descriptor{MediaType: e.MediaType, Digest: digest.Digest(e.Digest), Size: e.Size},
			Source:        e.Source,
		}
	}
	return out
}

// Summary is what the build's evidence says: SBOM, open and suppressed
// vulnerabilities, and the evidence it was computed from, and the result
// of the build policy [New] applied, if any (Policy, which names the
// policy by digest; a stored build always passed it). It is empty when the
// build has no evidence and no policy was applied. The record holds it as
// computed by [New]; a release's verification recomputes it from the
// attested evidence, all but Policy.
func (b *Build) Summary() attest.Summary {
	if b.rec.Summary == nil {
		return attest.Summary{}
	}
	return b.rec.Summary.Clone()
}

// Products are the identities under which VEX statements name the build:
// its app name and the purls of its Go binaries' main modules, with and
// without version.
func (b *Build) Products() []string { return productsOf(&b.rec) }

// Image returns the adopted container image, if the build adopted one.
func (b *Build) Image() (ocispec.Descriptor, bool) {
	if b.manifest.Subject == nil {
		return ocispec.Descriptor{}, false
	}
	return cloneDescriptor(*b.manifest.Subject), true
}

// Layers returns the descriptors of the build's layers in manifest order.
func (b *Build) Layers() []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, len(b.manifest.Layers))
	for i, l := range b.manifest.Layers {
		out[i] = cloneDescriptor(l)
	}
	return out
}

// Open returns the stored bytes of the file or packed directory at path
// (for a packed directory, the tar+gzip layer), fetched from src. The
// reader fails at its end if the bytes do not match the recorded digest
// and size; read to io.EOF before trusting them.
func (b *Build) Open(ctx context.Context, src content.Fetcher, path string) (io.ReadCloser, error) {
	for _, l := range b.manifest.Layers {
		if l.Annotations[ocispec.AnnotationTitle] != path {
			continue
		}
		rc, err := src.Fetch(ctx, l)
		if err != nil {
			if errors.Is(err, errdef.ErrNotFound) {
				err = fmt.Errorf("%w: %w", ErrMissingBlob, err)
			}
			return nil, fmt.Errorf("build: open %w", fileErr(path, fmt.Errorf("fetch %s: %w", l.Digest, err)))
		}
		return verifyingReader{content.NewVerifyReader(rc, l), rc}, nil
	}
	return nil, fmt.Errorf("build: open %w", fileErr(path, fmt.Errorf("no file or packed directory at this path: %w", errdef.ErrNotFound)))
}

type verifyingReader struct {
	vr *content.VerifyReader
	io.Closer
}

func (v verifyingReader) Read(p []byte) (int, error) {
	n, err := v.vr.Read(p)
	if errors.Is(err, io.EOF) {
		if verr := v.vr.Verify(); verr != nil {
			return n, verr
		}
	}
	return n, err
}

// Load reads the build that ref (a tag or digest) names in src and checks
// it: the manifest's media type and artifactType ([ErrMediaType],
// [ErrUnknownVersion]), the record's syntax and rules ([ErrInvalidRecord]),
// that record and manifest agree ([ErrRecordMismatch]), and that every
// layer and the adopted image are present ([ErrMissingBlob]). Manifest and
// record are read with size limits and verified against their digests; the
// layers' contents are verified when they are opened, not here.
func Load(ctx context.Context, src oras.ReadOnlyTarget, ref string) (*Build, error) {
	desc, err := src.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("build: resolve %q: %w", ref, err)
	}
	return load(ctx, src, ref, desc)
}

// LoadDescriptor is [Load] of the build manifest desc describes, for
// stores that resolve tags only and callers that hold a descriptor, such
// as the one a release record names.
func LoadDescriptor(ctx context.Context, src oras.ReadOnlyTarget, desc ocispec.Descriptor) (*Build, error) {
	return load(ctx, src, desc.Digest.String(), desc)
}

func load(ctx context.Context, src oras.ReadOnlyTarget, ref string, desc ocispec.Descriptor) (*Build, error) {
	wrap := func(err error) error { return fmt.Errorf("build: load %s@%s: %w", ref, desc.Digest, err) }
	if desc.MediaType == mediaTypeUnknown && desc.Size <= maxManifest {
		// Some stores resolve a digest they hold no index entry for as a
		// plain blob (an OCI layout written by another process since it was
		// opened): the manifest says what it is.
		raw, err := fetchAll(ctx, src, desc)
		if err != nil {
			return nil, wrap(fmt.Errorf("manifest: %w", err))
		}
		var probe struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(raw, &probe) == nil && probe.MediaType == ocispec.MediaTypeImageManifest {
			desc.MediaType = probe.MediaType
		}
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, wrap(fmt.Errorf("%w: manifest media type %q", ErrMediaType, desc.MediaType))
	}
	if desc.Size > maxManifest {
		return nil, wrap(fmt.Errorf("%w: manifest of %d bytes exceeds %d", ErrInvalidRecord, desc.Size, maxManifest))
	}
	raw, err := fetchAll(ctx, src, desc)
	if err != nil {
		return nil, wrap(fmt.Errorf("manifest: %w", err))
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, wrap(fmt.Errorf("%w: manifest: %w", ErrInvalidRecord, err))
	}
	if err := checkType(&m); err != nil {
		return nil, wrap(err)
	}
	if m.Config.Size > maxRecordBytes {
		return nil, wrap(fmt.Errorf("%w: record of %d bytes exceeds %d", ErrInvalidRecord, m.Config.Size, maxRecordBytes))
	}
	rec, err := fetchAll(ctx, src, m.Config)
	if err != nil {
		return nil, wrap(fmt.Errorf("record: %w", err))
	}
	b, err := parse(raw, rec)
	if err != nil {
		return nil, wrap(err)
	}
	blobs := b.Layers()
	if img, ok := b.Image(); ok {
		blobs = append(blobs, img)
	}
	for _, l := range blobs {
		ok, err := src.Exists(ctx, l)
		if err != nil {
			return nil, wrap(fmt.Errorf("check %s: %w", l.Digest, err))
		}
		if !ok {
			return nil, wrap(fmt.Errorf("%w: %s %s (%q)", ErrMissingBlob, l.MediaType, l.Digest, l.Annotations[ocispec.AnnotationTitle]))
		}
	}
	return b, nil
}

// mediaTypeUnknown is what stores call a blob of unknown type.
const mediaTypeUnknown = "application/octet-stream"

func fetchAll(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) ([]byte, error) {
	data, err := content.FetchAll(ctx, src, desc)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s: %w", ErrMissingBlob, desc.Digest, err)
	}
	return data, err
}

// checkType tells a build of this format version from one of another and
// from something that is not a build.
func checkType(m *ocispec.Manifest) error {
	return artifact.CheckType(m, MediaType, ErrMediaType, ErrUnknownVersion)
}

// parse makes a Build from manifest and record bytes, checking the record
// and that it agrees with the manifest.
func parse(raw, recBytes []byte) (*Build, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrInvalidRecord, err)
	}
	if err := checkType(&m); err != nil {
		return nil, err
	}
	if got := digest.FromBytes(recBytes); got != m.Config.Digest || int64(len(recBytes)) != m.Config.Size {
		return nil, fmt.Errorf("%w: record is %s (%d bytes), manifest names %s (%d bytes)", ErrRecordMismatch, got, len(recBytes), m.Config.Digest, m.Config.Size)
	}
	rec, err := decodeRecord(recBytes)
	if err != nil {
		return nil, err
	}
	if err := matchManifest(&m, rec); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecordMismatch, err)
	}
	created, _ := time.Parse(time.RFC3339, rec.Created) // validated
	return &Build{
		desc: ocispec.Descriptor{
			MediaType:    ocispec.MediaTypeImageManifest,
			ArtifactType: MediaType,
			Digest:       digest.FromBytes(raw),
			Size:         int64(len(raw)),
		},
		manifest: m,
		raw:      bytes.Clone(raw),
		record:   bytes.Clone(recBytes),
		rec:      *rec,
		created:  created,
	}, nil
}

// matchManifest checks that the manifest's layers, subject and annotations
// are exactly what the record calls for.
func matchManifest(m *ocispec.Manifest, rec *record) error {
	want := layersOf(rec)
	got := m.Layers
	if len(want) == 0 && len(got) == 1 && got[0].MediaType == ocispec.MediaTypeEmptyJSON && got[0].Digest == ocispec.DescriptorEmptyJSON.Digest {
		got = nil
	}
	if len(got) != len(want) {
		return fmt.Errorf("manifest has %d layers, record calls for %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		title := w.Annotations[ocispec.AnnotationTitle]
		if g.MediaType != w.MediaType || g.Digest != w.Digest || g.Size != w.Size || !maps.Equal(g.Annotations, w.Annotations) {
			return fmt.Errorf("layer %d (%q): manifest has %s %s (%d bytes), record calls for %s %s (%d bytes)",
				i, title, g.MediaType, g.Digest, g.Size, w.MediaType, w.Digest, w.Size)
		}
	}
	switch {
	case rec.Image == nil && m.Subject != nil:
		return fmt.Errorf("manifest has subject %s, record names no image", m.Subject.Digest)
	case rec.Image != nil && m.Subject == nil:
		return fmt.Errorf("record names image %s, manifest has no subject", rec.Image.Digest)
	case rec.Image != nil && (m.Subject.Digest.String() != rec.Image.Digest || m.Subject.Size != rec.Image.Size || m.Subject.MediaType != rec.Image.MediaType):
		return fmt.Errorf("subject %s differs from the record's image %s", m.Subject.Digest, rec.Image.Digest)
	}
	if got := m.Annotations[ocispec.AnnotationCreated]; got != rec.Created {
		return fmt.Errorf("annotation %s %q, record says %q", ocispec.AnnotationCreated, got, rec.Created)
	}
	var repo, rev string
	if rec.Source != nil {
		repo, rev = rec.Source.Repository, rec.Source.Revision
	}
	if got := m.Annotations[ocispec.AnnotationSource]; got != repo {
		return fmt.Errorf("annotation %s %q, record says %q", ocispec.AnnotationSource, got, repo)
	}
	if got := m.Annotations[ocispec.AnnotationRevision]; got != rev {
		return fmt.Errorf("annotation %s %q, record says %q", ocispec.AnnotationRevision, got, rev)
	}
	return nil
}

func cloneDescriptor(d ocispec.Descriptor) ocispec.Descriptor {
	c := d
	c.Annotations = maps.Clone(d.Annotations)
	c.URLs = slices.Clone(d.URLs)
	if d.Platform != nil {
		p := *d.Platform
		p.OSFeatures = slices.Clone(d.Platform.OSFeatures)
		c.Platform = &p
	}
	c.Data = bytes.Clone(d.Data)
	return c
}
