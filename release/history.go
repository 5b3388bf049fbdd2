package release

import (
	"context"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
)

// Entry is one release in a ledger's history.
type Entry struct {
	App         string
	Environment string
	Version     int
	Descriptor  ocispec.Descriptor // of the release manifest
	Build       ocispec.Descriptor // of the build manifest
	Config      ocispec.Descriptor // of the config blob
	Previous    digest.Digest      // of the release before, empty for version 1
	Rollback    int                // the version restored, 0 if not a rollback
	Created     time.Time
}

func entryOf(r *Release) Entry {
	e := Entry{
		App:         r.App(),
		Environment: r.Environment(),
		Version:     r.Version(),
		Descriptor:  r.Descriptor(),
		Build:       r.rec.Build.oci(),
		Config:      r.rec.Config.oci(),
		Rollback:    r.RollbackOf(),
		Created:     r.Created(),
	}
	if p, ok := r.Previous(); ok {
		e.Previous = p.Digest
	}
	return e
}

// History reads the ledger from the release ref names (an environment's
// head tag such as "prod", a version tag or a digest) back to version 1,
// newest first, and checks every link: each release names the one before
// it by digest, and that one must be present ([ErrBrokenChain]), a release
// of the same app and environment ([ErrForeignLink]), exactly one version
// older and not seen before ([ErrCycle], or [ErrBrokenChain] for a gap).
// Errors name the version whose link failed in a [*LedgerError]. Each step
// reads one manifest and one record, by digest: the walk is linear in the
// ledger's length. Builds and configs are not read; [Load] reads them.
func History(ctx context.Context, src oras.ReadOnlyTarget, ref string, opts HistoryOptions) ([]Entry, error) {
	if opts.Limit < 0 {
		return nil, fmt.Errorf("release: history: %w: HistoryOptions.Limit negative", ErrInvalidOptions)
	}
	desc, err := src.Resolve(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("release: history: resolve %q: %w", ref, err)
	}
	head, err := fetch(ctx, src, desc)
	if err != nil {
		return nil, fmt.Errorf("release: history: %s@%s: %w", ref, desc.Digest, err)
	}
	l := &ledger{app: head.App(), env: head.Environment()}
	var out []Entry
	err = l.walk(ctx, src, head, func(r *Release) bool {
		out = append(out, entryOf(r))
		return opts.Limit == 0 || len(out) < opts.Limit
	})
	if err != nil {
		return out, fmt.Errorf("release: history: %w", err)
	}
	return out, nil
}

// walk calls fn with from and each older release of the ledger, checking
// each link, until fn returns false or version 1 is reached.
func (l *ledger) walk(ctx context.Context, src oras.ReadOnlyTarget, from *Release, fn func(*Release) bool) error {
	seen := map[digest.Digest]bool{}
	for cur := from; ; {
		if err := ctx.Err(); err != nil {
			return err
		}
		seen[cur.Digest()] = true
		if !fn(cur) {
			return nil
		}
		prevDesc, ok := cur.Previous()
		if !ok {
			return nil
		}
		if seen[prevDesc.Digest] {
			return l.fail(cur.Version(), cur, fmt.Errorf("%w: previous release %s was already passed", ErrCycle, prevDesc.Digest))
		}
		prev, err := l.link(ctx, src, prevDesc, 0)
		if err != nil {
			if le, ok := err.(*LedgerError); ok {
				le.Version, le.Digest = cur.Version(), cur.Digest()
				le.Err = fmt.Errorf("previous release %s: %w", prevDesc.Digest, le.Err)
			}
			return err
		}
		switch {
		case prev.Version() >= cur.Version():
			return l.fail(cur.Version(), cur, fmt.Errorf("%w: previous release %s is version %d", ErrCycle, prevDesc.Digest, prev.Version()))
		case prev.Version() != cur.Version()-1:
			return l.fail(cur.Version(), cur, fmt.Errorf("%w: previous release %s is version %d, want %d", ErrBrokenChain, prevDesc.Digest, prev.Version(), cur.Version()-1))
		}
		cur = prev
	}
}
