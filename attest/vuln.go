package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// VulnPredicate is cosign's vulnerability scan predicate, of type
// [PredicateVuln], with the JSON names cosign's own structs use
// (sigstore/cosign pkg/cosign/attestation/attestation.go,
// CosignVulnPredicate). The scan report itself is kept verbatim in
// Scanner.Result.
type VulnPredicate struct {
	Invocation VulnInvocation `json:"invocation"`
	Scanner    VulnScanner    `json:"scanner"`
	Metadata   VulnMetadata   `json:"metadata"`
}

// VulnInvocation says how the scan was run. cosign declares Parameters as
// any JSON value; cosign's specification shows an array of the scanner's
// arguments, which is what [NewVulnPredicate] writes (empty). Nil
// Parameters marshal as null, which cosign also reads.
type VulnInvocation struct {
	Parameters json.RawMessage `json:"parameters"`
	URI        string          `json:"uri"`
	EventID    string          `json:"event_id"`
	BuilderID  string          `json:"builder.id"`
}

// VulnScanner names the scanner and its database and holds its report:
// Result is the report's JSON as the scanner wrote it (a govulncheck
// stream as a JSON array of its messages).
type VulnScanner struct {
	URI     string          `json:"uri"`
	Version string          `json:"version"`
	DB      VulnDB          `json:"db"`
	Result  json.RawMessage `json:"result"`
}

// VulnDB names the vulnerability database a scan used.
type VulnDB struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
}

// VulnMetadata holds when the scan started and finished, as RFC 3339
// times. cosign reads them into time.Time, so a predicate cosign accepts
// has both set; [NewVulnPredicate] writes them in UTC, to the second.
type VulnMetadata struct {
	ScanStartedOn  string `json:"scanStartedOn"`
	ScanFinishedOn string `json:"scanFinishedOn"`
}

// NewVulnPredicate returns the cosign vulnerability predicate that
// attests report, the raw bytes of a scan report that [ParseScan] read
// as scan. The report is kept verbatim (a govulncheck stream becomes a
// JSON array of its messages), the scanner's version and URI are those of
// scan.Scanner, the invocation is empty and the database unnamed. finished
// is when the scan finished; if zero, scan.Time is used. started is when
// it started; if zero, finished is used. Times are written in UTC, to the
// second.
//
// The predicate is returned in normalized form ([NormalizeJSON]), so that
// [NewStatement] keeps it byte for byte and its [PredicateDigest] is the
// SHA-256 of the bytes returned; equal arguments give equal bytes.
// NewVulnPredicate fails with an error wrapping [ErrInvalidOptions] when
// scan is nil, when neither finished nor scan.Time is set, when started
// is after finished, or when report is not a report of scan's format (then
// also wrapping the [*ParseError] of report).
func NewVulnPredicate(report []byte, scan *Scan, started, finished time.Time) ([]byte, error) {
	if scan == nil {
		return nil, fmt.Errorf("attest: vuln predicate: %w: nil scan", ErrInvalidOptions)
	}
	if finished.IsZero() {
		finished = scan.Time
	}
	if finished.IsZero() {
		return nil, fmt.Errorf("attest: vuln predicate: %w: no finish time: the scan has none and none was given", ErrInvalidOptions)
	}
	if started.IsZero() {
		started = finished
	}
	started, finished = started.UTC().Truncate(time.Second), finished.UTC().Truncate(time.Second)
	if started.After(finished) {
		return nil, fmt.Errorf("attest: vuln predicate: %w: started %s is after finished %s", ErrInvalidOptions,
			started.Format(time.RFC3339), finished.Format(time.RFC3339))
	}
	for _, t := range []time.Time{started, finished} {
		if y := t.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("attest: vuln predicate: %w: time %s is out of RFC 3339's range", ErrInvalidOptions, t.Format(time.RFC3339))
		}
	}
	got, err := ParseScan(report, "report")
	if err != nil {
		return nil, fmt.Errorf("attest: vuln predicate: %w: %w", ErrInvalidOptions, err)
	}
	if got.Format != scan.Format {
		return nil, fmt.Errorf("attest: vuln predicate: %w: report is a %s report, the scan a %s scan", ErrInvalidOptions, got.Format, scan.Format)
	}
	result := json.RawMessage(report)
	if got.Format == ScanGovulncheck {
		if result, err = govulnArray(report); err != nil {
			return nil, fmt.Errorf("attest: vuln predicate: %w: %w", ErrInvalidOptions, err)
		}
	}
	b, err := json.Marshal(VulnPredicate{
		Invocation: VulnInvocation{Parameters: json.RawMessage("[]")},
		Scanner: VulnScanner{
			URI:     scan.Scanner.URI,
			Version: scan.Scanner.Version,
			Result:  result,
		},
		Metadata: VulnMetadata{
			ScanStartedOn:  started.Format(time.RFC3339),
			ScanFinishedOn: finished.Format(time.RFC3339),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("attest: vuln predicate: %w", err)
	}
	return NormalizeJSON(b)
}

// govulnArray returns govulncheck output as one JSON array of its
// messages; an array is returned as it is.
func govulnArray(report []byte) (json.RawMessage, error) {
	if b := bytes.TrimLeft(report, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		return report, nil
	}
	values, err := govulnStreamValues(report, "report")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(v.raw)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// vulnWire is a vuln predicate as read: the code's scanner object, or
// the specification's scanners array.
type vulnWire struct {
	Invocation VulnInvocation `json:"invocation"`
	Scanner    *VulnScanner   `json:"scanner"`
	Scanners   []VulnScanner  `json:"scanners"`
	Metadata   VulnMetadata   `json:"metadata"`
}

// ParseVulnPredicate reads a cosign vulnerability predicate and the scan
// report inside it. The scanner is read from "scanner", as cosign writes
// it, else from "scanners[0]", as cosign's specification shows it. The
// report (scanner.result) is parsed with [ParseScan], its errors naming
// the input "<source>: scanner.result". The returned Scan's Time is
// scanFinishedOn when set, else the report's own time; its scanner
// version and URI are the predicate's when set, else the report's.
//
// Errors are [*ParseError]s wrapping [ErrMalformed] (not a JSON object,
// a wrong type, no scanner or result, a time that is not RFC 3339, larger
// than [MaxStatementSize]) or [ErrUnknownFormat] (a result that is not a
// report ParseScan reads). Nothing is verified: the caller checks the
// signature of the statement the predicate came in.
func ParseVulnPredicate(predicate []byte, source string) (*Scan, *VulnPredicate, error) {
	if len(predicate) > MaxStatementSize {
		return nil, nil, &ParseError{Source: source, Err: fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxStatementSize)}
	}
	if b := bytes.TrimLeft(predicate, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		if err := json.Unmarshal(predicate, new(json.RawMessage)); err != nil {
			return nil, nil, jsonError(source, predicate, err)
		}
		return nil, nil, &ParseError{Source: source, Err: fmt.Errorf("%w: the predicate is %s, want a JSON object", ErrMalformed, describeJSON(predicate))}
	}
	var w vulnWire
	if err := json.Unmarshal(predicate, &w); err != nil {
		return nil, nil, jsonError(source, predicate, err)
	}
	var sc VulnScanner
	path := "scanner"
	switch {
	case w.Scanner != nil:
		sc = *w.Scanner
	case len(w.Scanners) > 0:
		sc, path = w.Scanners[0], "scanners[0]"
	default:
		return nil, nil, fieldError(source, predicate, "scanner", missing("scanner"))
	}
	if r := bytes.TrimSpace(sc.Result); len(r) == 0 || string(r) == "null" {
		return nil, nil, fieldError(source, predicate, path+".result", missing("scan report"))
	}
	scan, err := ParseScan(sc.Result, source+": "+path+".result")
	if err != nil {
		return nil, nil, err
	}
	if _, err := parseReportTime(w.Metadata.ScanStartedOn); err != nil {
		return nil, nil, fieldError(source, predicate, "metadata.scanStartedOn", err)
	}
	finished, err := parseReportTime(w.Metadata.ScanFinishedOn)
	if err != nil {
		return nil, nil, fieldError(source, predicate, "metadata.scanFinishedOn", err)
	}
	if !finished.IsZero() {
		scan.Time = finished
	}
	if sc.Version != "" {
		scan.Scanner.Version = sc.Version
	}
	if sc.URI != "" {
		scan.Scanner.URI = sc.URI
	}
	return scan, &VulnPredicate{Invocation: w.Invocation, Scanner: sc, Metadata: w.Metadata}, nil
}
