package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// govulnMessage is one message of govulncheck -json output
// (golang.org/x/vuln internal/govulncheck/govulncheck.go, an internal
// package, hence these structs). progress messages are not read.
type govulnMessage struct {
	Config *struct {
		ScannerName    string `json:"scanner_name"`
		ScannerVersion string `json:"scanner_version"`
		GoVersion      string `json:"go_version"`
		ScanLevel      string `json:"scan_level"`
	} `json:"config"`
	SBOM *struct {
		GoVersion string `json:"go_version"`
	} `json:"SBOM"`
	OSV *struct {
		ID      string   `json:"id"`
		Aliases []string `json:"aliases"`
	} `json:"osv"`
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

// streamValue is one message of a stream: its bytes and where they start
// in the input.
type streamValue struct {
	off int64
	raw json.RawMessage
}

// govulnStreamValues splits data, a stream of JSON values or one JSON
// array, into its values.
func govulnStreamValues(data []byte, source string) ([]streamValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	array := len(trimmed) > 0 && trimmed[0] == '['
	if array {
		if _, err := dec.Token(); err != nil {
			return nil, jsonError(source, data, err)
		}
	}
	var out []streamValue
	for !array || dec.More() {
		off := valueStart(data, dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if !array && errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, jsonError(source, data, err)
		}
		out = append(out, streamValue{off: off, raw: raw})
	}
	if array {
		if _, err := dec.Token(); err != nil { // the closing bracket
			return nil, jsonError(source, data, err)
		}
		if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
			return nil, jsonError(source, data, err) // trailing data
		}
	}
	return out, nil
}

// govulnLevels ranks govulncheck's scan levels.
var govulnLevels = map[string]int{"module": 1, "package": 2, "symbol": 3}

// parseGovulncheck reads govulncheck -json output: a stream of messages,
// or the same messages in an array. Message i is addressed as "[i]" in
// errors, as if the stream were an array. A finding counts when its
// trace[0] reaches the scan level of the config (symbol when absent); its
// package is pkg:golang/<module>@<version> of trace[0], the standard
// library pkg:golang/stdlib@v<go version>; its aliases come from the osv
// message of the same ID; its severity is unknown, as the Go
// vulnerability database has none.
func parseGovulncheck(data []byte, source string) (*Scan, error) {
	values, err := govulnStreamValues(data, source)
	if err != nil {
		return nil, err
	}
	type finding struct {
		index int
		msg   *govulnMessage
	}
	var (
		scanner    = Scanner{Name: "govulncheck"}
		configSeen bool
		scanLevel  = "symbol"
		goVersion  string
		sbomGo     string
		aliases    = make(map[string][]string)
		findings   []finding
	)
	for i, v := range values {
		fail := func(path string, err error) error {
			return valueError(source, data, v, i, path, err)
		}
		if v.raw[0] != '{' {
			return nil, fail("", fmt.Errorf("%w: a govulncheck message must be a JSON object", ErrMalformed))
		}
		var m govulnMessage
		if err := json.Unmarshal(v.raw, &m); err != nil {
			return nil, valueJSONError(source, data, v, i, err)
		}
		if c := m.Config; c != nil && !configSeen { // the first config counts
			configSeen = true
			if c.ScannerName != "" {
				scanner.Name = c.ScannerName
			}
			scanner.Version = c.ScannerVersion
			goVersion = c.GoVersion
			if c.ScanLevel != "" {
				if govulnLevels[c.ScanLevel] == 0 {
					return nil, fail("config.scan_level", fmt.Errorf("%w: scan level %q: want module, package or symbol", ErrMalformed, clip(c.ScanLevel)))
				}
				scanLevel = c.ScanLevel
			}
		}
		if m.SBOM != nil && sbomGo == "" {
			sbomGo = m.SBOM.GoVersion
		}
		if o := m.OSV; o != nil {
			if o.ID == "" {
				return nil, fail("osv.id", missing("OSV ID"))
			}
			aliases[o.ID] = append(aliases[o.ID], o.Aliases...)
		}
		if f := m.Finding; f != nil {
			if f.OSV == "" {
				return nil, fail("finding.osv", missing("OSV ID"))
			}
			if len(f.Trace) == 0 || f.Trace[0].Module == "" {
				return nil, fail("finding.trace", missing("module of the first frame"))
			}
			findings = append(findings, finding{index: i, msg: &m})
		}
	}
	if goVersion == "" {
		goVersion = sbomGo
	}
	var set findingSet
	for _, f := range findings {
		fm := f.msg.Finding
		frame := fm.Trace[0]
		level := "module"
		switch {
		case frame.Function != "":
			level = "symbol"
		case frame.Package != "":
			level = "package"
		}
		if govulnLevels[level] < govulnLevels[scanLevel] {
			continue
		}
		version := frame.Version
		if frame.Module == "stdlib" || frame.Module == "toolchain" {
			if version == "" {
				version = goVersion
			}
			if strings.HasPrefix(version, "go") {
				version = "v" + strings.TrimPrefix(version, "go")
			}
		}
		set.add(fm.OSV, aliases[fm.OSV], Finding{
			Package:   golangPURL(frame.Module, version),
			Installed: version,
			Fixed:     fm.FixedVersion,
			Severity:  SeverityUnknown,
		})
	}
	if scanner.Name == "govulncheck" {
		scanner.URI = golangPURL("golang.org/x/vuln", scanner.Version)
	}
	return &Scan{Format: ScanGovulncheck, Scanner: scanner, Findings: set.findings()}, nil
}

// valueError is a ParseError about path inside stream value i, with the
// line and column of that path in data.
func valueError(source string, data []byte, v streamValue, i int, path string, err error) *ParseError {
	pe := &ParseError{Source: source, Path: fmt.Sprintf("[%d]", i), Err: err}
	off := v.off
	if path != "" {
		pe.Path += "." + path
		if o, ok := locate(v.raw, path); ok {
			off += o
		}
	}
	pe.Line, pe.Column = lineColumn(data, off)
	return pe
}

// valueJSONError is jsonError for an error decoding stream value i: its
// offset and path are made relative to the whole input.
func valueJSONError(source string, data []byte, v streamValue, i int, err error) *ParseError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		s := *syn
		s.Offset += v.off
		err = &s
	case errors.As(err, &typ):
		t := *typ
		t.Offset += v.off
		if typ.Field == "" {
			t.Field = fmt.Sprintf("[%d]", i)
		} else {
			t.Field = fmt.Sprintf("[%d].%s", i, typ.Field)
		}
		err = &t
	}
	return jsonError(source, data, err)
}
