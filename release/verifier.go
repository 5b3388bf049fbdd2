package release

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/sync/singleflight"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/slipway-dev/slipway/attest"
)

// Verifier decides go / no-go for releases as [Verify] with a policy
// does, and keeps each decision so that a service asked on every deploy
// or admission request reads the store rarely and verifies signatures
// only when something changed. It is safe for concurrent use.
//
// A decision is kept per ref under a cache key: the release manifest's
// digest the ref names, the policy's digest, the IDs of the trusted keys
// and decision keys (sorted), the required attestation types, the ref
// itself, and the digests of every manifest attached to the release
// ([attest.Attached]: referrers by the referrers API or the tag schema,
// and cosign's legacy .sig and .att tags). The ref is part of the key
// because the ledger checks depend on it: a head tag such as "prod" must
// name the newest version, so a head moved back to an older release is
// verified again, and refused, even if that release was go before.
//
// Within [VerifierOptions.TTL] of a ref's last check, [Verifier.Decide]
// answers from memory. After it, Decide checks again: it resolves the
// ref and lists the attached manifests, a few cheap requests. If the key
// is unchanged, it judges the input it verified before by the policy
// again at the current time, without reading or verifying any evidence,
// so that ages and expiring exceptions stay right. If the key changed (a
// new scan or VEX statement attached, a signature removed, the tag
// moved, a revocation attached), it verifies fully with [Verify]. New
// evidence is thus noticed at the first check after it was attached, at
// most TTL late: a release revoked by a trusted key ([Revoke]) is refused
// from then on, with [ErrRevoked], whatever the policy says.
//
// What a check does not read: the ledger's other tags. A version tag
// rewritten, or a newer version tagged while the head tag stays, is
// noticed by the next full verification, which happens when the key
// changes or the decision was dropped to keep within Size.
type Verifier struct {
	src     oras.ReadOnlyGraphTarget
	trusted []signature.Verifier
	policy  *Policy
	opts    VerifyOptions // Policy set; Now set per verification
	size    int
	ttl     time.Duration
	now     func() time.Time
	fixed   string // the part of each cache key that the Verifier fixes

	flights singleflight.Group // by ref

	mu      sync.Mutex
	entries map[string]*list.Element // by ref, values *entry
	lru     *list.List               // the most recently used at the front

	hits, misses, rechecks, shared, evictions atomic.Uint64
}

// entry is the decision kept for one ref. It never changes once stored:
// a check stores a new entry.
type entry struct {
	ref     string
	key     string
	digest  digest.Digest
	checked time.Time // when the ref was last checked, by the Verifier's clock
	// decision is the answer, handed out as copies.
	decision *Decision
	// in is what the policy judged, for judging again; nil when
	// verification failed, and then err is the failure.
	in  *Input
	err error
	// unrecorded: the policy said no-go before the decisions recorded by
	// the decision keys were read, so a go by the policy later needs a
	// full verification.
	unrecorded bool
}

// VerifierStats counts what a [Verifier] did since it was made. Each call
// of [Verifier.Decide] that returns a decision counts once, in Hits,
// Misses, Rechecks or Shared.
type VerifierStats struct {
	// Hits are decisions answered from memory, within the TTL.
	Hits uint64
	// Misses are full verifications ([Verify]).
	Misses uint64
	// Rechecks are checks after the TTL that found the ref naming the
	// same release with the same evidence attached: the store was read,
	// nothing was verified, and the policy judged again.
	Rechecks uint64
	// Shared are calls of Decide that waited for a check of the same ref
	// that another call had started, and took its answer.
	Shared uint64
	// Evictions are decisions dropped to keep at most Size.
	Evictions uint64
	// Entries is how many decisions are kept now.
	Entries int
}

// NewVerifier returns a Verifier of the releases in src, whose signatures
// one of trusted must have made, decided by opts.Policy. It reads each
// key's public key once, to name it in cache keys, and nothing of src.
// It fails, wrapping [ErrInvalidOptions], when src is nil, trusted is
// empty or holds nil, a size or TTL is negative, or opts.Verify sets
// Policy or Now, which the Verifier owns.
func NewVerifier(src oras.ReadOnlyGraphTarget, trusted []signature.Verifier, opts VerifierOptions) (*Verifier, error) {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("release: %s: %w: %s", field, ErrInvalidOptions, fmt.Sprintf(format, args...))
	}
	switch {
	case src == nil:
		return nil, bad("NewVerifier", "no store")
	case len(trusted) == 0:
		return nil, bad("NewVerifier", "no trusted keys")
	case opts.Size < 0:
		return nil, bad("VerifierOptions.Size", "negative (%d)", opts.Size)
	case opts.TTL < 0:
		return nil, bad("VerifierOptions.TTL", "negative (%s)", opts.TTL)
	case opts.Verify.Policy != nil:
		return nil, bad("VerifierOptions.Verify.Policy", "set VerifierOptions.Policy instead")
	case !opts.Verify.Now.IsZero():
		return nil, bad("VerifierOptions.Verify.Now", "set VerifierOptions.Now instead")
	}
	ids := func(field string, keys []signature.Verifier) ([]string, error) {
		out := make([]string, len(keys))
		for i, k := range keys {
			if k == nil {
				return nil, bad(field, "key %d is nil", i)
			}
			id, err := attest.KeyIDOf(context.Background(), k)
			if err != nil {
				return nil, fmt.Errorf("release: %s: key %d: %w", field, i, err)
			}
			out[i] = id
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	}
	trustedIDs, err := ids("NewVerifier trusted", trusted)
	if err != nil {
		return nil, err
	}
	decisionIDs, err := ids("VerifierOptions.Verify.DecisionKeys", opts.Verify.DecisionKeys)
	if err != nil {
		return nil, err
	}
	p := opts.Policy
	if p == nil {
		if p, err = NewPolicy(PolicySpec{}); err != nil {
			return nil, err
		}
	}
	fixed, err := json.Marshal(struct {
		Policy    digest.Digest
		Trusted   []string
		Decisions []string
		Require   []string // nil (provenance) and empty (none) differ
	}{p.Digest(), trustedIDs, decisionIDs, opts.Verify.Require})
	if err != nil {
		return nil, fmt.Errorf("release: verifier: %w", err)
	}
	v := &Verifier{
		src:     src,
		trusted: slices.Clone(trusted),
		policy:  p,
		opts: VerifyOptions{
			Require:      slices.Clone(opts.Verify.Require),
			Policy:       p,
			DecisionKeys: slices.Clone(opts.Verify.DecisionKeys),
		},
		size:    opts.Size,
		ttl:     opts.TTL,
		now:     opts.Now,
		fixed:   string(fixed),
		entries: map[string]*list.Element{},
		lru:     list.New(),
	}
	if v.size == 0 {
		v.size = defaultVerifierSize
	}
	if v.ttl == 0 {
		v.ttl = defaultVerifierTTL
	}
	if v.now == nil {
		v.now = time.Now
	}
	return v, nil
}

// Decide returns the decision about the release ref names in the
// Verifier's store (a ledger tag such as "prod" or "prod-v7", or a
// digest), from memory within the TTL of the ref's last check, else after
// checking it again as [Verifier] describes. Concurrent calls for a ref
// that needs a check share one check, and one verification.
//
// For a go it returns the decision and nil. For a no-go by the policy it
// returns the decision and a [*VerifyError] of check "policy" wrapping a
// [*NoGoError], so [errors.Is] matches [ErrNoGo], as [Verify] does. When
// verification fails (no signature, an untrusted key, a digest mismatch,
// a broken ledger, a no-go recorded by a decision key …), it returns a
// no-go decision with one blocking finding of rule "verification" whose
// message is the error's text, and the error from [Verify], which
// [errors.Is] matches as Verify's would; such failures are kept like
// decisions, until the key changes.
//
// When no decision can be made (the context ends, the store cannot be
// reached or answers with an error, the ref or a blob it names is not
// there: [errdef.ErrNotFound]), it returns a nil decision, which is not
// go ([Decision.Go]), and the error; nothing is kept, and the next call
// tries again.
//
// Each call gets its own copy of the decision. [Decision.Time] is the
// time of the evaluation that made it: of the last check, for an answer
// from memory.
func (v *Verifier) Decide(ctx context.Context, ref string) (*Decision, error) {
	if ref == "" {
		return nil, fmt.Errorf("release: decide: %w: empty ref", ErrInvalidOptions)
	}
	if e := v.fresh(ref); e != nil {
		return e.answer()
	}
	return v.check(ctx, ref)
}

// fresh returns the entry of ref if it was checked within the TTL,
// counting a hit, or nil.
func (v *Verifier) fresh(ref string) *entry {
	now := v.now()
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.entries[ref]
	if !ok {
		return nil
	}
	e := el.Value.(*entry)
	if now.Sub(e.checked) >= v.ttl {
		return nil
	}
	v.lru.MoveToFront(el)
	v.hits.Add(1)
	return e
}

// Stats returns what the Verifier did so far.
func (v *Verifier) Stats() VerifierStats {
	v.mu.Lock()
	n := v.lru.Len()
	v.mu.Unlock()
	return VerifierStats{
		Hits:      v.hits.Load(),
		Misses:    v.misses.Load(),
		Rechecks:  v.rechecks.Load(),
		Shared:    v.shared.Load(),
		Evictions: v.evictions.Load(),
		Entries:   n,
	}
}

// abandoned is a check that ended because the context of the call that
// ran it ended. The calls that waited for it and are still wanted run
// their own.
type abandoned struct{ err error }

func (a *abandoned) Error() string { return a.err.Error() }
func (a *abandoned) Unwrap() error { return a.err }

// check checks ref once for all the calls that need it at the same time.
// The check runs with the context of the call that started it; if that
// call goes away, its check stops, and the others start another.
func (v *Verifier) check(ctx context.Context, ref string) (*Decision, error) {
	for {
		led := false
		ch := v.flights.DoChan(ref, func() (any, error) {
			led = true
			// A check that ended just before this one began may have
			// left an answer.
			if e := v.fresh(ref); e != nil {
				return e, nil
			}
			e, err := v.refresh(ctx, ref)
			if err != nil && ctx.Err() != nil {
				return nil, &abandoned{err}
			}
			return e, err
		})
		var res singleflight.Result
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("release: decide %s: %w", ref, ctx.Err())
		case res = <-ch:
		}
		var ab *abandoned
		if errors.As(res.Err, &ab) && ctx.Err() == nil {
			continue // another call's check, given up by its caller
		}
		if !led {
			v.shared.Add(1)
		}
		switch {
		case ab != nil:
			return nil, ab.err
		case res.Err != nil:
			return nil, res.Err
		}
		return res.Val.(*entry).answer()
	}
}

// refresh checks ref: it resolves it, lists what is attached to the
// release, and then judges again what it verified before when the key is
// unchanged, or verifies fully. It returns the entry answering the call,
// which it keeps unless the answer must not be kept; the error is set
// only when there is no answer.
func (v *Verifier) refresh(ctx context.Context, ref string) (*entry, error) {
	now := v.now()
	desc, err := v.src.Resolve(ctx, ref)
	if err != nil {
		return nil, &VerifyError{Ref: ref, Check: "resolve", Err: err}
	}
	attached, err := attest.Attached(ctx, v.src, desc)
	if err != nil && !errors.Is(err, attest.ErrMalformed) {
		return nil, &VerifyError{Ref: ref, Digest: desc.Digest, Check: "signature", Err: err}
	}
	// With more referrers than verification reads, the key says so, and
	// Verify refuses the release.
	key := v.key(ref, desc.Digest, attached, err != nil)

	v.mu.Lock()
	var old *entry
	if el, ok := v.entries[ref]; ok {
		old = el.Value.(*entry)
	}
	v.mu.Unlock()
	if old != nil && old.key == key {
		if e := v.judge(old, now); e != nil {
			v.rechecks.Add(1)
			v.store(e)
			return e, nil
		}
	}

	v.misses.Add(1)
	opts := v.opts
	opts.Now = now
	verified, in, err := verify(ctx, v.src, ref, v.trusted, opts)
	e := &entry{ref: ref, key: key, digest: desc.Digest, checked: now}
	var ve *VerifyError
	errors.As(err, &ve)
	switch {
	case err == nil:
		e.in, e.decision = in, verified.Decision
	case verified != nil && verified.Decision != nil && ve != nil && ve.Check == "policy":
		e.in, e.decision = in, verified.Decision
		e.unrecorded = len(opts.DecisionKeys) > 0
	case operational(err):
		return nil, err
	default:
		e.err, e.decision = err, v.failure(desc.Digest, now, err)
	}
	// Verify resolved ref itself: if the tag moved in between, the
	// answer is right for this call but not for the key.
	moved := (verified != nil && verified.Release.Digest() != desc.Digest) ||
		(verified == nil && (ve == nil || ve.Digest != desc.Digest))
	if !moved && (e.in != nil || verdict(err)) {
		v.store(e)
	}
	return e, nil
}

// judge returns old judged again at now without reading anything, or nil
// when only a full verification can tell.
func (v *Verifier) judge(old *entry, now time.Time) *entry {
	e := *old
	e.checked = now
	if old.in == nil { // a failure stands while the evidence does
		e.decision = v.failure(old.digest, now, old.err)
		return &e
	}
	in := *old.in
	in.Now = now
	e.decision = v.policy.Evaluate(in)
	if e.decision.Go() && old.unrecorded {
		return nil
	}
	return &e
}

// store keeps e as the decision of its ref, dropping the least recently
// used decisions beyond the size.
func (v *Verifier) store(e *entry) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if el, ok := v.entries[e.ref]; ok {
		if el.Value.(*entry).checked.After(e.checked) {
			return // a later check was kept already
		}
		el.Value = e
		v.lru.MoveToFront(el)
		return
	}
	v.entries[e.ref] = v.lru.PushFront(e)
	for v.lru.Len() > v.size {
		last := v.lru.Back()
		v.lru.Remove(last)
		delete(v.entries, last.Value.(*entry).ref)
		v.evictions.Add(1)
	}
}

// key is the cache key of ref naming the release d with attached.
func (v *Verifier) key(ref string, d digest.Digest, attached []ocispec.Descriptor, tooMany bool) string {
	var b strings.Builder
	b.WriteString(v.fixed)
	fmt.Fprintf(&b, "\nref %q\nrelease %s\n", ref, d)
	if tooMany {
		b.WriteString("more referrers than verification reads\n")
	}
	for _, a := range attached {
		b.WriteString(a.Digest.String())
		b.WriteByte('\n')
	}
	return digest.FromString(b.String()).String()
}

// failure is the no-go decision about the release d whose verification
// failed with err.
func (v *Verifier) failure(d digest.Digest, now time.Time, err error) *Decision {
	return &Decision{
		Verdict:  VerdictNoGo,
		Release:  DecisionSubject{Digest: d},
		Policy:   v.policy.Digest(),
		Time:     now.UTC().Truncate(time.Second),
		Findings: []Finding{{Rule: "verification", Message: err.Error(), Blocking: true}},
	}
}

// answer returns a copy of e's decision and the error that goes with it.
func (e *entry) answer() (*Decision, error) {
	d := e.decision.clone()
	switch {
	case e.in == nil:
		return d, e.err
	case !d.Go():
		return d, &VerifyError{Ref: e.ref, Digest: e.digest, Check: "policy", Err: &NoGoError{Decision: d}}
	}
	return d, nil
}

// clone returns a deep copy of d.
func (d *Decision) clone() *Decision {
	c := *d
	c.Findings = slices.Clone(d.Findings)
	for i := range c.Findings {
		c.Findings[i].Evidence = slices.Clone(c.Findings[i].Evidence)
	}
	c.Evidence = slices.Clone(d.Evidence)
	return &c
}

// operational reports whether err says that the store could not be read
// rather than what it holds: the context ended, the network or the
// registry failed, or what was asked for is not there (a tag, or a blob
// not replicated yet). Such an error decides nothing and is never kept.
func operational(err error) bool {
	var ne net.Error
	var resp *errcode.ErrorResponse
	var ve *VerifyError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, errdef.ErrNotFound),
		errors.As(err, &ne), errors.As(err, &resp),
		errors.As(err, &ve) && ve.Check == "resolve":
		return true
	}
	return false
}

// verdicts are the errors that say what a release is, as opposed to what
// went wrong while reading it.
var verdicts = []error{
	ErrNotSigned, ErrUntrustedKey, ErrSubjectMismatch, ErrDigestMismatch, ErrMissingAttestation,
	ErrSummaryMismatch, ErrMalformed, ErrUnknownFormat, ErrNotOnLedger, ErrNotHead, ErrTagMismatch,
	ErrNoGo, ErrNoDecision, ErrMediaType, ErrUnknownVersion, ErrInvalidRecord, ErrRecordMismatch,
	ErrBrokenChain, ErrCycle, ErrForeignLink, ErrRevoked,
}

// verdict reports whether a failed verification is definite: it wraps
// one of verdicts and nothing operational. A failure of another kind is
// answered, not kept.
func verdict(err error) bool {
	if err == nil || operational(err) {
		return false
	}
	return slices.ContainsFunc(verdicts, func(kind error) bool { return errors.Is(err, kind) })
}
