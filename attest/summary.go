package attest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
)

// Summary is the consolidated security view of a release, kept inside the
// signed release record so that no verdict can be swapped without breaking
// the signature. A field is nil or empty when no evidence of its kind is
// attached. Everything in it but Policy and Config is recomputed from the
// attested evidence named in Evidence when a release is verified.
type Summary struct {
	// Vulnerabilities is what the scans found, after VEX; nil when the
	// build carries no scan.
	Vulnerabilities *VulnSummary `json:"vulnerabilities,omitempty"`
	// SBOM describes the build's SBOM; nil when it has none.
	SBOM *SBOMSummary `json:"sbom,omitempty"`
	// Provenance names the builder and source of the build.
	Provenance *ProvenanceSummary `json:"provenance,omitempty"`
	// Policy is the result of the build policy; nil when none was applied.
	Policy *PolicyResult `json:"policy,omitempty"`
	// Config lists the plain variables of the release's config that match
	// a plaintext-secret rule and were allowed by the config's author.
	Config []ConfigFinding `json:"config,omitempty"`
	// Evidence names the predicates the summary was computed from, sorted
	// by digest: each is attested about the release when it is signed.
	Evidence []EvidenceRef `json:"evidence,omitempty"`
}

// VulnSummary counts and lists the vulnerabilities that the scans of a
// build found, after VEX statements were applied.
type VulnSummary struct {
	// Open counts the open findings by severity.
	Open Counts `json:"open"`
	// Findings are the open findings, most severe first, then by ID and
	// package.
	Findings []Finding `json:"findings,omitempty"`
	// Suppressed are findings a VEX statement marked not_affected or
	// fixed, sorted by ID and package.
	Suppressed []Suppression `json:"suppressed,omitempty"`
	// Scans describe each scan, sorted by digest.
	Scans []ScanSummary `json:"scans"`
}

// Counts holds a number per severity.
type Counts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Unknown  int `json:"unknown"`
}

// Add counts one more finding of severity s.
func (c *Counts) Add(s Severity) {
	switch s {
	case SeverityCritical:
		c.Critical++
	case SeverityHigh:
		c.High++
	case SeverityMedium:
		c.Medium++
	case SeverityLow:
		c.Low++
	default:
		c.Unknown++
	}
}

// Of returns the count of severity s.
func (c Counts) Of(s Severity) int {
	switch s {
	case SeverityCritical:
		return c.Critical
	case SeverityHigh:
		return c.High
	case SeverityMedium:
		return c.Medium
	case SeverityLow:
		return c.Low
	}
	return c.Unknown
}

// Total is the sum of all counts.
func (c Counts) Total() int { return c.Critical + c.High + c.Medium + c.Low + c.Unknown }

// Suppression is a finding taken out of the open counts by a VEX
// statement: the finding, the status (not_affected or fixed), the
// justification or impact statement, and the author of the VEX document.
type Suppression struct {
	Finding
	Status        string `json:"status"`
	Justification string `json:"justification,omitempty"`
	Author        string `json:"author"`
}

// ScanSummary describes one attested scan.
type ScanSummary struct {
	Scanner Scanner `json:"scanner"`
	// Time is when the scan finished, RFC 3339 UTC.
	Time string `json:"time"`
	// Digest names the vulnerability predicate.
	Digest string `json:"digest"`
}

// SBOMSummary describes the SBOM of a build.
type SBOMSummary struct {
	Digest        string `json:"digest"`        // of the SBOM document, as attested
	PredicateType string `json:"predicateType"` // PredicateCycloneDX or PredicateSPDX
	Components    int    `json:"components"`    // components (CycloneDX) or packages (SPDX)
}

// ProvenanceSummary is what the provenance says of the build's origin.
type ProvenanceSummary struct {
	Builder  string `json:"builder"`
	Source   string `json:"source,omitempty"`
	Revision string `json:"revision,omitempty"`
}

// PolicyResult is the outcome of a build policy.
type PolicyResult struct {
	// Digest names the policy document.
	Digest string `json:"digest"`
	// Pass is true when no rule blocked.
	Pass bool `json:"pass"`
	// Findings lists each rule that reported, in evaluation order.
	Findings []PolicyFinding `json:"findings,omitempty"`
}

// PolicyFinding is one rule's report.
type PolicyFinding struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// EvidenceRef names one attested predicate a summary was computed from.
type EvidenceRef struct {
	PredicateType string `json:"predicateType"`
	Digest        string `json:"digest"` // of the predicate bytes; see PredicateDigest
}

// ConfigFinding is a plain config variable that matched a plaintext-secret
// rule: its name and the rule's ID, never its value.
type ConfigFinding struct {
	Name string `json:"name"`
	Rule string `json:"rule"`
}

var (
	varRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	ruleRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// Validate checks that s is well formed: lists sorted as documented,
// digests valid, counts that agree with the open findings, severities on
// the scale, config findings sorted by name with names and rules
// well-formed.
func (s Summary) Validate() error {
	for i, f := range s.Config {
		if !varRE.MatchString(f.Name) || !ruleRE.MatchString(f.Rule) {
			return fmt.Errorf("attest: summary: config finding %d: malformed name or rule", i)
		}
	}
	for i := 1; i < len(s.Config); i++ {
		if s.Config[i-1].Name >= s.Config[i].Name {
			return fmt.Errorf("attest: summary: config findings not sorted by name, or a name repeats")
		}
	}
	for i, e := range s.Evidence {
		if PredicateKind(e.PredicateType) == "" {
			return fmt.Errorf("attest: summary: evidence %d: predicate type %q is not evidence", i, e.PredicateType)
		}
		if _, err := digest.Parse(e.Digest); err != nil {
			return fmt.Errorf("attest: summary: evidence %d: digest: %w", i, err)
		}
		if i > 0 && s.Evidence[i-1].Digest >= e.Digest {
			return fmt.Errorf("attest: summary: evidence not sorted by digest, or a digest repeats")
		}
	}
	if s.SBOM != nil {
		if _, err := digest.Parse(s.SBOM.Digest); err != nil {
			return fmt.Errorf("attest: summary: sbom digest: %w", err)
		}
		if k := PredicateKind(s.SBOM.PredicateType); k != PredicateCycloneDX && k != PredicateSPDX {
			return fmt.Errorf("attest: summary: sbom predicate type %q", s.SBOM.PredicateType)
		}
		if s.SBOM.Components < 0 {
			return fmt.Errorf("attest: summary: sbom component count %d", s.SBOM.Components)
		}
	}
	if v := s.Vulnerabilities; v != nil {
		if err := v.validate(); err != nil {
			return fmt.Errorf("attest: summary: vulnerabilities: %w", err)
		}
	}
	if p := s.Provenance; p != nil && p.Builder == "" {
		return fmt.Errorf("attest: summary: provenance without builder")
	}
	return nil
}

func (v *VulnSummary) validate() error {
	var counts Counts
	for i, f := range v.Findings {
		if f.ID == "" || !slices.Contains(Severities, f.Severity) {
			return fmt.Errorf("finding %d: empty ID or severity %q off the scale", i, f.Severity)
		}
		if i > 0 && compareFindings(v.Findings[i-1], f) >= 0 {
			return fmt.Errorf("findings not in order, or one repeats")
		}
		counts.Add(f.Severity)
	}
	if counts != v.Open {
		return fmt.Errorf("open counts %+v do not match the open findings %+v", v.Open, counts)
	}
	for i, s := range v.Suppressed {
		if s.ID == "" || !slices.Contains(Severities, s.Severity) || s.Status == "" {
			return fmt.Errorf("suppressed %d: empty ID or status, or severity %q off the scale", i, s.Severity)
		}
		if i > 0 && compareIDPackage(v.Suppressed[i-1].Finding, s.Finding) >= 0 {
			return fmt.Errorf("suppressed findings not in order, or one repeats")
		}
	}
	for i, sc := range v.Scans {
		if _, err := digest.Parse(sc.Digest); err != nil {
			return fmt.Errorf("scan %d: digest: %w", i, err)
		}
		if t, err := time.Parse(time.RFC3339, sc.Time); err != nil || t.Location() != time.UTC {
			return fmt.Errorf("scan %d: time %q is not RFC 3339 UTC", i, sc.Time)
		}
		if i > 0 && v.Scans[i-1].Digest >= sc.Digest {
			return fmt.Errorf("scans not sorted by digest, or one repeats")
		}
	}
	return nil
}

// compareFindings orders open findings: most severe first, then by ID and
// package.
func compareFindings(a, b Finding) int {
	if c := b.Severity.Rank() - a.Severity.Rank(); c != 0 {
		return c
	}
	return compareIDPackage(a, b)
}

func compareIDPackage(a, b Finding) int {
	if c := strings.Compare(a.ID, b.ID); c != 0 {
		return c
	}
	return strings.Compare(a.Package, b.Package)
}

// Clone returns a deep copy of s.
func (s Summary) Clone() Summary {
	c := s
	if s.Vulnerabilities != nil {
		v := *s.Vulnerabilities
		v.Findings = cloneFindings(v.Findings)
		v.Suppressed = slices.Clone(v.Suppressed)
		for i := range v.Suppressed {
			v.Suppressed[i].Aliases = slices.Clone(v.Suppressed[i].Aliases)
		}
		v.Scans = slices.Clone(v.Scans)
		c.Vulnerabilities = &v
	}
	if s.SBOM != nil {
		x := *s.SBOM
		c.SBOM = &x
	}
	if s.Provenance != nil {
		x := *s.Provenance
		c.Provenance = &x
	}
	if s.Policy != nil {
		x := *s.Policy
		x.Findings = slices.Clone(x.Findings)
		c.Policy = &x
	}
	c.Config = slices.Clone(s.Config)
	c.Evidence = slices.Clone(s.Evidence)
	return c
}

func cloneFindings(fs []Finding) []Finding {
	out := slices.Clone(fs)
	for i := range out {
		out[i].Aliases = slices.Clone(out[i].Aliases)
	}
	return out
}
