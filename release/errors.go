package release

import (
	"errors"
	"fmt"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/extract"

	"github.com/opencontainers/go-digest"
)

// Errors a caller may branch on with [errors.Is]. Errors about one release
// of a ledger come wrapped in a [*LedgerError] that names it.
var (
	// ErrConflict: another publisher changed the ledger while this one
	// was adding a release. Nothing of this attempt is on the ledger; try
	// again, and the release lands after the other one.
	ErrConflict = errors.New("ledger changed by another publisher")
	// ErrAppMismatch: the build, the config and the ledger are not all of
	// the same app and environment.
	ErrAppMismatch = errors.New("app or environment mismatch")
	// ErrMissingBuild: the build is not in the store the release is made
	// in.
	ErrMissingBuild = errors.New("build not in the store")
	// ErrInvalidOptions: an Options field is malformed.
	ErrInvalidOptions = errors.New("invalid options")

	// ErrMediaType: a stored manifest or blob is not of the media type a
	// release has; it is not a slipway release.
	ErrMediaType = errors.New("wrong media type")
	// ErrUnknownVersion: the artifact is a slipway release of a major
	// format version this reader does not know.
	ErrUnknownVersion = errors.New("unknown format version")
	// ErrInvalidRecord: the release record is malformed, not canonical or
	// breaks the rules of the format.
	ErrInvalidRecord = errors.New("invalid release record")
	// ErrRecordMismatch: the release record disagrees with its manifest,
	// its build or its config.
	ErrRecordMismatch = errors.New("record does not match release")
	// ErrMissingBlob: a blob or manifest the release names is not in the
	// store.
	ErrMissingBlob = errors.New("missing blob")

	// ErrBrokenChain: a release's link to the one before it leads nowhere:
	// the previous release is missing, or versions skip.
	ErrBrokenChain = errors.New("broken ledger chain")
	// ErrCycle: a release's link leads to a release it already passed or
	// to one no older than itself, so the history would loop.
	ErrCycle = errors.New("ledger chain loops")
	// ErrForeignLink: a ledger tag or link names something that is not a
	// release of the same app and environment.
	ErrForeignLink = errors.New("link to a foreign artifact")
	// ErrNoVersion: the ledger has no release of the version asked for.
	ErrNoVersion = errors.New("no such version")
)

// LedgerError records a failure about one release of an app's ledger in
// one environment.
type LedgerError struct {
	App         string
	Environment string
	Version     int           // the release whose link failed; 0 for the head tag
	Digest      digest.Digest // that release's manifest, if known
	Err         error         // one of the Err values of this package, wrapped
}

func (e *LedgerError) Error() string {
	where := e.Environment + " head"
	if e.Version > 0 {
		where = fmt.Sprintf("%s v%d", e.Environment, e.Version)
	}
	if e.Digest != "" {
		where += " (" + e.Digest.String() + ")"
	}
	return fmt.Sprintf("%s %s: %v", e.App, where, e.Err)
}

// Unwrap returns the cause.
func (e *LedgerError) Unwrap() error { return e.Err }

// Verification errors. Those about signatures and evidence are attest's,
// re-exported so that a caller of [Verify] needs one package.
var (
	// ErrNotSigned: no signature of the release at all.
	ErrNotSigned = attest.ErrNotSigned
	// ErrUntrustedKey: signatures exist, but none verifies with a trusted
	// key.
	ErrUntrustedKey = attest.ErrUntrustedKey
	// ErrSubjectMismatch: a validly signed statement is about another
	// artifact.
	ErrSubjectMismatch = attest.ErrSubjectMismatch
	// ErrDigestMismatch: a manifest or blob does not hash to its digest.
	ErrDigestMismatch = attest.ErrDigestMismatch
	// ErrMissingAttestation: a required attestation type is missing, or
	// evidence the summary names is not attested by a trusted key.
	ErrMissingAttestation = attest.ErrMissingAttestation
	// ErrSummaryMismatch: the release's security summary says other than
	// the attested evidence it was computed from.
	ErrSummaryMismatch = attest.ErrSummaryMismatch
	// ErrMalformed: evidence that cannot be read (truncated, not JSON,
	// over a size limit).
	ErrMalformed = attest.ErrMalformed
	// ErrUnknownFormat: evidence of a kind or version not known (a DSSE
	// payloadType, a bundle version).
	ErrUnknownFormat = attest.ErrUnknownFormat
	// ErrNotOnLedger: the release's version tag does not name it: it was
	// never on the ledger, or its tag was pointed elsewhere.
	ErrNotOnLedger = errors.New("release not on its ledger")
	// ErrNotHead: the environment's head tag names a release older than
	// the newest version: moved back, or read while a publisher was
	// between writing the version tag and moving the head.
	ErrNotHead = errors.New("head tag does not name the newest release")
	// ErrTagMismatch: the tag the release was reached by names another
	// version or environment than its record, e.g. an older release
	// under a newer version tag.
	ErrTagMismatch = errors.New("tag does not match the release record")
	// ErrNoGo: the release verified, but the go / no-go policy decided
	// no-go; a [*NoGoError] in the chain holds the [Decision].
	ErrNoGo = errors.New("no-go")
	// ErrNoDecision: a go decision signed by a required key was asked for,
	// and the release carries none.
	ErrNoDecision = errors.New("no decision by a required key")
	// ErrRevoked: a trusted key signed a revocation of the release
	// ([Revoke]); a [*RevokedError] in the chain holds it. Nothing undoes
	// a revocation.
	ErrRevoked = errors.New("release revoked")
)

// VerifyError says which check of [Verify] refused which release.
type VerifyError struct {
	Ref    string        // as the caller gave it
	Digest digest.Digest // the release manifest, once resolved
	Check  string        // "resolve", "manifest", "signature", "release", "revocation", "summary", "build", "ledger", "policy", "decision"
	Err    error         // wraps one of the Err values of this package
}

func (e *VerifyError) Error() string {
	if e.Digest == "" {
		return fmt.Sprintf("release: verify %s: %s: %v", e.Ref, e.Check, e.Err)
	}
	return fmt.Sprintf("release: verify %s@%s: %s: %v", e.Ref, e.Digest, e.Check, e.Err)
}

// Unwrap returns the cause.
func (e *VerifyError) Unwrap() error { return e.Err }

// Errors of [Open] and [Opened.Command]. Those about extraction come
// wrapped in an [*ExtractError] that names the entry.
var (
	// ErrNotEmpty: the target directory of [Open] holds files and
	// [OpenOptions.Overwrite] is not set; or, with Overwrite, it holds a
	// directory where the build has a file or link, or a file or link
	// where the build has a directory. Nothing in it was changed.
	ErrNotEmpty = extract.ErrNotEmpty
	// ErrUnsafePath: an entry path of the build, or a member name of one
	// of its packed directories, is empty, absolute, holds an empty, "."
	// or ".." element, a backslash or a control character, repeats
	// another, lies below a file or link, or, for a member, lies outside
	// its packed directory.
	ErrUnsafePath = extract.ErrUnsafePath
	// ErrUnsafeLink: a symbolic link of the build is absolute or resolves
	// outside the target directory, by itself or through other links; or
	// a hard link in a packed directory names something other than an
	// earlier file of that directory.
	ErrUnsafeLink = extract.ErrUnsafeLink
	// ErrUnsupportedEntry: a device, FIFO, socket or other special member
	// in a packed directory, a setuid, setgid or sticky bit, or a packed
	// directory that cannot be read as tar+gzip.
	ErrUnsupportedEntry = extract.ErrUnsupportedEntry
	// ErrLimit: the build would write more bytes or entries than
	// [OpenOptions.MaxBytes] and [OpenOptions.MaxFiles] allow.
	ErrLimit = extract.ErrLimit
	// ErrNoProcess: the release declares no process of that name.
	ErrNoProcess = errors.New("no such process")
	// ErrNotAdmin: [Admin] was asked to run a process that the build
	// declares as one of the app's, not as an admin one-off.
	ErrNotAdmin = errors.New("not an admin process")
	// ErrAdminProcess: [Opened.Command] was asked for an admin one-off,
	// which runs only through [Admin], so that every run is recorded.
	ErrAdminProcess = errors.New("an admin process")
)

// ExtractError says which entry of a release's build [Open] refused to
// write, or could not. Nothing of the build is left in the target
// directory.
type ExtractError struct {
	// Path is the entry: a file, link or packed directory of the build,
	// or a member of a packed directory, slash-separated as the build or
	// its tar names it; or the target directory itself.
	Path string
	// Err wraps one of [ErrUnsafePath], [ErrUnsafeLink],
	// [ErrUnsupportedEntry], [ErrLimit], [ErrDigestMismatch] and
	// [ErrNotEmpty], or is an I/O error.
	Err error
}

func (e *ExtractError) Error() string { return fmt.Sprintf("extract %q: %v", e.Path, e.Err) }

// Unwrap returns the cause.
func (e *ExtractError) Unwrap() error { return e.Err }

// extractError makes an error of package extract one of this package: an
// [*ExtractError] whose digest mismatches also match [ErrDigestMismatch].
func extractError(err error) error {
	var xe *extract.Error
	if !errors.As(err, &xe) {
		return err
	}
	cause := xe.Err
	if errors.Is(cause, extract.ErrDigestMismatch) {
		cause = &alsoIs{err: cause, kind: ErrDigestMismatch}
	}
	return &ExtractError{Path: xe.Path, Err: cause}
}

// alsoIs is err, which errors.Is also matches as kind.
type alsoIs struct{ err, kind error }

func (a *alsoIs) Error() string   { return a.err.Error() }
func (a *alsoIs) Unwrap() []error { return []error{a.err, a.kind} }
