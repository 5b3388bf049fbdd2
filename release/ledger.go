package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
)

// Updater is a store that runs a read-modify-write of its tags exclusively,
// against every other Update on the same store, in this process and in
// others. [New] and [Rollback] use it when their target has it, and then
// need no lock or claim manifests: an OCI image layout opened with
// build.OpenLayout is one.
type Updater interface {
	Update(ctx context.Context, fn func(t oras.Target) error) error
}

// ClaimMediaType is the artifactType of the claim manifests publishers to
// a store without [Updater] write to the environment's claim tag.
const ClaimMediaType = "application/vnd.slipway.ledger-claim.v1+json"

// Annotations of lock and claim manifests.
const (
	AnnotationApp         = "dev.slipway.ledger.app"
	AnnotationEnvironment = "dev.slipway.ledger.environment"
	AnnotationVersion     = "dev.slipway.ledger.version"
	AnnotationPrevious    = "dev.slipway.ledger.previous"
	AnnotationRelease     = "dev.slipway.ledger.release"
)

// ClaimTag is the tag an environment's publishers write their claims to:
// "prod.claim". Environment names cannot hold a dot, so it never clashes
// with a head or version tag.
func ClaimTag(environment string) string { return environment + ".claim" }

// ledger is the chain of releases of one app in one environment.
type ledger struct {
	app string // empty: learnt from the head
	env string
}

func (l *ledger) fail(version int, rel *Release, err error) error {
	e := &LedgerError{App: l.app, Environment: l.env, Version: version, Err: err}
	if rel != nil {
		e.Digest = rel.Digest()
	}
	return e
}

// link reads the release desc names as a member of the ledger: a release of
// its app and environment, of the version want (0: any).
func (l *ledger) link(ctx context.Context, t oras.ReadOnlyTarget, desc ocispec.Descriptor, want int) (*Release, error) {
	r, err := fetch(ctx, t, desc)
	if err != nil {
		if errors.Is(err, ErrMissingBlob) {
			return nil, &LedgerError{App: l.app, Environment: l.env, Version: want, Digest: desc.Digest, Err: fmt.Errorf("%w: %w", ErrBrokenChain, err)}
		}
		return nil, &LedgerError{App: l.app, Environment: l.env, Version: want, Digest: desc.Digest, Err: fmt.Errorf("%w: %w", ErrForeignLink, err)}
	}
	if l.app == "" {
		l.app = r.App()
	}
	if r.App() != l.app || r.Environment() != l.env {
		return nil, l.fail(want, r, fmt.Errorf("%w: a release of %s in %s", ErrForeignLink, r.App(), r.Environment()))
	}
	if want > 0 && r.Version() != want {
		return nil, l.fail(want, r, fmt.Errorf("%w: the tag names version %d", ErrForeignLink, r.Version()))
	}
	return r, nil
}

// tip returns the newest release of the ledger, nil if it has none. It
// starts at the head tag and follows newer version tags, so a head left
// behind by an interrupted publisher is no obstacle.
func (l *ledger) tip(ctx context.Context, t oras.ReadOnlyTarget) (*Release, error) {
	var cur *Release
	desc, err := t.Resolve(ctx, l.env)
	switch {
	case errors.Is(err, errdef.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("resolve %q: %w", l.env, err)
	default:
		if cur, err = l.link(ctx, t, desc, 0); err != nil {
			return nil, err
		}
	}
	for {
		next, err := l.newer(ctx, t, cur)
		if err != nil || next == nil {
			return cur, err
		}
		cur = next
	}
}

// newer returns the release tagged with the version after cur's, nil if
// there is none.
func (l *ledger) newer(ctx context.Context, t oras.ReadOnlyTarget, cur *Release) (*Release, error) {
	n := 1
	if cur != nil {
		n = cur.Version() + 1
	}
	desc, err := t.Resolve(ctx, VersionTag(l.env, n))
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", VersionTag(l.env, n), err)
	}
	next, err := l.link(ctx, t, desc, n)
	if err != nil {
		return nil, err
	}
	prev, ok := next.Previous()
	switch {
	case cur == nil && ok:
		return nil, l.fail(n, next, fmt.Errorf("%w: version %d follows %s, but the ledger has no head", ErrBrokenChain, n, prev.Digest))
	case cur != nil && (!ok || prev.Digest != cur.Digest()):
		return nil, l.fail(n, next, fmt.Errorf("%w: it does not follow the head, version %d (%s)", ErrBrokenChain, cur.Version(), cur.Digest()))
	}
	return next, nil
}

// draft makes a release ready to be stored once its place on the ledger
// is known: it turns the current tip into its record and manifest.
type draft func(tip *Release) (*Release, error)

// appendLocked adds the release next drafts to the ledger in t, which the
// caller holds exclusively.
func (l *ledger) appendLocked(ctx context.Context, t oras.Target, next draft) (*Release, error) {
	tip, err := l.tip(ctx, t)
	if err != nil {
		return nil, err
	}
	r, err := next(tip)
	if err != nil {
		return nil, err
	}
	if err := pushRelease(ctx, t, r); err != nil {
		return nil, err
	}
	if err := t.Tag(ctx, r.desc, r.Tag()); err != nil {
		return nil, fmt.Errorf("tag %s: %w", r.Tag(), err)
	}
	if err := t.Tag(ctx, r.desc, l.env); err != nil {
		return nil, fmt.Errorf("tag %s: %w", l.env, err)
	}
	return r, nil
}

// appendShared adds the release next drafts to the ledger in t, which other
// publishers may be changing at the same time, with tags as the only
// shared state and no compare-and-swap. Publishers of one version agree on
// at most one winner with a splitter (Moir and Anderson) over two
// registers: the environment's claim tag, which every contender
// overwrites with its own claim, and the version's lock manifest, whose
// bytes are the same for every contender, so that its existence is the
// only thing that can be observed. A contender wins if the lock did not
// exist when it looked, and its claim was still the tag's value after it
// stored the lock. Two contenders cannot both win; a contender that does
// not win gets ErrConflict and stored nothing on the ledger. Only the
// winner writes the version tag, so it is never overwritten, and then the
// head tag, which publishers move forward to the newest version tag if
// they find it lagging. docs/format.md states what this guarantees.
func (l *ledger) appendShared(ctx context.Context, t oras.Target, next draft) (*Release, error) {
	tip, err := l.tip(ctx, t)
	if err != nil {
		return nil, err
	}
	r, err := next(tip)
	if err != nil {
		return nil, err
	}
	lock, err := l.lockManifest(r)
	if err != nil {
		return nil, err
	}
	claim, err := l.claimManifest(r)
	if err != nil {
		return nil, err
	}
	conflict := func(why string) error {
		return l.fail(r.Version(), nil, fmt.Errorf("%w: %s", ErrConflict, why))
	}
	if err := pushEmpty(ctx, t); err != nil {
		return nil, err
	}
	if ok, err := t.Exists(ctx, lock); err != nil {
		return nil, fmt.Errorf("check lock of version %d: %w", r.Version(), err)
	} else if ok {
		return nil, conflict(fmt.Sprintf("another publisher is adding version %d (its lock manifest %s exists; if no publisher is running, one was interrupted, and deleting that manifest frees the version)", r.Version(), lock.Digest))
	}
	claimDesc, err := oras.TagBytes(ctx, t, ocispec.MediaTypeImageManifest, claim, ClaimTag(l.env))
	if err != nil {
		return nil, fmt.Errorf("claim version %d: %w", r.Version(), err)
	}
	if ok, err := t.Exists(ctx, lock); err != nil {
		return nil, fmt.Errorf("check lock of version %d: %w", r.Version(), err)
	} else if ok {
		return nil, conflict(fmt.Sprintf("another publisher locked version %d first", r.Version()))
	}
	if err := t.Push(ctx, lock, bytesReader(l.lockBytes(r))); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return nil, fmt.Errorf("lock version %d: %w", r.Version(), err)
	}
	got, err := t.Resolve(ctx, ClaimTag(l.env))
	if err != nil {
		return nil, fmt.Errorf("read claim of version %d: %w", r.Version(), err)
	}
	if got.Digest != claimDesc.Digest {
		return nil, conflict(fmt.Sprintf("another publisher claimed version %d at the same time", r.Version()))
	}
	// Won: version r.Version() is this release's, and only this publisher
	// writes its version tag.
	if err := pushRelease(ctx, t, r); err != nil {
		return nil, err
	}
	if err := t.Tag(ctx, r.desc, r.Tag()); err != nil {
		return nil, fmt.Errorf("tag %s: %w", r.Tag(), err)
	}
	if err := l.moveHead(ctx, t, r); err != nil {
		return nil, err
	}
	if got, err := t.Resolve(ctx, r.Tag()); err != nil {
		return nil, fmt.Errorf("resolve %s: %w", r.Tag(), err)
	} else if got.Digest != r.Digest() {
		return nil, conflict(fmt.Sprintf("version tag %s was overwritten after it was written (the store's tags are not linearizable, or a tool other than slipway writes them)", r.Tag()))
	}
	return r, nil
}

// moveHead points the head tag at r, then, as long as a newer version tag
// exists, at the newest: a publisher slower than the next one may write
// the head after it, and whoever writes the head last checks that nothing
// newer exists.
func (l *ledger) moveHead(ctx context.Context, t oras.Target, r *Release) error {
	for cur := r; ; {
		if err := t.Tag(ctx, cur.desc, l.env); err != nil {
			return fmt.Errorf("tag %s: %w", l.env, err)
		}
		moved := false
		for {
			next, err := l.newer(ctx, t, cur)
			if err != nil {
				return err
			}
			if next == nil {
				break
			}
			cur, moved = next, true
		}
		if !moved {
			return nil
		}
	}
}

// lockManifest describes the lock of r's version: a manifest whose bytes
// depend only on the ledger's state, so every contender writes the same.
func (l *ledger) lockManifest(r *Release) (ocispec.Descriptor, error) {
	raw := l.lockBytes(r)
	if raw == nil {
		return ocispec.Descriptor{}, errors.New("encode lock manifest")
	}
	return descriptorOf(raw), nil
}

func (l *ledger) lockBytes(r *Release) []byte {
	ann := map[string]string{
		AnnotationApp:         r.App(),
		AnnotationEnvironment: r.Environment(),
		AnnotationVersion:     strconv.Itoa(r.Version()),
	}
	if prev, ok := r.Previous(); ok {
		ann[AnnotationPrevious] = prev.Digest.String()
	}
	return markerManifest(LockMediaType, ann)
}

// claimManifest is r's claim to its version: unique to r, small, with no
// subject, so that a contender that loses leaves nothing that lists as a
// release of the build.
func (l *ledger) claimManifest(r *Release) ([]byte, error) {
	raw := markerManifest(ClaimMediaType, map[string]string{
		AnnotationApp:         r.App(),
		AnnotationEnvironment: r.Environment(),
		AnnotationVersion:     strconv.Itoa(r.Version()),
		AnnotationRelease:     r.Digest().String(),
	})
	if raw == nil {
		return nil, errors.New("encode claim manifest")
	}
	return raw, nil
}

// markerManifest is an artifact manifest with an empty config and layer
// that carries only its annotations.
func markerManifest(artifactType string, ann map[string]string) []byte {
	m := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{ocispec.DescriptorEmptyJSON},
		Annotations:  ann,
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return raw
}

func pushEmpty(ctx context.Context, t oras.Target) error {
	ok, err := t.Exists(ctx, ocispec.DescriptorEmptyJSON)
	if err != nil || ok {
		return err
	}
	if err := t.Push(ctx, ocispec.DescriptorEmptyJSON, bytesReader(ocispec.DescriptorEmptyJSON.Data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return fmt.Errorf("push empty blob: %w", err)
	}
	return nil
}
