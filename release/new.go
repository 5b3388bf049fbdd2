package release

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/artifact"
	"github.com/slipway-dev/slipway/internal/sde"
)

// New makes the next release of b's app in c's environment and adds it to
// the ledger in dst, the app's repository. It stores the config blob, the
// release record and the release manifest (whose subject is b), tags it
// with its version tag ("prod-v7") and moves the environment's head tag
// ("prod") to it. The record names the previous release by digest, so the
// ledger is a hash chain; nothing already stored is changed.
//
// The build must be in dst already ([ErrMissingBuild]), and build and
// config must be of the same app ([ErrAppMismatch]); both are checked
// before anything is stored. Secret references in c are not resolved.
//
// Publishers of the same app and environment may run at the same time: a
// release either lands on the ledger or New returns an error wrapping
// [ErrConflict] and nothing of it is on the ledger; call New again. When
// dst is an [Updater] (an OCI image layout), publishers take turns and
// never conflict. docs/format.md states the guarantee for each kind of
// store.
func New(ctx context.Context, dst oras.Target, b *build.Build, c *config.Config, opts Options) (*Release, error) {
	r, err := publish(ctx, dst, b, c, 0, opts)
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	return r, nil
}

// Rollback adds a release to the ledger of environment in dst that restores
// the build and config of its version: a new version, N+1, with the
// rollback noted in its record. History is never rewritten. The version is
// found by walking the ledger from its newest release, checking every link
// as [History] does, so a version tag pointed elsewhere is not followed;
// [ErrNoVersion] if the ledger has no such version. Concurrency and
// failures are as for [New].
func Rollback(ctx context.Context, dst oras.Target, environment string, version int, opts Options) (*Release, error) {
	r, err := rollback(ctx, dst, environment, version, opts)
	if err != nil {
		return nil, fmt.Errorf("release: rollback %s to v%d: %w", environment, version, err)
	}
	return r, nil
}

func rollback(ctx context.Context, dst oras.Target, environment string, version int, opts Options) (*Release, error) {
	if err := checkEnvironment(environment); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	l := &ledger{env: environment}
	tip, err := l.tip(ctx, dst)
	if err != nil {
		return nil, err
	}
	if tip == nil || version < 1 || version > tip.Version() {
		return nil, &LedgerError{App: l.app, Environment: environment, Version: version, Err: ErrNoVersion}
	}
	var target *Release
	err = l.walk(ctx, dst, tip, func(r *Release) bool {
		if r.Version() == version {
			target = r
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	full, err := load(ctx, dst, target.desc)
	if err != nil {
		return nil, l.fail(version, target, err)
	}
	return publish(ctx, dst, full.Build(), full.Config(), version, opts)
}

func publish(ctx context.Context, dst oras.Target, b *build.Build, c *config.Config, rollbackOf int, opts Options) (*Release, error) {
	switch {
	case b == nil:
		return nil, fmt.Errorf("%w: no build", ErrInvalidOptions)
	case c == nil:
		return nil, fmt.Errorf("%w: no config", ErrInvalidOptions)
	case b.App() != c.App():
		return nil, fmt.Errorf("%w: build %s is of app %q, config %s of app %q", ErrAppMismatch, b.Digest(), b.App(), c.Digest(), c.App())
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Wait < 0 {
		return nil, fmt.Errorf("%w: Options.Wait negative", ErrInvalidOptions)
	}
	if opts.Wait == 0 {
		opts.Wait = defaultWait
	}
	created, err := sde.Created(opts.Created)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOptions, err)
	}
	_, recDesc := b.Record()
	for _, d := range []ocispec.Descriptor{b.Descriptor(), recDesc} {
		ok, err := dst.Exists(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("check build %s: %w", b.Digest(), err)
		}
		if !ok {
			return nil, fmt.Errorf("%w: %s (%s)", ErrMissingBuild, b.Digest(), d.Digest)
		}
	}
	if err := checkBuildSummary(ctx, dst, b); err != nil {
		return nil, fmt.Errorf("build %s: %w", b.Digest(), err)
	}
	if err := artifact.PushBytes(ctx, dst, c.Descriptor(), c.Bytes()); err != nil {
		return nil, fmt.Errorf("push config %s: %w", c.Digest(), err)
	}
	logger.InfoContext(ctx, "config stored", "digest", c.Digest())
	next := func(tip *Release) (*Release, error) {
		return compose(b, c, tip, rollbackOf, created)
	}
	l := &ledger{app: b.App(), env: c.Environment()}
	if opts.Signer != nil {
		l.seal = func(ctx context.Context, t oras.Target, r *Release) error {
			r.build, r.config = b, c
			return sign(ctx, t, r, opts.Signer, opts.Sign)
		}
	}
	var r *Release
	if u, ok := dst.(Updater); ok {
		err = u.Update(ctx, func(t oras.Target) error {
			r, err = l.appendLocked(ctx, t, next)
			return err
		})
	} else {
		r, err = l.appendShared(ctx, dst, next, opts.Wait)
	}
	if err != nil {
		return nil, err
	}
	r.build, r.config = b, c
	logger.InfoContext(ctx, "release stored", "app", r.App(), "tag", r.Tag(), "digest", r.Digest(), "build", b.Digest(), "config", c.Digest())
	return r, nil
}

// compose makes the release record and manifest of b and c following tip.
func compose(b *build.Build, c *config.Config, tip *Release, rollbackOf int, created time.Time) (*Release, error) {
	bd := b.Descriptor()
	rec := record{
		App:         b.App(),
		Environment: c.Environment(),
		Version:     1,
		Created:     created.Format(time.RFC3339),
		Build:       toDescriptor(bd),
		Config:      toDescriptor(c.Descriptor()),
		Rollback:    rollbackOf,
		Processes:   processesOf(b),
		Summary:     b.Summary(),
	}
	rec.Summary.Provenance = provenanceSummary(b)
	rec.Summary.Config = summaryFindings(c)
	if tip != nil {
		if tip.Version() >= maxVersion {
			return nil, fmt.Errorf("%w: the ledger is full at version %d", ErrInvalidRecord, tip.Version())
		}
		rec.Version = tip.Version() + 1
		prev := toDescriptor(tip.desc)
		rec.Previous = &prev
	}
	if err := rec.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	recBytes, err := rec.encode()
	if err != nil {
		return nil, err
	}
	subject := rec.Build.oci()
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: MediaType,
		Config:       ocispec.Descriptor{MediaType: MediaType, Digest: digest.FromBytes(recBytes), Size: int64(len(recBytes))},
		Layers:       []ocispec.Descriptor{configLayer(c.Descriptor())},
		Subject:      &subject,
		Annotations: map[string]string{
			ocispec.AnnotationCreated: rec.Created,
			ocispec.AnnotationVersion: VersionTag(rec.Environment, rec.Version),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	r, err := parse(raw, recBytes) // the reader's checks, on what is about to be stored
	if err != nil {
		return nil, fmt.Errorf("self-check: %w", err)
	}
	return r, nil
}

// pushRelease stores r's record and manifest.
func pushRelease(ctx context.Context, t oras.Target, r *Release) error {
	if err := artifact.PushBytes(ctx, t, r.manifest.Config, r.record); err != nil {
		return fmt.Errorf("push record: %w", err)
	}
	if err := artifact.PushBytes(ctx, t, r.desc, r.raw); err != nil {
		return fmt.Errorf("push manifest: %w", err)
	}
	return nil
}

func descriptorOf(raw []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// checkBuildSummary recomputes b's summary from its stored evidence, so
// that no release copies a summary its build's evidence does not support:
// [Verify] would reject it later, after it was signed.
func checkBuildSummary(ctx context.Context, src content.Fetcher, b *build.Build) error {
	ev := b.Evidence()
	if len(ev) == 0 {
		return nil
	}
	preds := make([]attest.Predicate, len(ev))
	for i, e := range ev {
		data, err := content.FetchAll(ctx, src, e.Descriptor)
		if err != nil {
			if errors.Is(err, errdef.ErrNotFound) {
				err = fmt.Errorf("%w: %w", ErrMissingBuild, err)
			}
			return fmt.Errorf("evidence %s (%s): %w", e.Descriptor.Digest, e.Source, err)
		}
		preds[i] = attest.Predicate{Type: e.PredicateType, Data: data}
	}
	got, err := attest.Summarize(preds, b.Products())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSummaryMismatch, err)
	}
	if diff := summaryDiff(b.Summary(), *got); diff != "" {
		return fmt.Errorf("%w: the build's own summary: %s", ErrSummaryMismatch, diff)
	}
	return nil
}
