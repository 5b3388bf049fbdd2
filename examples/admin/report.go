package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/opencontainers/go-digest"

	"github.com/slipway-dev/slipway/release"
)

// Values of report.Status.
const (
	statusOK      = "ok"      // the process ran and exited 0; with --dry-run, it would be allowed
	statusFailed  = "failed"  // the process ran and exited non-zero, or was killed
	statusRefused = "refused" // nothing ran: verification, revocation, no-go, not an admin process
	statusError   = "error"   // bad input or an operational error
)

// report is the one JSON object the runner writes to stdout, for a bot to
// post. It holds no secret value and none of the process's output: the
// audit record names the output by digest only.
type report struct {
	Status string `json:"status"`
	// Repository and Environment are as given on the command line.
	Repository  string `json:"repository,omitempty"`
	Environment string `json:"environment,omitempty"`
	// Release is the release the head tag named when it was resolved,
	// the one run: only its digest until it verified.
	Release  *subject `json:"release,omitempty"`
	Process  string   `json:"process,omitempty"`
	Args     []string `json:"args"`
	Operator string   `json:"operator,omitempty"`
	DryRun   bool     `json:"dryRun,omitempty"`
	// ExitCode is the process's exit status (128+N when signal N ended
	// it); absent when it did not run.
	ExitCode *int `json:"exitCode,omitempty"`
	// DurationMs is how long the runner took, from reading the command
	// line to the report, checks and extraction included.
	DurationMs int64 `json:"durationMs"`
	// Audit is the signed record of the run, as stored; absent when
	// nothing ran.
	Audit *release.AuditRecord `json:"audit,omitempty"`
	// Reason says why the run was refused or failed to happen, or why a
	// process that ran did not exit by itself.
	Reason string `json:"reason,omitempty"`
	// Decision is the go / no-go decision, when --policy was given and
	// the release verified far enough to be judged.
	Decision *release.Decision `json:"decision,omitempty"`
}

// subject names a release: by digest alone until it verified, then with
// what its signed record says.
type subject struct {
	App         string        `json:"app,omitempty"`
	Environment string        `json:"environment,omitempty"`
	Version     int           `json:"version,omitempty"`
	Digest      digest.Digest `json:"digest"`
}

// verified is the subject of a release that verified.
func verified(s release.DecisionSubject) *subject {
	return &subject{App: s.App, Environment: s.Environment, Version: s.Version, Digest: s.Digest}
}

// write writes r as one JSON object on one line.
func (r *report) write(w io.Writer) error {
	return json.NewEncoder(w).Encode(r)
}

// line is the short human summary of r for the CI log.
func (r *report) line() string {
	what := r.Process
	if r.Release != nil && r.Release.App != "" {
		what = fmt.Sprintf("%s of %s v%d in %s", r.Process, r.Release.App, r.Release.Version, r.Release.Environment)
	} else if r.Environment != "" {
		what = fmt.Sprintf("%s in %s", r.Process, r.Environment)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "admin: %s", r.Status)
	switch {
	case r.DryRun && r.Status == statusOK:
		fmt.Fprintf(&b, ": %s would be allowed (dry run: nothing ran, nothing recorded)", what)
	case r.ExitCode != nil:
		fmt.Fprintf(&b, ": %s by %s: exit %d", what, r.Operator, *r.ExitCode)
		if r.Audit != nil {
			fmt.Fprintf(&b, " after %s", r.Audit.FinishedOn.Sub(r.Audit.StartedOn).Round(time.Millisecond))
		}
	case r.Process != "":
		fmt.Fprintf(&b, ": %s", what)
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, ": %s", r.Reason)
	}
	if r.Audit != nil && r.Release != nil {
		fmt.Fprintf(&b, "; audit record signed and attached to %s (slipway audit lists it)", where(r.Repository, r.Release.Digest))
	}
	return safeText(b.String())
}

// reason is err's text on one line, fit for a chat message and a log.
func reason(err error) string {
	return safeText(strings.ReplaceAll(err.Error(), "\n", "; "))
}

// safeText replaces control characters and bidirectional overrides, which
// could forge or hide text in a terminal or a chat message.
func safeText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return '?'
		}
		return r
	}, s)
}

// lockedWriter serializes writes to w: the process's stdout and stderr are
// copied by two goroutines into the one log.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
