package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Predicate types of the evidence slipway attests (docs/format.md,
// "Evidence").
const (
	// PredicateCycloneDX is the predicate type of a CycloneDX SBOM
	// (cosign --type cyclonedx). Versioned forms such as
	// "https://cyclonedx.org/bom/v1.4" are read as the same type.
	PredicateCycloneDX = "https://cyclonedx.org/bom"
	// PredicateSPDX is the predicate type of an SPDX JSON SBOM (cosign
	// --type spdxjson); "https://spdx.dev/Document/v2.3" is read as the
	// same type.
	PredicateSPDX = "https://spdx.dev/Document"
	// PredicateVuln is cosign's vulnerability scan predicate v1 (cosign
	// --type vuln).
	PredicateVuln = "https://cosign.sigstore.dev/attestation/vuln/v1"
	// PredicateOpenVEX is the predicate type slipway writes for an OpenVEX
	// v0.2.0 document. "https://openvex.dev/ns" (cosign --type openvex)
	// and any other "https://openvex.dev/ns/v…" are read as the same type.
	PredicateOpenVEX = "https://openvex.dev/ns/v0.2.0"
)

// Media types of evidence stored as blobs next to a build.
const (
	MediaTypeCycloneDX = "application/vnd.cyclonedx+json"
	MediaTypeSPDX      = "application/spdx+json"
	MediaTypeOpenVEX   = "application/openvex+json"
	// MediaTypeVuln is a cosign vulnerability predicate stored as a blob.
	MediaTypeVuln = "application/vnd.slipway.vuln.v1+json"
)

// MaxEvidenceSize is the largest SBOM, scan report or VEX document read:
// 16 MiB. Larger input is refused with [ErrMalformed] before it is parsed.
const MaxEvidenceSize = 16 << 20

// PredicateKind returns the canonical predicate type that t is read as
// (one of the Predicate constants), or "" when t is not evidence slipway
// reads: versioned CycloneDX and SPDX types and every OpenVEX namespace
// map to the constant of their kind.
func PredicateKind(t string) string {
	switch {
	case t == PredicateCycloneDX || strings.HasPrefix(t, PredicateCycloneDX+"/v"):
		return PredicateCycloneDX
	case t == PredicateSPDX || strings.HasPrefix(t, PredicateSPDX+"/v"):
		return PredicateSPDX
	case t == PredicateVuln:
		return PredicateVuln
	case t == "https://openvex.dev/ns" || strings.HasPrefix(t, "https://openvex.dev/ns/v"):
		return PredicateOpenVEX
	}
	return ""
}

// NormalizeJSON returns data in the form a predicate takes inside a
// statement: compact, with '<', '>', '&', U+2028 and U+2029 escaped as
// encoding/json writes them. Normalized bytes pass through [NewStatement]
// and back through [ParseStatement] unchanged, so the digest of evidence
// stored as a blob equals the digest of the predicate that attests it.
// data must be one JSON value.
func NormalizeJSON(data []byte) ([]byte, error) {
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(compact.Len())
	json.HTMLEscape(&out, compact.Bytes())
	return out.Bytes(), nil
}

// PredicateDigest is the digest that names a predicate: the SHA-256 of
// its normalized bytes ([NormalizeJSON]), which are also the bytes of
// [Statement.Predicate] for statements made by [NewStatement].
func PredicateDigest(predicate []byte) (digest.Digest, error) {
	b, err := NormalizeJSON(predicate)
	if err != nil {
		return "", fmt.Errorf("%w: predicate: %w", ErrMalformed, err)
	}
	return digest.FromBytes(b), nil
}

// readEvidence reads r to its end, refusing more than MaxEvidenceSize
// bytes. source names the input in errors.
func ReadEvidence(r io.Reader, source string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxEvidenceSize+1))
	if err != nil {
		return nil, &ParseError{Source: source, Err: err}
	}
	if len(data) > MaxEvidenceSize {
		return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxEvidenceSize)}
	}
	return data, nil
}

// ParseError says where in which input a piece of evidence is wrong.
// Source names the input (a file name, or "predicate sha256:…"); Line and
// Column (1-based; zero when unknown) and Path (a JSON path such as
// "statements[2].status"; empty for the whole document) give the place.
type ParseError struct {
	Source string
	Line   int
	Column int
	Path   string
	Err    error // wraps ErrMalformed or ErrUnknownFormat
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	if e.Path != "" {
		fmt.Fprintf(&b, ": %s", e.Path)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// jsonError turns a decoding error of data into a ParseError that gives
// the line and column of the fault and, for a type error, its JSON path.
func jsonError(source string, data []byte, err error) *ParseError {
	pe := &ParseError{Source: source, Err: fmt.Errorf("%w: %w", ErrMalformed, err)}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte: point at it, or past the
		// end when the input ended too soon.
		off := syn.Offset
		if off > 0 && off <= int64(len(data)) && !strings.HasPrefix(syn.Error(), "unexpected end") {
			off--
		}
		pe.Line, pe.Column = lineColumn(data, off)
		pe.Err = fmt.Errorf("%w: invalid JSON: %s", ErrMalformed, syn.Error())
	case errors.As(err, &typ):
		pe.Line, pe.Column = lineColumn(data, typ.Offset)
		pe.Path = typ.Field
		pe.Err = fmt.Errorf("%w: %s is JSON %s, want %s", ErrMalformed, orValue(typ.Field), typ.Value, typ.Type)
	case errors.Is(err, io.ErrUnexpectedEOF):
		pe.Line, pe.Column = lineColumn(data, int64(len(data)))
		pe.Err = fmt.Errorf("%w: truncated JSON", ErrMalformed)
	}
	return pe
}

func orValue(field string) string {
	if field == "" {
		return "value"
	}
	return field
}

// fieldError is a ParseError about the value at path, with its line and
// column when path can be found in data.
func fieldError(source string, data []byte, path string, err error) *ParseError {
	pe := &ParseError{Source: source, Path: path, Err: err}
	if off, ok := locate(data, path); ok {
		pe.Line, pe.Column = lineColumn(data, off)
	}
	return pe
}

// lineColumn converts a byte offset in data to a 1-based line and column.
func lineColumn(data []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// locate returns the offset of the value at path ("a.b[2].c") in the JSON
// document data, walking its tokens once.
func locate(data []byte, path string) (int64, bool) {
	want := splitPath(path)
	if want == nil {
		return 0, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []frame
	// at reports whether the value about to be read is at want: compared
	// only at want's depth and without allocating, so the walk stays
	// linear in the document's size times the depth of want.
	at := func() bool {
		if len(stack) != len(want) {
			return false
		}
		for i, f := range stack {
			if f.array {
				if want[i] != "["+strconv.Itoa(f.index)+"]" {
					return false
				}
			} else if want[i] != f.key {
				return false
			}
		}
		return true
	}
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return 0, false
		}
		// A value starts here unless it is a key or a closing delimiter.
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			advance(stack)
			continue
		}
		if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].isKey {
			stack[n-1].key, _ = tok.(string)
			stack[n-1].isKey = false
			continue
		}
		if at() {
			return valueStart(data, off), true
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{array: d == '[', isKey: d == '{'})
			continue
		}
		advance(stack)
	}
}

// frame is one open object or array while locate walks a document.
type frame struct {
	array bool
	index int
	key   string
	isKey bool // an object frame expecting a key next
}

// advance moves the innermost frame past one value.
func advance(stack []frame) {
	if n := len(stack); n > 0 {
		if f := &stack[n-1]; f.array {
			f.index++
		} else {
			f.isKey = true
		}
	}
}

// valueStart skips the separators and blanks the decoder leaves before a
// value.
func valueStart(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

func splitPath(path string) []string {
	if path == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			switch {
			case i < 0:
				out = append(out, part)
				part = ""
			case i > 0:
				out = append(out, part[:i])
				part = part[i:]
			default:
				j := strings.IndexByte(part, ']')
				if j < 0 {
					return nil
				}
				out = append(out, part[:j+1])
				part = part[j+1:]
			}
		}
	}
	return out
}
