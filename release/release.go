package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/artifact"
)

// Release is one version of an app's ledger in one environment: a build
// and a config combined into an OCI image manifest whose subject is the
// build, whose one layer is the config and whose config blob is the
// release record. It is immutable and safe for concurrent use. Make one
// with [New] or [Rollback], read one with [Load].
type Release struct {
	desc     ocispec.Descriptor
	manifest ocispec.Manifest
	raw      []byte
	record   []byte
	rec      record
	created  time.Time
	build    *build.Build
	config   *config.Config
}

// Descriptor describes the release manifest.
func (r *Release) Descriptor() ocispec.Descriptor { return cloneDescriptor(r.desc) }

// Digest is the digest of the release manifest: the release's identity.
func (r *Release) Digest() digest.Digest { return r.desc.Digest }

// Manifest returns the exact bytes of the release manifest.
func (r *Release) Manifest() []byte { return bytes.Clone(r.raw) }

// Record returns the exact bytes of the release record and its descriptor.
func (r *Release) Record() ([]byte, ocispec.Descriptor) {
	return bytes.Clone(r.record), cloneDescriptor(r.manifest.Config)
}

// App is the app the release belongs to.
func (r *Release) App() string { return r.rec.App }

// Environment is the environment whose ledger the release is on.
func (r *Release) Environment() string { return r.rec.Environment }

// Version is the release's number on its ledger: 1, 2, 3 …
func (r *Release) Version() int { return r.rec.Version }

// Tag is the release's immutable version tag, such as "prod-v7".
func (r *Release) Tag() string { return VersionTag(r.rec.Environment, r.rec.Version) }

// Created is the release's creation time.
func (r *Release) Created() time.Time { return r.created }

// Build is the release's build.
func (r *Release) Build() *build.Build { return r.build }

// Config is the release's config.
func (r *Release) Config() *config.Config { return r.config }

// Previous describes the release before this one on the ledger; false for
// version 1.
func (r *Release) Previous() (ocispec.Descriptor, bool) {
	if r.rec.Previous == nil {
		return ocispec.Descriptor{}, false
	}
	return r.rec.Previous.oci(), true
}

// RollbackOf is the version whose build and config this release restores,
// or 0 if it is not a rollback.
func (r *Release) RollbackOf() int { return r.rec.Rollback }

// Processes are the processes the release may run, as its build declares
// them.
func (r *Release) Processes() []build.Process { return toProcesses(r.rec.Processes) }

// Summary is the security summary stored in the release record.
func (r *Release) Summary() attest.Summary { return r.rec.Summary.Clone() }

// Load reads the release that ref (a tag such as "prod" or "prod-v7", or a
// digest) names in src, with its build and config, and checks them: the
// manifest's media type and artifactType ([ErrMediaType],
// [ErrUnknownVersion]), the record's syntax and rules
// ([ErrInvalidRecord]), that record, manifest, build and config agree
// ([ErrRecordMismatch]) and are all present ([ErrMissingBlob]). It does
// not walk the ledger; [History] does. Everything is read with size limits
// and verified against its digest.
func Load(ctx context.Context, src oras.ReadOnlyTarget, ref string) (*Release, error) {
	desc, err := src.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("release: resolve %q: %w", ref, err)
	}
	r, err := load(ctx, src, desc)
	if err != nil {
		return nil, fmt.Errorf("release: load %s@%s: %w", ref, desc.Digest, err)
	}
	return r, nil
}

// load reads the release desc names, with its build and config.
func load(ctx context.Context, src oras.ReadOnlyTarget, desc ocispec.Descriptor) (*Release, error) {
	return loadManifest(ctx, src, desc, nil)
}

// loadManifest is load with the manifest's bytes, raw, already read and
// checked against desc; if raw is nil they are fetched.
func loadManifest(ctx context.Context, src oras.ReadOnlyTarget, desc ocispec.Descriptor, raw []byte) (*Release, error) {
	r, err := fetchManifest(ctx, src, desc, raw)
	if err != nil {
		return nil, err
	}
	b, err := build.LoadDescriptor(ctx, src, r.rec.Build.oci())
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) || errors.Is(err, build.ErrMissingBlob) {
			return nil, fmt.Errorf("%w: %w", ErrMissingBlob, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrRecordMismatch, err)
	}
	cfg, err := fetchAll(ctx, src, r.rec.Config.oci(), config.MaxSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := config.Decode(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRecordMismatch, err)
	}
	if err := r.attach(b, c); err != nil {
		return nil, err
	}
	return r, nil
}

// attach checks that b and c are what r's record names and keeps them.
func (r *Release) attach(b *build.Build, c *config.Config) error {
	switch {
	case b.Digest() != r.rec.Build.Digest:
		return fmt.Errorf("%w: build is %s, record names %s", ErrRecordMismatch, b.Digest(), r.rec.Build.Digest)
	case c.Digest() != r.rec.Config.Digest:
		return fmt.Errorf("%w: config is %s, record names %s", ErrRecordMismatch, c.Digest(), r.rec.Config.Digest)
	case b.App() != r.rec.App || c.App() != r.rec.App:
		return fmt.Errorf("%w: record is of app %q, build of %q, config of %q", ErrRecordMismatch, r.rec.App, b.App(), c.App())
	case c.Environment() != r.rec.Environment:
		return fmt.Errorf("%w: record is of environment %q, config of %q", ErrRecordMismatch, r.rec.Environment, c.Environment())
	case !slices.Equal(processesOf(b), r.rec.Processes):
		return fmt.Errorf("%w: processes differ from the build's", ErrRecordMismatch)
	case !slices.Equal(b.Summary().Evidence, r.rec.Summary.Evidence):
		return fmt.Errorf("%w: the summary names other evidence than the build holds", ErrRecordMismatch)
	}
	r.build, r.config = b, c
	return nil
}

// fetch reads and checks a release manifest and its record, without its
// build and config: what walking a ledger needs.
func fetch(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) (*Release, error) {
	return fetchManifest(ctx, src, desc, nil)
}

// fetchManifest is fetch with the manifest's bytes, raw, already read and
// checked against desc; if raw is nil they are fetched.
func fetchManifest(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor, raw []byte) (*Release, error) {
	if desc.Size > maxManifest {
		return nil, fmt.Errorf("%w: manifest of %d bytes exceeds %d", ErrInvalidRecord, desc.Size, maxManifest)
	}
	if raw == nil {
		var err error
		if raw, err = fetchAll(ctx, src, desc, maxManifest); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrMediaType, err)
	}
	if err := checkType(&m); err != nil {
		return nil, err
	}
	if m.Config.Size > maxRecord {
		return nil, fmt.Errorf("%w: record of %d bytes exceeds %d", ErrInvalidRecord, m.Config.Size, maxRecord)
	}
	recBytes, err := fetchAll(ctx, src, m.Config, maxRecord)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return parse(raw, recBytes)
}

// parse makes a Release, without build and config, from manifest and record
// bytes, checking the record and that it agrees with the manifest.
func parse(raw, recBytes []byte) (*Release, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrMediaType, err)
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
	return &Release{
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

// checkType tells a release of this format version from one of another and
// from something that is not a release.
func checkType(m *ocispec.Manifest) error {
	return artifact.CheckType(m, MediaType, ErrMediaType, ErrUnknownVersion)
}

// matchManifest checks that the manifest's subject, layers and annotations
// are exactly what the record calls for.
func matchManifest(m *ocispec.Manifest, rec *record) error {
	if m.Subject == nil || toDescriptor(*m.Subject) != rec.Build {
		return fmt.Errorf("subject is not the record's build %s", rec.Build.Digest)
	}
	want := configLayer(rec.Config.oci())
	if len(m.Layers) != 1 || m.Layers[0].MediaType != want.MediaType || m.Layers[0].Digest != want.Digest ||
		m.Layers[0].Size != want.Size || !maps.Equal(m.Layers[0].Annotations, want.Annotations) {
		return fmt.Errorf("layers are not the record's config %s", rec.Config.Digest)
	}
	if got := m.Annotations[ocispec.AnnotationCreated]; got != rec.Created {
		return fmt.Errorf("annotation %s %q, record says %q", ocispec.AnnotationCreated, got, rec.Created)
	}
	if got, want := m.Annotations[ocispec.AnnotationVersion], VersionTag(rec.Environment, rec.Version); got != want {
		return fmt.Errorf("annotation %s %q, record says %q", ocispec.AnnotationVersion, got, want)
	}
	return nil
}

// configLayer is the manifest layer of the config blob desc describes.
func configLayer(desc ocispec.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{
		MediaType:   config.MediaType,
		Digest:      desc.Digest,
		Size:        desc.Size,
		Annotations: map[string]string{ocispec.AnnotationTitle: ConfigTitle},
	}
}

func fetchAll(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if desc.Size > limit {
		return nil, fmt.Errorf("%w: %s of %d bytes exceeds %d", ErrInvalidRecord, desc.Digest, desc.Size, limit)
	}
	data, err := content.FetchAll(ctx, src, desc)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, fmt.Errorf("%w: %s: %w", ErrMissingBlob, desc.Digest, err)
	}
	return data, err
}

func summaryFindings(c *config.Config) []attest.ConfigFinding {
	var out []attest.ConfigFinding
	for _, f := range c.Findings() {
		out = append(out, attest.ConfigFinding{Name: f.Name, Rule: f.Rule})
	}
	return out
}

func cloneDescriptor(d ocispec.Descriptor) ocispec.Descriptor {
	c := d
	c.Annotations = maps.Clone(d.Annotations)
	return c
}
