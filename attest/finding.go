package attest

import (
	"fmt"
	"strings"
	"time"
)

// Severity is a vulnerability's severity on slipway's one scale.
type Severity string

// The severities, most severe first. Scanners' words map onto them as
// docs/format.md ("Evidence") tables: Grype's Negligible, CycloneDX's info
// and none and SARIF's note and none count as low; a finding without a
// severity (govulncheck's are all without) is unknown.
const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
	SeverityUnknown  Severity = "unknown"
)

// Severities lists the scale, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityUnknown}

// Rank orders severities: critical 4, high 3, medium 2, low 1, unknown
// and anything else 0.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// ParseSeverity maps a scanner's severity word onto the scale, ignoring
// case: critical, high, medium (also moderate), low, negligible, info,
// none and note (low), unknown and "" (unknown). Any other word is
// [ErrMalformed].
func ParseSeverity(word string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(word)) {
	case "critical":
		return SeverityCritical, nil
	case "high":
		return SeverityHigh, nil
	case "medium", "moderate":
		return SeverityMedium, nil
	case "low", "negligible", "info", "none", "note":
		return SeverityLow, nil
	case "unknown", "":
		return SeverityUnknown, nil
	}
	return "", fmt.Errorf("%w: unknown severity %q: want critical, high, medium, low, negligible or unknown", ErrMalformed, word)
}

// Finding is one vulnerability in one package, as a scanner reported it,
// normalized.
type Finding struct {
	// ID is the vulnerability's ID: a CVE ID when the scanner gives one,
	// else its own (GHSA-…, GO-…, a SARIF rule ID).
	ID string `json:"id"`
	// Aliases are the vulnerability's other IDs, sorted.
	Aliases []string `json:"aliases,omitempty"`
	// Package is the affected package: its purl when the scanner gives or
	// implies one (pkg:golang/golang.org/x/net@v0.1.0), else its name.
	Package string `json:"package,omitempty"`
	// Installed and Fixed are the installed version and the versions that
	// fix it ("" when none is known).
	Installed string `json:"installed,omitempty"`
	Fixed     string `json:"fixed,omitempty"`
	// Severity is on slipway's scale.
	Severity Severity `json:"severity"`
}

// Names returns the finding's ID followed by its aliases.
func (f Finding) Names() []string {
	return append([]string{f.ID}, f.Aliases...)
}

// Scanner names the tool that produced a scan.
type Scanner struct {
	Name    string `json:"name"`              // e.g. "trivy"
	Version string `json:"version,omitempty"` // e.g. "0.58.1"
	URI     string `json:"uri,omitempty"`     // e.g. "pkg:github/aquasecurity/trivy@0.58.1"
}

// Scan formats ParseScan detects.
const (
	ScanTrivy       = "trivy"
	ScanGrype       = "grype"
	ScanGovulncheck = "govulncheck"
	ScanSARIF       = "sarif"
)

// Scan is a vulnerability scan report read into one normalized form.
type Scan struct {
	Format   string    // ScanTrivy, ScanGrype, ScanGovulncheck or ScanSARIF
	Scanner  Scanner   // as far as the report says
	Time     time.Time // when the report says it was made; zero if it does not
	Findings []Finding // sorted by ID, then package
}
