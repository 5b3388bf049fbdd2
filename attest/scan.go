package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ParseScan reads a vulnerability scan report into a [Scan]. The format
// is detected from the content, never from source, which only names the
// input in errors:
//
//   - Trivy -f json: an object with SchemaVersion (2) and Results or
//     ArtifactName;
//   - Grype -o json: an object with a matches array and a descriptor or
//     source;
//   - SARIF 2.1.0: an object with version "2.1.0" and runs;
//   - govulncheck -json: a stream of JSON objects, each with one key among
//     config, progress, SBOM, osv and finding, or those objects in one JSON
//     array (the form a stream takes inside a [VulnPredicate]).
//
// Each reported vulnerability becomes a [Finding]: a CVE ID when the
// scanner names one (the smallest, when it names several), else the
// scanner's own ID, with the other IDs as aliases; the package as a purl
// when the report gives or implies one, else its name; the severity on
// slipway's scale. Findings with the same ID and package are merged into
// one (the higher severity, the union of aliases), and the list is sorted
// by ID, then package. govulncheck findings count only at the report's
// scan level (symbol unless the config says otherwise: a vulnerable
// function called; package: a vulnerable package imported; module: a
// vulnerable module required) and have no severity. SARIF results take
// their severity from the rule's "security-severity" property when it has
// one, else from their level (error high, warning medium, note and none
// low).
//
// Errors are [*ParseError]s that wrap [ErrMalformed] (not JSON, a wrong
// type, an unknown severity word, a missing ID: with line, column and
// JSON path where known) or [ErrUnknownFormat] (JSON that is none of the
// four formats, saying what was seen). ParseScan does not limit the size
// of data; [ReadScan] does. A Trivy report of a schema version other
// than 2 and a SARIF log of a version other than 2.1.0 are
// [ErrUnknownFormat]. Scan.Time is in UTC.
func ParseScan(data []byte, source string) (*Scan, error) {
	format, err := detectScan(data, source)
	if err != nil {
		return nil, err
	}
	switch format {
	case ScanTrivy:
		return parseTrivy(data, source)
	case ScanGrype:
		return parseGrype(data, source)
	case ScanSARIF:
		return parseSARIF(data, source)
	default:
		return parseGovulncheck(data, source)
	}
}

// ReadScan reads a scan report from r and parses it with [ParseScan]. It
// refuses input larger than [MaxEvidenceSize] with a [*ParseError]
// wrapping [ErrMalformed], and returns read errors as a [*ParseError]
// wrapping the reader's error.
func ReadScan(r io.Reader, source string) (*Scan, error) {
	data, err := ReadEvidence(r, source)
	if err != nil {
		return nil, err
	}
	return ParseScan(data, source)
}

// MergeFindings returns the findings of scans as one list, as several
// scanners of one build see them. Findings that share a name (ID or
// alias) and name the same package (purls compared after parsing, so
// govulncheck's escaped Go purls match; a bare package name never matches
// a purl) are one finding, also through a chain of shared names. A merged
// finding is named by the smallest CVE ID among all its names, else by
// the smallest name, and carries the other names as aliases; its severity
// is the highest any scanner gave (unknown only when every scanner said
// unknown); its package, installed and fixed versions are the first
// non-empty ones in the order of scans and findings. The result is sorted
// by ID, then package, and depends only on its input; nil scans are
// skipped. Findings are expected to have an ID, as those of [ParseScan]
// do; one without any name is merged with none.
func MergeFindings(scans ...*Scan) []Finding {
	var all []Finding
	for _, s := range scans {
		if s != nil {
			all = append(all, s.Findings...)
		}
	}
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	seen := make(map[string]int) // package key, NUL, name → first finding
	for i, f := range all {
		key := packageKey(f.Package)
		for _, n := range f.Names() {
			if n == "" {
				continue
			}
			k := key + "\x00" + n
			j, ok := seen[k]
			if !ok {
				seen[k] = i
				continue
			}
			// Union keeps the smaller index as the root, so a group's root
			// is its first member.
			ri, rj := find(i), find(j)
			if ri != rj {
				parent[max(ri, rj)] = min(ri, rj)
			}
		}
	}
	groups := make(map[int][]Finding)
	var roots []int
	for i, f := range all {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], f)
	}
	var out []Finding
	for _, r := range roots {
		out = append(out, mergeGroup(groups[r]))
	}
	// Stable: findings without names may tie; they keep the input order.
	slices.SortStableFunc(out, compareIDPackage)
	return out
}

// mergeGroup folds findings of one vulnerability in one package, given in
// scan order, into one.
func mergeGroup(group []Finding) Finding {
	var names []string
	m := Finding{Severity: SeverityUnknown}
	for _, f := range group {
		names = append(names, f.Names()...)
		if m.Package == "" {
			m.Package = f.Package
		}
		if m.Installed == "" {
			m.Installed = f.Installed
		}
		if m.Fixed == "" {
			m.Fixed = f.Fixed
		}
		if f.Severity.Rank() > m.Severity.Rank() {
			m.Severity = f.Severity
		}
	}
	names = cleanNames(names)
	m.ID = smallestCVE(names)
	if m.ID == "" && len(names) > 0 {
		m.ID = names[0] // sorted: the smallest name
	}
	m.Aliases = without(names, m.ID)
	return m
}

// packageKey is equal for two package strings exactly when
// samePackage(a, b, false) holds.
func packageKey(s string) string {
	p := parsePkg(s)
	if p.purl {
		return "purl\x00" + p.typ + "\x00" + p.path + "\x00" + p.version
	}
	return "name\x00" + p.path
}

// findingSet collects the findings of one report, merging those with the
// same ID and package.
type findingSet struct {
	index map[[2]string]int
	list  []Finding
}

// add records a finding that the scanner names primary (and also others).
// f's ID and aliases are set from those names.
func (s *findingSet) add(primary string, others []string, f Finding) {
	names := cleanNames(append([]string{primary}, others...))
	f.ID = smallestCVE(names)
	if f.ID == "" {
		f.ID = primary
	}
	f.Aliases = without(names, f.ID)
	k := [2]string{f.ID, f.Package}
	i, ok := s.index[k]
	if !ok {
		if s.index == nil {
			s.index = make(map[[2]string]int)
		}
		s.index[k] = len(s.list)
		s.list = append(s.list, f)
		return
	}
	m := &s.list[i]
	m.Aliases = without(cleanNames(append(m.Aliases, f.Aliases...)), m.ID)
	if f.Severity.Rank() > m.Severity.Rank() {
		m.Severity = f.Severity
	}
	if m.Installed == "" {
		m.Installed = f.Installed
	}
	if m.Fixed == "" {
		m.Fixed = f.Fixed
	}
}

// findings returns the collected findings sorted by ID, then package; nil
// when there are none.
func (s *findingSet) findings() []Finding {
	slices.SortFunc(s.list, compareIDPackage)
	return s.list
}

var cveRE = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]{4,}$`)

// smallestCVE returns the CVE ID among names that is oldest by year and
// number (CVE-2024-9999 before CVE-2024-10000), or "" when there is none.
func smallestCVE(names []string) string {
	best := ""
	for _, n := range names {
		if !cveRE.MatchString(n) {
			continue
		}
		if best == "" || compareCVE(n, best) < 0 {
			best = n
		}
	}
	return best
}

// compareCVE orders two well-formed CVE IDs by year, then number.
func compareCVE(a, b string) int {
	if c := strings.Compare(a[4:8], b[4:8]); c != 0 {
		return c
	}
	na, nb := strings.TrimLeft(a[9:], "0"), strings.TrimLeft(b[9:], "0")
	if c := len(na) - len(nb); c != 0 {
		return c
	}
	if c := strings.Compare(na, nb); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// cleanNames returns names sorted, without duplicates or empty strings.
func cleanNames(names []string) []string {
	out := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// without returns sorted names minus id; nil when nothing is left.
func without(names []string, id string) []string {
	var out []string
	for _, n := range names {
		if n != id {
			out = append(out, n)
		}
	}
	return out
}

// govulnKeys are the keys of govulncheck -json messages.
var govulnKeys = []string{"config", "progress", "SBOM", "osv", "finding"}

// detectScan returns the format of the report in data: one of the Scan
// format constants.
func detectScan(data []byte, source string) (string, error) {
	start := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
	if start == len(data) {
		line, col := lineColumn(data, int64(len(data)))
		return "", &ParseError{Source: source, Line: line, Column: col, Err: fmt.Errorf("%w: empty input, want a JSON scan report", ErrMalformed)}
	}
	switch data[start] {
	case '{':
		var obj map[string]json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&obj); err != nil {
			return "", jsonError(source, data, err)
		}
		format, why := objectFormat(obj)
		if format != "" {
			return format, nil
		}
		if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
			return "", jsonError(source, data, err) // trailing data
		}
		return "", &ParseError{Source: source, Err: fmt.Errorf("%w: %s", ErrUnknownFormat, why)}
	case '[':
		var arr []json.RawMessage
		if err := json.Unmarshal(data, &arr); err != nil {
			return "", jsonError(source, data, err)
		}
		if len(arr) == 0 {
			return "", unknownFormat(source, "an empty JSON array")
		}
		if isGovulnMessage(arr[0]) {
			return ScanGovulncheck, nil
		}
		return "", unknownFormat(source, "a JSON array whose first element is "+describeJSON(arr[0]))
	}
	var v json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		return "", jsonError(source, data, err)
	}
	return "", unknownFormat(source, describeJSON(v))
}

// objectFormat returns the format of a report whose top-level object is
// obj, or "" and why it is none.
func objectFormat(obj map[string]json.RawMessage) (format, why string) {
	has := func(k string) bool { _, ok := obj[k]; return ok }
	switch {
	case has("SchemaVersion") && (has("Results") || has("ArtifactName")):
		return ScanTrivy, ""
	case isJSONArray(obj["matches"]) && (has("descriptor") || has("source")):
		return ScanGrype, ""
	case has("version") && has("runs"):
		var v string
		if json.Unmarshal(obj["version"], &v) == nil && v == "2.1.0" {
			return ScanSARIF, ""
		}
		return "", fmt.Sprintf("a SARIF log of version %s: only SARIF 2.1.0 is read", clip(string(obj["version"])))
	case len(obj) == 1:
		for k := range obj {
			if slices.Contains(govulnKeys, k) {
				return ScanGovulncheck, ""
			}
		}
	}
	return "", notAReport(describeObject(obj))
}

// isGovulnMessage reports whether raw is a govulncheck message: an object
// with one key, a known one.
func isGovulnMessage(raw json.RawMessage) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || len(obj) != 1 {
		return false
	}
	for k := range obj {
		return slices.Contains(govulnKeys, k)
	}
	return false
}

func isJSONArray(raw json.RawMessage) bool {
	b := bytes.TrimLeft(raw, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

func unknownFormat(source, seen string) *ParseError {
	return &ParseError{Source: source, Err: fmt.Errorf("%w: %s", ErrUnknownFormat, notAReport(seen))}
}

func notAReport(seen string) string {
	return seen + ": not a Trivy, Grype, govulncheck or SARIF report"
}

// describeJSON names the kind of a JSON value for an error message.
func describeJSON(raw json.RawMessage) string {
	b := bytes.TrimLeft(raw, " \t\r\n")
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		var obj map[string]json.RawMessage
		if json.Unmarshal(b, &obj) == nil {
			return describeObject(obj)
		}
		return "a JSON object"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	}
	return "a JSON number"
}

// describeObject lists the first keys of obj, sorted, for an error
// message.
func describeObject(obj map[string]json.RawMessage) string {
	if len(obj) == 0 {
		return "an empty JSON object"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	const most = 8
	more := ""
	if len(keys) > most {
		keys, more = keys[:most], ", …"
	}
	for i, k := range keys {
		keys[i] = printableKey(k)
	}
	word := "keys"
	if len(keys) == 1 {
		word = "key"
	}
	return fmt.Sprintf("a JSON object with %s %s%s", word, strings.Join(keys, ", "), more)
}

var plainKeyRE = regexp.MustCompile(`^[A-Za-z0-9_.$@:/-]{1,40}$`)

// printableKey shows a key as it is when it is plain, else quoted and
// clipped.
func printableKey(k string) string {
	if plainKeyRE.MatchString(k) {
		return k
	}
	return fmt.Sprintf("%q", clip(k))
}

// clip shortens s, which comes from untrusted input, for an error
// message.
func clip(s string) string {
	const most = 40
	if len(s) <= most {
		return s
	}
	return strings.ToValidUTF8(s[:most], "") + "…"
}

// parseReportTime reads an RFC 3339 time from a report, in UTC; "" is the
// zero time.
func parseReportTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: time %q is not RFC 3339", ErrMalformed, clip(s))
	}
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, fmt.Errorf("%w: time %q is out of range in UTC", ErrMalformed, clip(s))
	}
	return t, nil
}

// missing is the cause of a ParseError about a required value that is
// absent or empty.
func missing(what string) error {
	return fmt.Errorf("%w: %s is missing or empty", ErrMalformed, what)
}
