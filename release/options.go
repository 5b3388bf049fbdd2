package release

import (
	"log/slog"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/slipway-dev/slipway/config"
)

// Options are the optional settings of [New] and [Rollback]. The zero value
// is ready to use.
type Options struct {
	// Created is the release's creation time, stored to the second in UTC.
	// If zero, the time SOURCE_DATE_EPOCH names is used, and without it
	// the Unix epoch, so that the same inputs give the same release. A
	// deploy tool passes time.Now().
	Created time.Time
	// Logger receives a record of each step; if nil, nothing is logged.
	// Records name digests and tags, never config values.
	Logger *slog.Logger
	// Wait is how long a publisher to a store without [Updater] waits for
	// another publisher to finish adding a version before it takes the
	// version over; if zero, 2 seconds. It bounds the delay a publisher
	// interrupted midway causes; the ledger is safe with any value.
	Wait time.Duration
	// Signer, if set, signs the release before its version tag is
	// written, as [Sign] does with Sign's settings, so that no reader
	// finds it on the ledger unsigned. If nil, the release is not signed.
	Signer signature.Signer
	// Sign are the settings of the signing Signer does.
	Sign SignOptions
}

const defaultWait = 2 * time.Second

// HistoryOptions are the optional settings of [History]. The zero value is
// ready to use.
type HistoryOptions struct {
	// Limit is the most entries returned, newest first; if zero, the whole
	// history back to version 1 is read and checked.
	Limit int
}

// SignOptions are the optional settings of [Sign], also used by [New]
// through [Options.Signer]. The zero value writes a signature and SLSA
// provenance, each as a sigstore bundle referrer and as cosign's legacy
// tag.
type SignOptions struct {
	// SkipBundle writes no sigstore bundle referrers.
	SkipBundle bool
	// SkipLegacyTags writes no legacy sha256-<hex>.sig / .att tags.
	SkipLegacyTags bool
	// SkipProvenance writes the signature only.
	SkipProvenance bool
	// Name is the subject name of the statements and the
	// docker-reference of legacy signatures. If empty, the repository
	// ("registry.example/acme/shop") when signing into a registry, and
	// the app's name in any other store.
	Name string
}

// VerifyOptions are the optional settings of [Verify]. The zero value
// checks everything: a signature, SLSA provenance, every blob of the
// release and its build, and the release's place on the ledger.
type VerifyOptions struct {
	// Require lists the predicate types of which an attestation signed
	// by a trusted key must verify. If nil, SLSA provenance v1
	// ([attest.PredicateSLSAProvenance]); an empty, non-nil list
	// requires the signature only (a release signed by cosign sign).
	Require []string
	// Policy, if set, decides go / no-go once everything else verified,
	// over [Verified.Summary]: a no-go returns the [Verified], with its
	// Decision, and an error wrapping [ErrNoGo], so that code that only
	// checks the error fails closed. A revoked release is refused
	// before the policy is asked ([ErrRevoked]), with no Decision.
	Policy *Policy
	// Now is the time the policy judges ages and expiries by; if zero,
	// time.Now().
	Now time.Time
	// DecisionKeys, if set, require a decision attestation signed by one
	// of these keys: the newest one ([Decision.Time]) must be go, or
	// verification fails with [ErrNoGo]; without any, [ErrNoDecision].
	DecisionKeys []signature.Verifier

	// extracting is set by Open, which checks every layer it writes
	// against its digest as it streams: verify then leaves those layers
	// to it rather than read each twice.
	extracting bool
}

// VerifierOptions are the optional settings of [NewVerifier]. The zero
// value is ready to use: every release that verifies is go, at most 4096
// decisions are kept, each for 30 seconds.
type VerifierOptions struct {
	// Policy decides go / no-go for each release that verifies. If nil,
	// a release that verifies is go, and its decisions name the empty
	// policy's digest.
	Policy *Policy
	// Verify are the settings of each full verification ([Verify]):
	// Require and DecisionKeys. Its Policy and Now must be left zero:
	// the Verifier sets them from Policy and Now, and [NewVerifier]
	// refuses them set.
	Verify VerifyOptions
	// Size is the most decisions kept, one per ref; when a new one
	// would exceed it, the least recently used is dropped. If zero,
	// 4096.
	Size int
	// TTL is how long after a ref was checked its decision is answered
	// from memory, without reading the store. If zero, 30 seconds. It
	// bounds how late a moved tag or new evidence is noticed.
	TTL time.Duration
	// Now is the clock decisions are made and kept by; if nil,
	// time.Now.
	Now func() time.Time
}

const (
	defaultVerifierSize = 4096
	defaultVerifierTTL  = 30 * time.Second
)

// OpenOptions are the optional settings of [Open]. The zero value is ready
// to use: full verification without a policy, no secret resolver, an
// empty or missing target directory, at most 8 GiB and 50,000 entries
// written.
type OpenOptions struct {
	// Verify are the settings of the verification Open always runs
	// ([Verify]). With Verify.Policy, a no-go refuses to open: Open
	// returns the [*VerifyError] wrapping [ErrNoGo] and writes nothing.
	Verify VerifyOptions
	// Resolver resolves the config's secret references into the
	// environment ([config.Config.Resolve]). If nil, a config with
	// secrets fails with [config.ErrUnresolved].
	Resolver config.Resolver
	// Overwrite allows a target directory that holds files. The build is
	// checked and written into a staging directory inside the target
	// first, as without Overwrite; then each of its files and links
	// replaces the file or link at its path with one rename (a process
	// that has the old file open keeps reading the old bytes), its
	// directories merge into existing ones, which keep their mode and
	// their other contents, and files the build does not have stay. A
	// directory where the build has a file or link, or a file or link
	// (even one to a directory) where the build has a directory, fails
	// with [ErrNotEmpty] before anything is moved. If false, a target
	// that holds anything fails with [ErrNotEmpty], untouched.
	Overwrite bool
	// MaxBytes bounds the bytes written: files and the files in packed
	// directories. If zero, 8 GiB.
	MaxBytes int64
	// MaxFiles bounds the entries written: files, links, directories and
	// the members of packed directories. If zero, 50,000.
	MaxFiles int
	// Logger receives a debug record per step: verified, environment
	// resolved, extracted. Records name digests, counts and variable
	// names, never a value of the environment. If nil, nothing is logged.
	Logger *slog.Logger
}
