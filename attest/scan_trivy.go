package attest

import (
	"encoding/json"
	"fmt"

	packageurl "github.com/package-url/packageurl-go"
)

// trivyReport is the part of a Trivy -f json report slipway reads
// (aquasecurity/trivy pkg/types/report.go; keys are Go field names).
type trivyReport struct {
	SchemaVersion int
	CreatedAt     string
	Trivy         struct {
		Version string
	}
	Results []struct {
		Target          string
		Vulnerabilities []trivyVuln
	}
}

// trivyVuln is one DetectedVulnerability.
type trivyVuln struct {
	VulnerabilityID string
	VendorIDs       []string
	PkgName         string
	PkgIdentifier   struct {
		PURL string
	}
	InstalledVersion string
	FixedVersion     string
	Severity         string
}

// parseTrivy reads a Trivy JSON report. Package is PkgIdentifier.PURL,
// else PkgName; VendorIDs are aliases; FixedVersion is kept as given (it
// may list several versions joined by ", ").
func parseTrivy(data []byte, source string) (*Scan, error) {
	var r trivyReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, jsonError(source, data, err)
	}
	if r.SchemaVersion != 2 {
		return nil, fieldError(source, data, "SchemaVersion",
			fmt.Errorf("%w: Trivy report schema version %d: only version 2 is read", ErrUnknownFormat, r.SchemaVersion))
	}
	t, err := parseReportTime(r.CreatedAt)
	if err != nil {
		return nil, fieldError(source, data, "CreatedAt", err)
	}
	var set findingSet
	for i, res := range r.Results {
		for j, v := range res.Vulnerabilities {
			path := fmt.Sprintf("Results[%d].Vulnerabilities[%d]", i, j)
			if v.VulnerabilityID == "" {
				return nil, fieldError(source, data, path+".VulnerabilityID", missing("vulnerability ID"))
			}
			sev, err := ParseSeverity(v.Severity)
			if err != nil {
				return nil, fieldError(source, data, path+".Severity", err)
			}
			pkg := v.PkgIdentifier.PURL
			if pkg == "" {
				pkg = v.PkgName
			}
			set.add(v.VulnerabilityID, v.VendorIDs, Finding{
				Package:   pkg,
				Installed: v.InstalledVersion,
				Fixed:     v.FixedVersion,
				Severity:  sev,
			})
		}
	}
	return &Scan{
		Format: ScanTrivy,
		Scanner: Scanner{
			Name:    "trivy",
			Version: r.Trivy.Version,
			URI:     githubPURL("aquasecurity", "trivy", r.Trivy.Version),
		},
		Time:     t,
		Findings: set.findings(),
	}, nil
}

// githubPURL is pkg:github/<owner>/<repo>@<version>, without the version
// when it is empty.
func githubPURL(owner, repo, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeGithub, owner, repo, version, nil, "").ToString()
}
