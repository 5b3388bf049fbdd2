package release

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
)

// Verdict is the outcome of a decision: [VerdictGo] or [VerdictNoGo].
type Verdict string

// The two verdicts.
const (
	VerdictGo   Verdict = "go"
	VerdictNoGo Verdict = "no-go"
)

// Decision is the outcome of a go / no-go policy for one release: the
// verdict and every finding that led to it. It is go only when no finding
// blocks. Its JSON is the predicate of a decision attestation
// ([PredicateDecision]).
type Decision struct {
	Verdict Verdict         `json:"decision"`
	Release DecisionSubject `json:"release"`
	// Policy names the policy ([Policy.Digest]).
	Policy digest.Digest `json:"policy"`
	// Time is when the policy was evaluated, UTC.
	Time time.Time `json:"time"`
	// DecidedBy is who recorded the decision, as the caller of
	// [RecordDecision] named them; empty until it is recorded.
	DecidedBy string `json:"decidedBy,omitempty"`
	// Findings are blocking findings first, in the policy's order.
	Findings []Finding `json:"findings"`
	// Evidence names the attested evidence the summary judged was
	// computed from, the release's own and any attached later.
	Evidence []attest.EvidenceRef `json:"evidence,omitempty"`
}

// DecisionSubject names the release a decision is about.
type DecisionSubject struct {
	App         string        `json:"app"`
	Environment string        `json:"environment"`
	Version     int           `json:"version"`
	Digest      digest.Digest `json:"digest"`
}

// Finding is one thing a policy found: the rule, what it found, the
// evidence it found it in (vulnerability IDs, digests, key IDs) and
// whether it blocks the release.
type Finding struct {
	Rule     string   `json:"rule"`
	Message  string   `json:"message"`
	Evidence []string `json:"evidence,omitempty"`
	Blocking bool     `json:"blocking"`
}

// Go reports whether the verdict is go.
func (d *Decision) Go() bool { return d != nil && d.Verdict == VerdictGo }

// Blocking returns the findings that block.
func (d *Decision) Blocking() []Finding {
	var out []Finding
	for _, f := range d.Findings {
		if f.Blocking {
			out = append(out, f)
		}
	}
	return out
}

// Err returns nil for a go, and otherwise a [*NoGoError] wrapping
// [ErrNoGo].
func (d *Decision) Err() error {
	if d.Go() {
		return nil
	}
	return &NoGoError{Decision: d}
}

// NoGoError is a no-go decision as an error; it wraps [ErrNoGo] and lists
// the blocking findings.
type NoGoError struct {
	Decision *Decision
}

func (e *NoGoError) Error() string {
	var b strings.Builder
	if e.Decision == nil {
		return ErrNoGo.Error()
	}
	block := e.Decision.Blocking()
	fmt.Fprintf(&b, "%v: %d blocking %s", ErrNoGo, len(block), plural(len(block), "finding"))
	for i, f := range block {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		fmt.Fprintf(&b, "%s[%s] %s", sep, f.Rule, f.Message)
	}
	return b.String()
}

// Unwrap returns [ErrNoGo].
func (e *NoGoError) Unwrap() error { return ErrNoGo }

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// Input is what a policy judges a release by.
type Input struct {
	// Release is the release, as read and verified.
	Release *Release
	// Summary is its security summary: the signed one, recomputed with
	// any evidence attested later ([Verified.Summary]).
	Summary attest.Summary
	// Signers are the key IDs ([attest.KeyID]) whose signatures of the
	// release verified.
	Signers []string
	// Now is the time of the decision; if zero, time.Now().
	Now time.Time
}

// Evaluate judges in by the policy. It never fails: a rule that cannot be
// evaluated, or input it cannot judge, is a blocking finding, so the
// decision is no-go. It reads nothing but in; use [Verify] with
// [VerifyOptions.Policy] to verify and decide in one call.
func (p *Policy) Evaluate(in Input) *Decision {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	d := &Decision{Verdict: VerdictNoGo, Policy: p.digest, Time: now, Evidence: slices.Clone(in.Summary.Evidence)}
	if in.Release == nil {
		d.Findings = []Finding{{Rule: "input", Message: "no release to judge", Blocking: true}}
		return d
	}
	r := in.Release
	d.Release = DecisionSubject{App: r.App(), Environment: r.Environment(), Version: r.Version(), Digest: r.Digest()}
	e := evaluation{p: p, in: in, now: now, r: r, facts: r.build.Facts()}
	e.vulnerabilities()
	e.signers()
	e.provenance()
	e.sbom()
	e.clean()
	e.ages()
	e.environment()
	e.rules()
	slices.SortStableFunc(e.findings, func(a, b Finding) int {
		switch {
		case a.Blocking == b.Blocking:
			return 0
		case a.Blocking:
			return -1
		}
		return 1
	})
	d.Findings = e.findings
	if d.Findings == nil {
		d.Findings = []Finding{}
	}
	if len(d.Blocking()) == 0 {
		d.Verdict = VerdictGo
	}
	return d
}

type evaluation struct {
	p        *Policy
	in       Input
	now      time.Time
	r        *Release
	facts    build.Facts
	findings []Finding
}

func (e *evaluation) block(rule, msg string, evidence ...string) {
	e.findings = append(e.findings, Finding{Rule: rule, Message: msg, Evidence: evidence, Blocking: true})
}

func (e *evaluation) note(rule, msg string, evidence ...string) {
	e.findings = append(e.findings, Finding{Rule: rule, Message: msg, Evidence: evidence})
}

var severities = []attest.Severity{attest.SeverityCritical, attest.SeverityHigh, attest.SeverityMedium, attest.SeverityLow, attest.SeverityUnknown}

// vulnerabilities applies the exceptions, then the limits.
func (e *evaluation) vulnerabilities() {
	spec := e.p.spec
	v := e.in.Summary.Vulnerabilities
	if len(spec.MaxOpen) == 0 && len(e.p.allow) == 0 {
		return
	}
	if v == nil {
		if len(spec.MaxOpen) > 0 {
			e.block("maxOpen", "no vulnerability scan is attested: the open vulnerabilities are unknown")
		}
		return
	}
	counted := map[attest.Severity][]string{}
	for _, f := range v.Findings {
		if x, ok := e.exception(f); ok {
			if e.now.After(x.until) {
				e.note("allow", fmt.Sprintf("the exception for %s expired on %s: it counts again", f.ID, x.Expires), f.ID)
			} else {
				msg := fmt.Sprintf("%s (%s, %s) is allowed until %s", f.ID, f.Severity, f.Package, x.Expires)
				if x.Reason != "" {
					msg += ": " + x.Reason
				}
				e.note("allow", msg, f.ID)
				continue
			}
		}
		counted[f.Severity] = append(counted[f.Severity], f.ID)
	}
	for _, s := range severities {
		limit, ok := spec.MaxOpen[s]
		if !ok {
			continue
		}
		ids := slices.Compact(slices.Sorted(slices.Values(counted[s])))
		if n := len(counted[s]); n > limit {
			e.block("maxOpen", fmt.Sprintf("%d open %s %s, at most %d allowed: %s", n, s, plural(n, "vulnerability"), limit, strings.Join(ids, ", ")), ids...)
		}
	}
}

// exception returns the first exception naming f's ID or an alias.
func (e *evaluation) exception(f attest.Finding) (exception, bool) {
	for _, x := range e.p.allow {
		if slices.Contains(f.Names(), x.ID) {
			return x, true
		}
	}
	return exception{}, false
}

func (e *evaluation) signers() {
	for _, s := range e.p.signers {
		if !slices.Contains(e.in.Signers, s.id) {
			e.block("requiredSigners", fmt.Sprintf("not signed by %s", s.name), s.id)
		}
	}
}

func (e *evaluation) provenance() {
	spec := e.p.spec
	if len(spec.Builders) == 0 && len(spec.Sources) == 0 {
		return
	}
	prov := e.in.Summary.Provenance
	if prov == nil {
		if len(spec.Builders) > 0 {
			e.block("builders", "the release has no provenance: its builder is unknown")
		}
		if len(spec.Sources) > 0 {
			e.block("sources", "the release has no provenance: its source is unknown")
		}
		return
	}
	if len(spec.Builders) > 0 && !slices.Contains(spec.Builders, prov.Builder) {
		e.block("builders", fmt.Sprintf("built by %q, which is not an accepted builder", prov.Builder), prov.Builder)
	}
	if len(spec.Sources) > 0 {
		ok := false
		for _, pat := range spec.Sources {
			if m, _ := path.Match(pat, prov.Source); m && prov.Source != "" {
				ok = true
				break
			}
		}
		if !ok {
			src := prov.Source
			if src == "" {
				src = "(none)"
			}
			e.block("sources", fmt.Sprintf("source repository %s matches none of %s", src, strings.Join(spec.Sources, ", ")), prov.Source)
		}
	}
}

func (e *evaluation) sbom() {
	if e.p.spec.RequireSBOM && e.in.Summary.SBOM == nil {
		e.block("requireSBOM", "the build carries no SBOM")
	}
}

func (e *evaluation) clean() {
	if e.p.spec.RequireClean && e.facts.Source.Dirty {
		e.block("requireClean", "the build was made from a source tree with uncommitted changes", e.facts.Source.Revision)
	}
}

func (e *evaluation) ages() {
	spec := e.p.spec
	if max := time.Duration(spec.MaxBuildAge); max > 0 {
		created := e.r.build.Created()
		if age := e.now.Sub(created); age > max {
			e.block("maxBuildAge", fmt.Sprintf("the build is %s old (made %s), at most %s allowed", days(age), created.UTC().Format(time.RFC3339), days(max)), e.facts.Digest)
		}
	}
	if max := time.Duration(spec.MaxScanAge); max > 0 {
		var newest time.Time
		var which string
		if v := e.in.Summary.Vulnerabilities; v != nil {
			for _, s := range v.Scans {
				if t, err := time.Parse(time.RFC3339, s.Time); err == nil && t.After(newest) {
					newest, which = t, s.Digest
				}
			}
		}
		switch {
		case newest.IsZero():
			e.block("maxScanAge", "no vulnerability scan is attested")
		case e.now.Sub(newest) > max:
			e.block("maxScanAge", fmt.Sprintf("the newest scan is %s old (%s), at most %s allowed", days(e.now.Sub(newest)), newest.Format(time.RFC3339), days(max)), which)
		}
	}
}

// days writes d in days when it is at least one, else as a Go duration.
func days(d time.Duration) string {
	if d >= 24*time.Hour {
		n := int(d / (24 * time.Hour))
		return fmt.Sprintf("%d %s", n, plural(n, "day"))
	}
	return d.Round(time.Second).String()
}

func (e *evaluation) environment() {
	envs := e.p.spec.Environments
	if len(envs) > 0 && !slices.Contains(envs, e.r.Environment()) {
		e.block("environments", fmt.Sprintf("environment %q is not one of %s", e.r.Environment(), strings.Join(envs, ", ")), e.r.Environment())
	}
}

func (e *evaluation) rules() {
	if e.p.prg.Len() == 0 {
		return
	}
	rf := Facts{
		App:         e.r.App(),
		Environment: e.r.Environment(),
		Version:     e.r.Version(),
		Digest:      e.r.Digest().String(),
		Created:     e.r.Created(),
		Rollback:    e.r.RollbackOf(),
		Vars:        []string{},
		Secrets:     []string{},
	}
	if c := e.r.config; c != nil {
		rf.Vars = slices.Sorted(maps.Keys(c.Env()))
		rf.Secrets = slices.Sorted(maps.Keys(c.Secrets()))
	}
	signers := slices.Clone(e.in.Signers)
	if signers == nil {
		signers = []string{}
	}
	for _, res := range e.p.prg.Eval(map[string]any{
		"summary": e.in.Summary,
		"release": rf,
		"build":   e.facts,
		"signers": signers,
		"now":     e.now,
	}) {
		e.block(res.Rule, res.Message)
	}
}
