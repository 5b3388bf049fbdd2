package attest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Predicate is one piece of evidence as attested: its predicate type and
// its JSON.
type Predicate struct {
	Type string
	Data []byte
}

// Summarize computes what evidence says: the SBOM's digest and component
// count, the scans' findings merged across scanners with the VEX
// statements applied, and the list of evidence it read. products are the
// identities of the artifact the evidence is about (its purls and name),
// which VEX statements must name to apply ([ApplyVEX]).
//
// Every predicate must be of a kind [PredicateKind] knows; a predicate
// that does not parse is a [*ParseError] naming it by type and digest.
// Two SBOMs are [ErrInvalidOptions]. The same evidence in any order gives
// the same summary; the same predicate twice counts once. Summarize never
// fills Provenance, Policy or Config: they come from elsewhere.
func Summarize(evidence []Predicate, products []string) (*Summary, error) {
	type item struct {
		kind   string
		digest string
		data   []byte
	}
	var items []item
	seen := map[string]bool{}
	for i, p := range evidence {
		kind := PredicateKind(p.Type)
		if kind == "" {
			return nil, fmt.Errorf("attest: summarize: evidence %d: %w: predicate type %q", i, ErrUnknownFormat, p.Type)
		}
		d, err := PredicateDigest(p.Data)
		if err != nil {
			return nil, fmt.Errorf("attest: summarize: evidence %d (%s): %w", i, p.Type, err)
		}
		if seen[d.String()] {
			continue
		}
		seen[d.String()] = true
		items = append(items, item{kind: kind, digest: d.String(), data: p.Data})
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.digest, b.digest) })

	var (
		s     Summary
		scans []*Scan
		docs  []*VEX
	)
	var vulns *VulnSummary
	for _, it := range items {
		source := fmt.Sprintf("predicate %s (%s)", it.digest, it.kind)
		s.Evidence = append(s.Evidence, EvidenceRef{PredicateType: it.kind, Digest: it.digest})
		switch it.kind {
		case PredicateCycloneDX, PredicateSPDX:
			if s.SBOM != nil {
				return nil, fmt.Errorf("attest: summarize: %w: two SBOMs, %s and %s", ErrInvalidOptions, s.SBOM.Digest, it.digest)
			}
			sbom, err := ParseSBOM(it.data, source)
			if err != nil {
				return nil, fmt.Errorf("attest: summarize: %w", err)
			}
			s.SBOM = &SBOMSummary{Digest: it.digest, PredicateType: it.kind, Components: sbom.Components}
		case PredicateVuln:
			scan, _, err := ParseVulnPredicate(it.data, source)
			if err != nil {
				return nil, fmt.Errorf("attest: summarize: %w", err)
			}
			if vulns == nil {
				vulns = &VulnSummary{}
			}
			scans = append(scans, scan)
			vulns.Scans = append(vulns.Scans, ScanSummary{
				Scanner: scan.Scanner,
				Time:    scan.Time.UTC().Format(time.RFC3339),
				Digest:  it.digest,
			})
		case PredicateOpenVEX:
			doc, err := ParseVEX(it.data, source)
			if err != nil {
				return nil, fmt.Errorf("attest: summarize: %w", err)
			}
			docs = append(docs, doc)
		}
	}
	if vulns != nil {
		open, suppressed := ApplyVEX(MergeFindings(scans...), docs, products)
		for _, f := range open {
			vulns.Open.Add(f.Severity)
		}
		vulns.Findings, vulns.Suppressed = open, suppressed
		s.Vulnerabilities = vulns
	}
	return &s, nil
}
