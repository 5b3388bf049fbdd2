package attest

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// sarifLog is the part of a SARIF 2.1.0 log slipway reads (OASIS SARIF
// v2.1.0: sarifLog, run, toolComponent, reportingDescriptor, result).
type sarifLog struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Name            string      `json:"name"`
				Version         string      `json:"version"`
				SemanticVersion string      `json:"semanticVersion"`
				InformationURI  string      `json:"informationUri"`
				Rules           []sarifRule `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			EndTimeUTC string `json:"endTimeUtc"`
		} `json:"invocations"`
		Results []sarifResult `json:"results"`
	} `json:"runs"`
}

type sarifRule struct {
	ID                   string `json:"id"`
	DefaultConfiguration *struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties map[string]json.RawMessage `json:"properties"`
}

type sarifResult struct {
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Rule      *struct {
		ID    string `json:"id"`
		Index *int   `json:"index"`
	} `json:"rule"`
	Level     string `json:"level"`
	Locations []struct {
		PhysicalLocation *struct {
			ArtifactLocation *struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
		} `json:"physicalLocation"`
	} `json:"locations"`
}

// parseSARIF reads a SARIF 2.1.0 log: every result of every run is a
// finding named by its rule ID, in the package of its first location's
// artifact URI. The scanner is the driver of the first run.
func parseSARIF(data []byte, source string) (*Scan, error) {
	var l sarifLog
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, jsonError(source, data, err)
	}
	s := &Scan{Format: ScanSARIF}
	if len(l.Runs) > 0 {
		d := l.Runs[0].Tool.Driver
		s.Scanner = Scanner{Name: d.Name, Version: d.Version, URI: d.InformationURI}
		if s.Scanner.Version == "" {
			s.Scanner.Version = d.SemanticVersion
		}
		if inv := l.Runs[0].Invocations; len(inv) > 0 {
			t, err := parseReportTime(inv[0].EndTimeUTC)
			if err != nil {
				return nil, fieldError(source, data, "runs[0].invocations[0].endTimeUtc", err)
			}
			s.Time = t
		}
	}
	var set findingSet
	for r, run := range l.Runs {
		rules := run.Tool.Driver.Rules
		for i, res := range run.Results {
			path := fmt.Sprintf("runs[%d].results[%d]", r, i)
			k := sarifRuleOf(rules, res)
			id := res.RuleID
			if id == "" && res.Rule != nil {
				id = res.Rule.ID
			}
			if id == "" && k >= 0 {
				id = rules[k].ID
			}
			if id == "" {
				return nil, fieldError(source, data, path, missing("rule ID"))
			}
			sev, err := sarifSeverity(source, data, rules, k, res, r, path)
			if err != nil {
				return nil, err
			}
			pkg := ""
			if len(res.Locations) > 0 {
				if pl := res.Locations[0].PhysicalLocation; pl != nil && pl.ArtifactLocation != nil {
					pkg = pl.ArtifactLocation.URI
				}
			}
			set.add(id, nil, Finding{Package: pkg, Severity: sev})
		}
	}
	s.Findings = set.findings()
	return s, nil
}

// sarifRuleOf returns the index in rules of the rule of res: by ruleIndex
// (or rule.index) when it is in range, else the first rule with its ID;
// -1 when there is none.
func sarifRuleOf(rules []sarifRule, res sarifResult) int {
	idx := res.RuleIndex
	if idx == nil && res.Rule != nil {
		idx = res.Rule.Index
	}
	if idx != nil && *idx >= 0 && *idx < len(rules) {
		return *idx
	}
	id := res.RuleID
	if id == "" && res.Rule != nil {
		id = res.Rule.ID
	}
	if id == "" {
		return -1
	}
	for k, rule := range rules {
		if rule.ID == id {
			return k
		}
	}
	return -1
}

// sarifSeverity is the severity of result res whose rule is rules[k] (k
// -1: none): from the rule's security-severity property (GitHub's
// convention: 9.0 and up critical, 7.0 high, 4.0 medium, below low), else
// from the result's level, else the rule's default level, else warning
// (error high, warning medium, note and none low).
func sarifSeverity(source string, data []byte, rules []sarifRule, k int, res sarifResult, r int, path string) (Severity, error) {
	rulePath := fmt.Sprintf("runs[%d].tool.driver.rules[%d]", r, k)
	if k >= 0 {
		if raw, ok := rules[k].Properties["security-severity"]; ok {
			sev, err := securitySeverity(raw)
			if err != nil {
				return "", fieldError(source, data, rulePath+".properties.security-severity", err)
			}
			return sev, nil
		}
	}
	level, levelPath := res.Level, path+".level"
	if level == "" && k >= 0 && rules[k].DefaultConfiguration != nil {
		level, levelPath = rules[k].DefaultConfiguration.Level, rulePath+".defaultConfiguration.level"
	}
	switch level {
	case "error":
		return SeverityHigh, nil
	case "warning", "":
		return SeverityMedium, nil
	case "note", "none":
		return SeverityLow, nil
	}
	return "", fieldError(source, data, levelPath, fmt.Errorf("%w: SARIF level %q: want error, warning, note or none", ErrMalformed, clip(level)))
}

// securitySeverity maps a security-severity score (a numeric string, or a
// number) onto the scale.
func securitySeverity(raw json.RawMessage) (Severity, error) {
	var score float64
	var s string
	err := json.Unmarshal(raw, &s)
	if err == nil {
		score, err = strconv.ParseFloat(s, 64)
	} else {
		err = json.Unmarshal(raw, &score)
	}
	if err != nil || !(score >= 0 && score <= 10) {
		return "", fmt.Errorf("%w: security-severity %s: want a score from 0 to 10", ErrMalformed, clip(string(raw)))
	}
	switch {
	case score >= 9:
		return SeverityCritical, nil
	case score >= 7:
		return SeverityHigh, nil
	case score >= 4:
		return SeverityMedium, nil
	}
	return SeverityLow, nil
}
