package attest

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// VEXStatus is the status an OpenVEX statement gives a vulnerability in a
// product.
type VEXStatus string

// The four statuses of OpenVEX v0.2.0. Only [VEXNotAffected] and
// [VEXFixed] take a finding out of the open counts ([ApplyVEX]).
const (
	// VEXNotAffected: the product is not affected; the statement carries a
	// justification or an impact statement saying why.
	VEXNotAffected VEXStatus = "not_affected"
	// VEXAffected: the product is affected; the statement should say what to
	// do in its action statement.
	VEXAffected VEXStatus = "affected"
	// VEXFixed: the product contains a fix for the vulnerability.
	VEXFixed VEXStatus = "fixed"
	// VEXUnderInvestigation: it is not yet known whether the product is
	// affected.
	VEXUnderInvestigation VEXStatus = "under_investigation"
)

// VEXJustification is the machine-readable reason of a not_affected
// statement.
type VEXJustification string

// The justifications of OpenVEX v0.2.0.
const (
	// VEXComponentNotPresent: the vulnerable component is not in the
	// product.
	VEXComponentNotPresent VEXJustification = "component_not_present"
	// VEXVulnerableCodeNotPresent: the component is present, but not the
	// vulnerable code.
	VEXVulnerableCodeNotPresent VEXJustification = "vulnerable_code_not_present"
	// VEXVulnerableCodeNotInExecutePath: the vulnerable code is present but
	// cannot be executed (govulncheck says this of code that is imported but
	// never called).
	VEXVulnerableCodeNotInExecutePath VEXJustification = "vulnerable_code_not_in_execute_path"
	// VEXVulnerableCodeCannotBeControlledByAdversary: the vulnerable code can
	// run, but an attacker cannot reach it with input of their choosing.
	VEXVulnerableCodeCannotBeControlledByAdversary VEXJustification = "vulnerable_code_cannot_be_controlled_by_adversary"
	// VEXInlineMitigationsAlreadyExist: the product has its own defence
	// against the vulnerability.
	VEXInlineMitigationsAlreadyExist VEXJustification = "inline_mitigations_already_exist"
)

// VEX is an OpenVEX v0.2.0 document: an author's statements on whether
// products are affected by vulnerabilities. Field names are the
// specification's; timestamps stay the RFC 3339 strings the document
// gives, so a parsed document marshals back to what it said. Members the
// specification defines but slipway does not use, and extensions, are
// dropped by [ParseVEX].
type VEX struct {
	// Context is the JSON-LD context: "https://openvex.dev/ns/v0.2.0" as
	// slipway writes it; "https://openvex.dev/ns" and any
	// "https://openvex.dev/ns/v…" are read.
	Context string `json:"@context"`
	// ID is the document's IRI.
	ID string `json:"@id"`
	// Author names who made the statements: a person, an organization or
	// an address. govulncheck writes "Unknown Author".
	Author string `json:"author"`
	// Role is the author's role, optional.
	Role string `json:"role,omitempty"`
	// Timestamp is when the document was issued, RFC 3339. Statements
	// without a time of their own date from it.
	Timestamp string `json:"timestamp"`
	// LastUpdated is when the document last changed, RFC 3339; optional.
	LastUpdated string `json:"last_updated,omitempty"`
	// Version counts the document's revisions; a later revision of the same
	// document has a higher version. Zero when the document gives none.
	Version int `json:"version"`
	// Tooling names the tool that wrote the document, optional: govulncheck
	// writes "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck".
	Tooling string `json:"tooling,omitempty"`
	// Statements are the document's statements, in document order.
	Statements []VEXStatement `json:"statements"`
}

// VEXStatement says what one vulnerability means for one or more
// products.
type VEXStatement struct {
	// ID is the statement's IRI, optional.
	ID string `json:"@id,omitempty"`
	// Version counts the statement's revisions, optional.
	Version int `json:"version,omitempty"`
	// Vulnerability is the vulnerability the statement is about.
	Vulnerability VEXVulnerability `json:"vulnerability"`
	// Timestamp is when the statement was made, RFC 3339; when empty, the
	// statement dates from its LastUpdated, else from the document's
	// Timestamp.
	Timestamp string `json:"timestamp,omitempty"`
	// LastUpdated is when the statement last changed, RFC 3339; optional.
	LastUpdated string `json:"last_updated,omitempty"`
	// Products are the products the statement is about. A statement
	// without products applies to nothing.
	Products []VEXProduct `json:"products,omitzero"`
	// Status is one of the four VEX statuses.
	Status VEXStatus `json:"status"`
	// StatusNotes tell how the status was determined, optional.
	StatusNotes string `json:"status_notes,omitempty"`
	// Justification says why a product is not affected. A not_affected
	// statement has a justification, an impact statement or both.
	Justification VEXJustification `json:"justification,omitempty"`
	// ImpactStatement explains in prose why a product is not affected.
	ImpactStatement string `json:"impact_statement,omitempty"`
	// ActionStatement tells users of an affected product what to do.
	ActionStatement string `json:"action_statement,omitempty"`
	// ActionStatementTimestamp is when the action statement was written,
	// RFC 3339; optional.
	ActionStatementTimestamp string `json:"action_statement_timestamp,omitempty"`
}

// VEXVulnerability names the vulnerability of a statement.
type VEXVulnerability struct {
	// ID is an IRI of the vulnerability, optional: govulncheck writes
	// "https://pkg.go.dev/vuln/GO-…".
	ID string `json:"@id,omitempty"`
	// Name is the vulnerability's ID in a tracking system: CVE-…, GHSA-…,
	// GO-…. Required.
	Name string `json:"name"`
	// Description is a short text about the vulnerability, optional.
	Description string `json:"description,omitempty"`
	// Aliases are the vulnerability's other IDs (a GO ID's CVE), optional.
	Aliases []string `json:"aliases,omitzero"`
}

// VEXProduct is a product of a statement, or a subcomponent of one.
type VEXProduct struct {
	// ID is the product's IRI, usually a purl such as
	// "pkg:golang/example.com/app@v1.2.3".
	ID string `json:"@id,omitempty"`
	// Identifiers are further identities by kind: "purl", "cpe22", "cpe23".
	Identifiers map[string]string `json:"identifiers,omitzero"`
	// Hashes are digests of the product by algorithm ("sha-256",
	// "sha-512", …), in hex.
	Hashes map[string]string `json:"hashes,omitzero"`
	// Subcomponents are the components of the product that the statement
	// is about: the packages that hold the vulnerable code. A subcomponent
	// has no subcomponents of its own.
	Subcomponents []VEXProduct `json:"subcomponents,omitzero"`
}

const (
	// govulncheckTooling starts the tooling of documents govulncheck
	// writes with -format openvex.
	govulncheckTooling = "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck"
	// unknownProduct is the one product govulncheck puts in every
	// statement: it does not know what it scanned.
	unknownProduct = "Unknown Product"
)

// ParseVEX reads an OpenVEX v0.2.0 document and checks what slipway relies
// on. source names data in errors (a file name, or "predicate sha256:…").
//
// Errors are [*ParseError] values with the source, the JSON path and the
// line and column of the fault. A document whose @context is not an
// OpenVEX context ("https://openvex.dev/ns", "https://openvex.dev/ns/v…")
// is [ErrUnknownFormat]. Everything else is [ErrMalformed]: JSON that does
// not parse or has a value of the wrong type, data larger than
// [MaxEvidenceSize], a missing (absent or blank) @id or author, a missing
// timestamp, a timestamp anywhere that is not RFC 3339, no statements, a
// statement without a vulnerability name, a status that is not one of the
// four, a justification that is not one of the five, a not_affected
// statement with neither a justification nor an impact statement, and a
// subcomponent with subcomponents. An empty list of statements is valid,
// and so is a document from govulncheck without any: govulncheck leaves
// the list out when it found nothing. An affected statement without an
// action statement is accepted (govulncheck writes none).
//
// ParseVEX keeps the document as it is: it does not sort, deduplicate or
// normalize anything, and drops only the members that [VEX] has no field
// for. Members are matched as encoding/json matches them: names ignore
// case, and of a repeated member the last counts.
func ParseVEX(data []byte, source string) (*VEX, error) {
	if len(data) > MaxEvidenceSize {
		return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxEvidenceSize)}
	}
	// The context first: JSON of another kind is an unknown format, whatever
	// its other members hold.
	var head struct {
		Context json.RawMessage `json:"@context"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, jsonError(source, data, err)
	}
	var context string
	if err := json.Unmarshal(head.Context, &context); err != nil || PredicateKind(context) != PredicateOpenVEX {
		what := "missing @context"
		if len(head.Context) > 0 {
			what = "@context " + vexClip(string(head.Context)) + " is not OpenVEX"
		}
		return nil, vexError(source, data, "@context",
			fmt.Errorf("%w: %s: want https://openvex.dev/ns or https://openvex.dev/ns/v…", ErrUnknownFormat, what))
	}
	var doc VEX
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, jsonError(source, data, err)
	}
	if err := checkVEX(&doc, source, data); err != nil {
		return nil, err
	}
	return &doc, nil
}

// ReadVEX reads an OpenVEX document from r, refusing more than
// [MaxEvidenceSize] bytes, and parses it as [ParseVEX] does.
func ReadVEX(r io.Reader, source string) (*VEX, error) {
	data, err := ReadEvidence(r, source)
	if err != nil {
		return nil, err
	}
	return ParseVEX(data, source)
}

// checkVEX checks a decoded document, first fault first, in document
// order.
func checkVEX(doc *VEX, source string, data []byte) error {
	bad := func(path, msg string) error {
		return vexError(source, data, path, fmt.Errorf("%w: %s", ErrMalformed, msg))
	}
	badTime := func(path, value string) error {
		if _, ok := vexTime(value); ok {
			return nil
		}
		return bad(path, fmt.Sprintf("%s %s is not an RFC 3339 time", vexLastPart(path), vexQuote(value)))
	}
	switch {
	case vexBlank(doc.ID):
		return bad("@id", "missing @id")
	case vexBlank(doc.Author):
		return bad("author", "missing author")
	case doc.Timestamp == "":
		return bad("timestamp", "missing timestamp")
	}
	if err := badTime("timestamp", doc.Timestamp); err != nil {
		return err
	}
	if doc.LastUpdated != "" {
		if err := badTime("last_updated", doc.LastUpdated); err != nil {
			return err
		}
	}
	if doc.Statements == nil && !vexFromGovulncheck(doc) {
		return bad("statements", "missing statements")
	}
	for i := range doc.Statements {
		st := &doc.Statements[i]
		at := fmt.Sprintf("statements[%d]", i)
		if vexBlank(st.Vulnerability.Name) {
			return bad(at+".vulnerability.name", "missing vulnerability name")
		}
		for _, t := range []struct{ name, value string }{
			{"timestamp", st.Timestamp},
			{"last_updated", st.LastUpdated},
			{"action_statement_timestamp", st.ActionStatementTimestamp},
		} {
			if t.value != "" {
				if err := badTime(at+"."+t.name, t.value); err != nil {
					return err
				}
			}
		}
		switch st.Status {
		case VEXNotAffected, VEXAffected, VEXFixed, VEXUnderInvestigation:
		case "":
			return bad(at+".status", "missing status: want not_affected, affected, fixed or under_investigation")
		default:
			return bad(at+".status", fmt.Sprintf("unknown status %s: want not_affected, affected, fixed or under_investigation", vexQuote(string(st.Status))))
		}
		switch st.Justification {
		case "", VEXComponentNotPresent, VEXVulnerableCodeNotPresent, VEXVulnerableCodeNotInExecutePath,
			VEXVulnerableCodeCannotBeControlledByAdversary, VEXInlineMitigationsAlreadyExist:
		default:
			return bad(at+".justification", fmt.Sprintf("unknown justification %s: want component_not_present, "+
				"vulnerable_code_not_present, vulnerable_code_not_in_execute_path, "+
				"vulnerable_code_cannot_be_controlled_by_adversary or inline_mitigations_already_exist",
				vexQuote(string(st.Justification))))
		}
		if st.Status == VEXNotAffected && st.Justification == "" && vexBlank(st.ImpactStatement) {
			return bad(at+".justification", "status not_affected needs a justification or an impact_statement")
		}
		for j, p := range st.Products {
			for k, sub := range p.Subcomponents {
				if sub.Subcomponents != nil {
					return bad(fmt.Sprintf("%s.products[%d].subcomponents[%d].subcomponents", at, j, k),
						"a subcomponent cannot have subcomponents")
				}
			}
		}
	}
	return nil
}

// vexError is a ParseError about the value at path. When data has no value
// there (a member that is missing), the line and column are those of the
// nearest enclosing value, else of the document's start.
func vexError(source string, data []byte, path string, err error) *ParseError {
	pe := fieldError(source, data, path, err)
	for p := vexParentPath(path); pe.Line == 0 && p != ""; p = vexParentPath(p) {
		if off, ok := locate(data, p); ok {
			pe.Line, pe.Column = lineColumn(data, off)
		}
	}
	if pe.Line == 0 {
		pe.Line, pe.Column = lineColumn(data, valueStart(data, 0))
	}
	return pe
}

// vexParentPath drops the last member name or index of a JSON path:
// "statements[2].status" → "statements[2]" → "statements" → "".
func vexParentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i >= 0 {
		return path[:i]
	}
	return ""
}

// vexLastPart is the last member name of a JSON path.
func vexLastPart(path string) string {
	return path[strings.LastIndexByte(path, '.')+1:]
}

func vexBlank(s string) bool { return strings.TrimSpace(s) == "" }

// vexQuote quotes a value from a document for an error message, cut to a
// bounded length.
func vexQuote(s string) string { return fmt.Sprintf("%q", vexClipString(s)) }

// vexClip cuts raw JSON for an error message.
func vexClip(s string) string {
	if c := vexClipString(s); c != s {
		return c + "…"
	}
	return s
}

// vexClipString returns at most 64 bytes of s, cut at a rune boundary.
func vexClipString(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// vexTime parses an RFC 3339 time as encoding/json reads a time.Time.
func vexTime(s string) (time.Time, bool) {
	var t time.Time
	if err := t.UnmarshalText([]byte(s)); err != nil {
		return time.Time{}, false
	}
	return t, true
}

// vexFromGovulncheck reports whether govulncheck wrote doc.
func vexFromGovulncheck(doc *VEX) bool {
	return strings.HasPrefix(doc.Tooling, govulncheckTooling)
}

// ApplyVEX sorts findings into those that stay open and those the VEX
// documents suppress. products are the identities of the artifact the
// findings are about: purls such as "pkg:golang/example.com/app@v1.2.3",
// or plain names such as the app's name.
//
// A statement applies to a finding when both hold:
//
//   - its vulnerability's name or one of its aliases equals the finding's
//     ID or one of the finding's aliases, exactly (IDs are case-sensitive);
//   - one of its products either names the artifact, or names the
//     finding's package (a statement about the vulnerable component
//     itself). A product names a package or the artifact by its @id or its
//     "purl" identifier, compared as parsed purls or as plain names: a
//     product without a version matches every version, one with a version
//     only that version. A product that names the artifact and lists
//     subcomponents applies only when a subcomponent names the finding's
//     package; without subcomponents it covers every finding of the
//     vulnerability in the artifact.
//
// A document that govulncheck wrote (tooling
// "https://pkg.go.dev/golang.org/x/vuln/cmd/govulncheck…") names no
// product: its statements are about "Unknown Product", with the vulnerable
// modules as subcomponents. ApplyVEX binds such a document to the artifact
// it is applied to, the subject of the attestation that carried it: in it,
// "Unknown Product" names the artifact. Pass a govulncheck document only
// with the findings of the artifact it was run on.
//
// Of the statements that apply to a finding, the newest decides: by the
// statement's timestamp, else its last_updated, else the document's
// timestamp; on equal times the document with the higher version; then
// the later document in docs, then the later statement in its document. A
// time that does not parse (ParseVEX refuses those) is passed over; a
// statement left without any time is older than every dated one. When the deciding status is not_affected or fixed, the
// finding becomes a [Suppression] carrying the status, the justification
// (else the impact statement) and the document's author. affected and
// under_investigation leave the finding open, so a newer affected
// statement reopens a finding an older not_affected one suppressed.
//
// open is sorted as [VulnSummary].Findings is: most severe first, then by
// ID and package; suppressed by ID and package; findings equal in those
// keep their order in findings. ApplyVEX does not check who signed the
// documents: pass only documents from attestations that verified. It
// reads its arguments and never changes them, so concurrent calls are
// safe; the results share no memory with them. Nil documents are skipped.
func ApplyVEX(findings []Finding, docs []*VEX, products []string) (open []Finding, suppressed []Suppression) {
	idx := indexVEX(docs)
	for _, f := range findings {
		f.Aliases = slices.Clone(f.Aliases)
		w := idx.decide(f, products)
		if w == nil || (w.st.Status != VEXNotAffected && w.st.Status != VEXFixed) {
			open = append(open, f)
			continue
		}
		why := string(w.st.Justification)
		if why == "" {
			why = w.st.ImpactStatement
		}
		suppressed = append(suppressed, Suppression{Finding: f, Status: string(w.st.Status), Justification: why, Author: w.doc.Author})
	}
	slices.SortStableFunc(open, compareFindings)
	slices.SortStableFunc(suppressed, func(a, b Suppression) int { return compareIDPackage(a.Finding, b.Finding) })
	return open, suppressed
}

// vexRef is one statement of the documents ApplyVEX was given.
type vexRef struct {
	doc   *VEX
	st    *VEXStatement
	d, s  int       // positions of the document in docs and of the statement in it
	when  time.Time // the statement's time; zero when none parses
	bound bool      // the document is govulncheck's, bound to the artifact
}

// vexIndex finds statements by vulnerability name.
type vexIndex struct {
	refs   []vexRef
	byName map[string][]int // vulnerability name or alias → indexes in refs
}

func indexVEX(docs []*VEX) vexIndex {
	idx := vexIndex{byName: map[string][]int{}}
	for d, doc := range docs {
		if doc == nil {
			continue
		}
		bound := vexFromGovulncheck(doc)
		for s := range doc.Statements {
			st := &doc.Statements[s]
			r := len(idx.refs)
			idx.refs = append(idx.refs, vexRef{doc: doc, st: st, d: d, s: s, when: vexStatementTime(doc, st), bound: bound})
			for _, name := range append([]string{st.Vulnerability.Name}, st.Vulnerability.Aliases...) {
				if l := idx.byName[name]; name != "" && (len(l) == 0 || l[len(l)-1] != r) {
					idx.byName[name] = append(l, r)
				}
			}
		}
	}
	return idx
}

// vexStatementTime is the time of st: its timestamp, else its last_updated,
// else its document's timestamp.
func vexStatementTime(doc *VEX, st *VEXStatement) time.Time {
	for _, s := range []string{st.Timestamp, st.LastUpdated, doc.Timestamp} {
		if s == "" {
			continue
		}
		if t, ok := vexTime(s); ok {
			return t
		}
	}
	return time.Time{}
}

// decide returns the newest statement that applies to f, or nil.
func (idx vexIndex) decide(f Finding, artifact []string) *vexRef {
	var best *vexRef
	for _, name := range f.Names() {
		if name == "" {
			continue
		}
		for _, r := range idx.byName[name] {
			ref := &idx.refs[r]
			if ref != best && (best == nil || vexNewer(ref, best)) && ref.applies(f.Package, artifact) {
				best = ref
			}
		}
	}
	return best
}

// vexNewer reports whether a overrides b.
func vexNewer(a, b *vexRef) bool {
	if c := a.when.Compare(b.when); c != 0 {
		return c > 0
	}
	if a.doc.Version != b.doc.Version {
		return a.doc.Version > b.doc.Version
	}
	if a.d != b.d {
		return a.d > b.d
	}
	return a.s > b.s
}

// applies reports whether one of the statement's products covers the
// package pkg of the artifact.
func (r *vexRef) applies(pkg string, artifact []string) bool {
	for _, p := range r.st.Products {
		ids := vexProductIDs(p)
		if vexNames(ids, pkg) {
			return true // a statement about the vulnerable component itself
		}
		if !(r.bound && p.ID == unknownProduct) && !slices.ContainsFunc(artifact, func(a string) bool { return vexNames(ids, a) }) {
			continue
		}
		if len(p.Subcomponents) == 0 {
			return true
		}
		for _, sub := range p.Subcomponents {
			if vexNames(vexProductIDs(sub), pkg) {
				return true
			}
		}
	}
	return false
}

// vexProductIDs returns the identities of a product: its @id and its purl
// identifier.
func vexProductIDs(p VEXProduct) []string {
	return []string{p.ID, p.Identifiers["purl"]}
}

// vexNames reports whether one of ids names the package pkg: a product
// without a version names every version of it.
func vexNames(ids []string, pkg string) bool {
	if pkg == "" {
		return false
	}
	for _, id := range ids {
		if id != "" && samePackage(id, pkg, true) {
			return true
		}
	}
	return false
}
