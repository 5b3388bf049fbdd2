package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/slipway-dev/slipway/internal/artifact"
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
	AnnotationRound       = "dev.slipway.ledger.round"
	AnnotationRelease     = "dev.slipway.ledger.release"
)

// RoundTag is the tag that records the release the winner of round r of
// version n proposed: "prod-v7.r0".
func RoundTag(environment string, n, r int) string {
	return VersionTag(environment, n) + ".r" + strconv.Itoa(r)
}

// ClaimTag is the tag an environment's publishers write their claims to:
// "prod.claim". Environment names cannot hold a dot, so it never clashes
// with a head or version tag.
func ClaimTag(environment string) string { return environment + ".claim" }

// ledger is the chain of releases of one app in one environment.
type ledger struct {
	app string // empty: learnt from the head
	env string
	// seal, if set, is done to a release of this publisher after it is
	// stored and before it is proposed or tagged: signing.
	seal func(ctx context.Context, t oras.Target, r *Release) error
}

func (l *ledger) sealWith(ctx context.Context, t oras.Target, r *Release) error {
	if l.seal == nil {
		return nil
	}
	if err := l.seal(ctx, t, r); err != nil {
		return fmt.Errorf("sign %s: %w", r.Digest(), err)
	}
	return nil
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
	if err := l.sealWith(ctx, t, r); err != nil {
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

// appendShared adds the release next drafts to the ledger in t, which
// other publishers may be changing at the same time, with tags as the only
// shared state and no compare-and-swap. docs/format.md gives the protocol
// and its proof; in short, the publishers of version N agree on its
// release in rounds, Paxos-style:
//
//   - Round r of version N is open while its lock manifest does not exist.
//     Its bytes are the same for every contender, so its existence is all
//     anyone can observe. A contender enters the first open round; if an
//     earlier round has not tagged version N after opts.Wait, it is taken
//     over.
//   - A splitter (Moir and Anderson) picks at most one winner per round:
//     a contender writes its own claim to the environment's claim tag,
//     checks that the round's lock does not exist, stores the lock, and
//     wins if the claim tag still holds its claim.
//   - The winner of round r proposes the release of the highest earlier
//     round that recorded a proposal (the round tag "prod-v7.r0"), or its
//     own; it records its proposal in its round tag, and tags version N
//     with it only if round r+1 has not been opened meanwhile. A
//     contender of round r+1 opens it before it reads the round tags, so
//     either it sees round r's proposal and adopts it, or round r's winner
//     sees round r+1 open and stops: version N is never tagged with two
//     different releases.
//
// A contender whose own release is not the one tagged gets ErrConflict.
func (l *ledger) appendShared(ctx context.Context, t oras.Target, next draft, wait time.Duration) (*Release, error) {
	tip, err := l.tip(ctx, t)
	if err != nil {
		return nil, err
	}
	own, err := next(tip)
	if err != nil {
		return nil, err
	}
	n := own.Version()
	conflict := func(format string, args ...any) error {
		return l.fail(n, nil, fmt.Errorf("%w: "+format, append([]any{ErrConflict}, args...)...))
	}
	if err := pushEmpty(ctx, t); err != nil {
		return nil, err
	}
	// Find the first open round; an earlier one may still finish.
	round := 0
	for ; ; round++ {
		ok, err := t.Exists(ctx, l.lock(n, round))
		if err != nil {
			return nil, fmt.Errorf("check lock of version %d round %d: %w", n, round, err)
		}
		if !ok {
			break
		}
	}
	if round > 0 {
		done, err := l.awaitVersion(ctx, t, n, wait)
		if err != nil {
			return nil, err
		}
		if done {
			return nil, conflict("another publisher added version %d", n)
		}
	}
	// The splitter of this round.
	claim := markerManifest(ClaimMediaType, map[string]string{
		AnnotationApp:         l.app,
		AnnotationEnvironment: l.env,
		AnnotationVersion:     strconv.Itoa(n),
		AnnotationRound:       strconv.Itoa(round),
		AnnotationRelease:     own.Digest().String(),
	})
	lock := l.lock(n, round)
	if ok, err := t.Exists(ctx, lock); err != nil {
		return nil, fmt.Errorf("check lock of version %d round %d: %w", n, round, err)
	} else if ok {
		return nil, conflict("another publisher entered round %d of version %d first", round, n)
	}
	var claimDesc ocispec.Descriptor
	err = retryBlobUnknown(ctx, func() (err error) {
		claimDesc, err = oras.TagBytes(ctx, t, ocispec.MediaTypeImageManifest, claim, ClaimTag(l.env))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim version %d: %w", n, err)
	}
	if ok, err := t.Exists(ctx, lock); err != nil {
		return nil, fmt.Errorf("check lock of version %d round %d: %w", n, round, err)
	} else if ok {
		return nil, conflict("another publisher entered round %d of version %d first", round, n)
	}
	err = retryBlobUnknown(ctx, func() error {
		err := t.Push(ctx, lock, bytesReader(l.lockBytes(n, round)))
		if errors.Is(err, errdef.ErrAlreadyExists) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lock version %d round %d: %w", n, round, err)
	}
	if got, err := t.Resolve(ctx, ClaimTag(l.env)); err != nil {
		return nil, fmt.Errorf("read claim of version %d: %w", n, err)
	} else if got.Digest != claimDesc.Digest {
		return nil, conflict("another publisher claimed round %d of version %d at the same time", round, n)
	}
	// Won the round: propose what an earlier round proposed, else our own.
	proposal := own
	for k := round - 1; k >= 0; k-- {
		desc, err := t.Resolve(ctx, RoundTag(l.env, n, k))
		if errors.Is(err, errdef.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read round %d of version %d: %w", k, n, err)
		}
		if proposal, err = l.link(ctx, t, desc, n); err != nil {
			return nil, err
		}
		if !samePrevious(proposal, own) {
			return nil, l.fail(n, proposal, fmt.Errorf("%w: round %d proposed a release that does not follow version %d", ErrBrokenChain, k, n-1))
		}
		break
	}
	if proposal == own {
		if err := pushRelease(ctx, t, own); err != nil {
			return nil, err
		}
		if err := l.sealWith(ctx, t, own); err != nil {
			return nil, err
		}
	}
	if err := t.Tag(ctx, proposal.desc, RoundTag(l.env, n, round)); err != nil && !artifact.StaleIndexKept(err) {
		return nil, fmt.Errorf("tag %s: %w", RoundTag(l.env, n, round), err)
	}
	if ok, err := t.Exists(ctx, l.lock(n, round+1)); err != nil {
		return nil, fmt.Errorf("check lock of version %d round %d: %w", n, round+1, err)
	} else if ok {
		return nil, conflict("round %d of version %d was taken over by a later round", round, n)
	}
	if err := t.Tag(ctx, proposal.desc, proposal.Tag()); err != nil && !artifact.StaleIndexKept(err) {
		return nil, fmt.Errorf("tag %s: %w", proposal.Tag(), err)
	}
	if err := l.moveHead(ctx, t, proposal); err != nil {
		return nil, err
	}
	if got, err := t.Resolve(ctx, proposal.Tag()); err != nil {
		return nil, fmt.Errorf("resolve %s: %w", proposal.Tag(), err)
	} else if got.Digest != proposal.Digest() {
		return nil, conflict("version tag %s was overwritten after it was written: the store's tags are not linearizable, or a tool other than slipway writes them", proposal.Tag())
	}
	if proposal != own {
		return nil, conflict("version %d went to the release an earlier round proposed, %s", n, proposal.Digest())
	}
	return own, nil
}

// awaitVersion waits up to wait for version n to be tagged, and reports
// whether it was.
func (l *ledger) awaitVersion(ctx context.Context, t oras.ReadOnlyTarget, n int, wait time.Duration) (bool, error) {
	// Publishers that wait for the same round should not all take it over
	// at the same moment: up to half as long again, at random.
	deadline := time.Now().Add(wait + rand.N(wait/2+1))
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 500*time.Millisecond) {
		_, err := t.Resolve(ctx, VersionTag(l.env, n))
		switch {
		case err == nil:
			return true, nil
		case !errors.Is(err, errdef.ErrNotFound):
			return false, fmt.Errorf("resolve %s: %w", VersionTag(l.env, n), err)
		case !time.Now().Before(deadline):
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(min(pause, time.Until(deadline))):
		}
	}
}

// retryBlobUnknown runs put, a manifest upload, again when a registry
// answers that a blob the manifest names is unknown although it was
// stored: a registry that is storing the same blob for several clients at
// once may say so for a moment.
func retryBlobUnknown(ctx context.Context, put func() error) error {
	for attempt := 0; ; attempt++ {
		err := put()
		var resp *errcode.ErrorResponse
		if err == nil || attempt == 4 || !errors.As(err, &resp) ||
			!slices.ContainsFunc(resp.Errors, func(e errcode.Error) bool { return e.Code == errcode.ErrorCodeManifestBlobUnknown }) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
		}
	}
}

func samePrevious(a, b *Release) bool {
	pa, oka := a.Previous()
	pb, okb := b.Previous()
	return oka == okb && pa.Digest == pb.Digest
}

// moveHead points the head tag at r, then, as long as a newer version tag
// exists, at the newest: a publisher slower than the next one may write
// the head after it, and whoever writes the head last checks that nothing
// newer exists.
func (l *ledger) moveHead(ctx context.Context, t oras.Target, r *Release) error {
	for cur := r; ; {
		if err := t.Tag(ctx, cur.desc, l.env); err != nil && !artifact.StaleIndexKept(err) {
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

// lock describes the lock of round r of version n: a manifest whose
// bytes depend only on the ledger, n and r, so every contender writes the
// same.
func (l *ledger) lock(n, r int) ocispec.Descriptor { return descriptorOf(l.lockBytes(n, r)) }

func (l *ledger) lockBytes(n, r int) []byte {
	return markerManifest(LockMediaType, map[string]string{
		AnnotationApp:         l.app,
		AnnotationEnvironment: l.env,
		AnnotationVersion:     strconv.Itoa(n),
		AnnotationRound:       strconv.Itoa(r),
	})
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
		panic(err) // a manifest of strings always encodes
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
