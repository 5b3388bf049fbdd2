package attest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// grypeDocument is the part of a Grype -o json document slipway reads
// (anchore/grype grype/presenter/models: document.go, match.go,
// vulnerability.go, package.go, descriptor.go).
type grypeDocument struct {
	Matches []struct {
		Vulnerability struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Fix      struct {
				Versions []string `json:"versions"`
			} `json:"fix"`
		} `json:"vulnerability"`
		RelatedVulnerabilities []struct {
			ID string `json:"id"`
		} `json:"relatedVulnerabilities"`
		Artifact struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			PURL    string `json:"purl"`
		} `json:"artifact"`
	} `json:"matches"`
	Descriptor struct {
		Name      string `json:"name"`
		Version   string `json:"version"`
		Timestamp string `json:"timestamp"`
	} `json:"descriptor"`
}

// parseGrype reads a Grype JSON document. Package is artifact.purl, else
// artifact.name; relatedVulnerabilities are aliases; the fix versions are
// joined by ", ". ignoredMatches are not findings.
func parseGrype(data []byte, source string) (*Scan, error) {
	var d grypeDocument
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, jsonError(source, data, err)
	}
	t, err := parseReportTime(d.Descriptor.Timestamp)
	if err != nil {
		return nil, fieldError(source, data, "descriptor.timestamp", err)
	}
	var set findingSet
	for i, m := range d.Matches {
		path := fmt.Sprintf("matches[%d]", i)
		if m.Vulnerability.ID == "" {
			return nil, fieldError(source, data, path+".vulnerability.id", missing("vulnerability ID"))
		}
		sev, err := ParseSeverity(m.Vulnerability.Severity)
		if err != nil {
			return nil, fieldError(source, data, path+".vulnerability.severity", err)
		}
		var related []string
		for _, r := range m.RelatedVulnerabilities {
			related = append(related, r.ID)
		}
		pkg := m.Artifact.PURL
		if pkg == "" {
			pkg = m.Artifact.Name
		}
		set.add(m.Vulnerability.ID, related, Finding{
			Package:   pkg,
			Installed: m.Artifact.Version,
			Fixed:     strings.Join(m.Vulnerability.Fix.Versions, ", "),
			Severity:  sev,
		})
	}
	name := d.Descriptor.Name
	if name == "" {
		name = "grype"
	}
	return &Scan{
		Format: ScanGrype,
		Scanner: Scanner{
			Name:    name,
			Version: d.Descriptor.Version,
			URI:     githubPURL("anchore", "grype", d.Descriptor.Version),
		},
		Time:     t,
		Findings: set.findings(),
	}, nil
}
