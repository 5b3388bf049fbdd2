package attest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"
)

// SBOM is what slipway reads of a software bill of materials: its format
// and the packages it lists. [ParseSBOM] and [ReadSBOM] make it.
type SBOM struct {
	// PredicateType is PredicateCycloneDX or PredicateSPDX: the predicate
	// type of an attestation carrying the document.
	PredicateType string
	// MediaType is MediaTypeCycloneDX or MediaTypeSPDX: the media type of
	// the document stored as a blob.
	MediaType string
	// SpecVersion is the document's own version string: "1.6" (CycloneDX
	// specVersion) or "SPDX-2.3" (SPDX spdxVersion).
	SpecVersion string
	// Components counts what the document lists: CycloneDX components,
	// nested ones included and metadata.component excluded, or SPDX
	// packages. It equals len(Packages).
	Components int
	// Packages has one entry per counted component or package, sorted by
	// PURL, then Name, then Version; nil when there are none.
	Packages []Package
}

// Package is one component of a CycloneDX document or one package of an
// SPDX document.
type Package struct {
	Name    string // CycloneDX name, SPDX name
	Version string // CycloneDX version, SPDX versionInfo; may be empty
	// PURL is the package URL: CycloneDX purl, or the locator of the
	// first SPDX external reference of type "purl"; may be empty.
	PURL string
}

// ReadSBOM reads an SBOM from r, at most [MaxEvidenceSize] bytes, and
// parses it with [ParseSBOM]. source names the input in errors.
func ReadSBOM(r io.Reader, source string) (*SBOM, error) {
	data, err := ReadEvidence(r, source)
	if err != nil {
		return nil, err
	}
	return ParseSBOM(data, source)
}

// ParseSBOM parses a CycloneDX or SPDX JSON document. It tells them apart
// by their top-level fields: "bomFormat": "CycloneDX", or "spdxVersion".
// source names the input in errors.
//
// Accepted versions are CycloneDX 1.4, 1.5, 1.6 and 1.7 (the newest that
// cyclonedx-go v0.12.0 reads; it lists components as 1.6 does), and
// SPDX-2.2 and SPDX-2.3. ParseSBOM checks the fields it reads and
// those the formats require, not the whole schema: for CycloneDX,
// specVersion, the version (required by 1.4 and 1.5; an integer of at
// least 1 when present), the serialNumber's pattern when present, and
// each component's type (a type of the CycloneDX 1.4 to 1.7 lists) and
// name, nested components and metadata.component included; for SPDX, the
// document's SPDXID, creationInfo (created, an RFC 3339 time, and at
// least one creator), dataLicense, name and documentNamespace, and each
// package's SPDXID, name and downloadLocation. Required strings must not
// be empty, and SPDXIDs must match ^SPDXRef-[a-zA-Z0-9.-]+$.
//
// Every error is a [*ParseError] with the JSON path of the fault and its
// line and column (for a missing field, those of the object that lacks
// it), unless finding them would take too long: in a document of many
// deeply nested values, an error names the path only. It wraps
// [ErrUnknownFormat] for a document of neither format or an unsupported
// version, and [ErrMalformed] for invalid JSON, input over
// [MaxEvidenceSize], wrong types and missing or invalid fields.
func ParseSBOM(data []byte, source string) (*SBOM, error) {
	if len(data) > MaxEvidenceSize {
		return nil, &ParseError{Source: source, Err: fmt.Errorf("%w: larger than %d bytes", ErrMalformed, MaxEvidenceSize)}
	}
	// Only the fields that tell the formats apart; the full decode follows.
	var top struct {
		BOMFormat   json.RawMessage `json:"bomFormat"`
		SpecVersion json.RawMessage `json:"specVersion"`
		SPDXVersion json.RawMessage `json:"spdxVersion"`
	}
	if err := json.Unmarshal(data, &top); err != nil {
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field == "" {
			pe := &ParseError{Source: source, Err: fmt.Errorf("%w: JSON %s, not an SBOM document", ErrUnknownFormat, typ.Value)}
			pe.Line, pe.Column = lineColumn(data, valueStart(data, 0))
			return nil, pe
		}
		return nil, jsonError(source, data, err)
	}
	p := &sbomParser{source: source, data: data}
	var format string
	_ = json.Unmarshal(top.BOMFormat, &format) // absent or not a string: format stays empty
	switch {
	case format == "CycloneDX":
		return p.cycloneDX(top.SpecVersion)
	case top.SPDXVersion != nil:
		return p.spdx(top.SPDXVersion)
	case top.BOMFormat != nil:
		return nil, p.fieldError("bomFormat", fmt.Errorf("%w: bomFormat %s, want \"CycloneDX\"", ErrUnknownFormat, short(top.BOMFormat)))
	}
	return nil, p.fieldError("", fmt.Errorf("%w: neither CycloneDX (bomFormat) nor SPDX (spdxVersion)", ErrUnknownFormat))
}

// sbomParser holds the input while ParseSBOM checks it.
type sbomParser struct {
	source string
	data   []byte
	pkgs   []Package
	cost   int // 1 + locateCost, once known; 0 before
}

// fieldError is a ParseError about the value at path; for the whole
// document (path ""), it points at the document's start.
func (p *sbomParser) fieldError(path string, err error) *ParseError {
	switch {
	case path == "":
		pe := &ParseError{Source: p.source, Err: err}
		pe.Line, pe.Column = lineColumn(p.data, valueStart(p.data, 0))
		return pe
	case !p.locatable():
		return &ParseError{Source: p.source, Path: path, Err: err}
	}
	return fieldError(p.source, p.data, path, err)
}

// present reports whether the document has a value at path; false when
// the document is too costly to search.
func (p *sbomParser) present(path string) bool {
	if !p.locatable() {
		return false
	}
	_, ok := locate(p.data, path)
	return ok
}

// missing is the error for a required field absent from the object at
// parent (a JSON path; "" for the document), or there but null or empty:
// it names the field's path and gives the position of the object, or of
// the empty value.
func (p *sbomParser) missing(parent, field string) *ParseError {
	path := field
	if parent != "" {
		path = parent + "." + field
	}
	switch {
	case !p.locatable():
		return &ParseError{Source: p.source, Path: path, Err: fmt.Errorf("%w: %s missing or empty", ErrMalformed, field)}
	case p.present(path):
		return p.fieldError(path, fmt.Errorf("%w: %s is null or empty", ErrMalformed, field))
	}
	pe := p.fieldError(parent, fmt.Errorf("%w: %s missing", ErrMalformed, field))
	pe.Path = path
	return pe
}

// locateBudget bounds the work of finding where a fault is: locate walks
// the document's tokens and spells out each one's path, so its cost grows
// with tokens times nesting depth. Past the budget (a few seconds of
// work), an error keeps its path but has no line and column.
const locateBudget = 16 << 20

// locatable reports whether data can be searched for a fault's position
// within locateBudget. It estimates the cost once, in one pass: every
// token costs its nesting depth.
func (p *sbomParser) locatable() bool {
	if p.cost == 0 {
		p.cost = 1 + locateCost(p.data, locateBudget)
	}
	return p.cost <= locateBudget
}

// locateCost estimates what locate costs on data, counting up to just
// past limit.
func locateCost(data []byte, limit int) int {
	cost, depth := 0, 0
	inString, escaped := false, false
	for _, c := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
			cost += depth
		case c == '{' || c == '[':
			depth++
			cost += depth
		case c == '}' || c == ']':
			depth--
		case c == ',':
			cost += depth
		}
		if cost > limit {
			break
		}
	}
	return cost
}

// required checks that the string at parent.field is set and not empty.
func (p *sbomParser) required(s *string, parent, field string) error {
	if s == nil || *s == "" {
		return p.missing(parent, field)
	}
	return nil
}

// result sorts the packages found and returns the SBOM.
func (p *sbomParser) result(predicateType, mediaType, version string) *SBOM {
	slices.SortFunc(p.pkgs, func(a, b Package) int {
		return cmp.Or(strings.Compare(a.PURL, b.PURL), strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version))
	})
	return &SBOM{
		PredicateType: predicateType,
		MediaType:     mediaType,
		SpecVersion:   version,
		Components:    len(p.pkgs),
		Packages:      p.pkgs,
	}
}

// specVersion reads the version string raw of the top-level field key,
// which must be one of accepted; format names the format in errors.
func (p *sbomParser) specVersion(raw json.RawMessage, key, format string, accepted ...string) (string, error) {
	if raw == nil {
		return "", p.missing("", key)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", p.fieldError(key, fmt.Errorf("%w: %s is not a string", ErrMalformed, key))
	}
	if !slices.Contains(accepted, v) {
		return "", p.fieldError(key, fmt.Errorf("%w: unsupported %s spec version %q", ErrUnknownFormat, format, shortString(v)))
	}
	return v, nil
}

// cycloneDXTypes are the component types of CycloneDX 1.4 to 1.7.
var cycloneDXTypes = map[string]bool{
	"application": true, "framework": true, "library": true, "container": true, "platform": true,
	"operating-system": true, "device": true, "device-driver": true, "firmware": true, "file": true,
	"machine-learning-model": true, "data": true, "cryptographic-asset": true,
}

// serialPattern is the CycloneDX serialNumber pattern.
var serialPattern = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// cdxDoc is what ParseSBOM reads of a CycloneDX document.
type cdxDoc struct {
	SerialNumber *string `json:"serialNumber"`
	Version      *int    `json:"version"`
	Metadata     *struct {
		Component *cdxComponent `json:"component"`
	} `json:"metadata"`
	Components []cdxComponent `json:"components"`
}

type cdxComponent struct {
	Type       *string        `json:"type"`
	Name       *string        `json:"name"`
	Version    string         `json:"version"`
	PURL       string         `json:"purl"`
	Components []cdxComponent `json:"components"`
}

func (p *sbomParser) cycloneDX(specVersion json.RawMessage) (*SBOM, error) {
	version, err := p.specVersion(specVersion, "specVersion", "CycloneDX", "1.4", "1.5", "1.6", "1.7")
	if err != nil {
		return nil, err
	}
	var doc cdxDoc
	if err := json.Unmarshal(p.data, &doc); err != nil {
		return nil, jsonError(p.source, p.data, err)
	}
	switch {
	case doc.Version == nil && (version == "1.4" || version == "1.5"):
		return nil, p.missing("", "version")
	case doc.Version != nil && *doc.Version < 1:
		return nil, p.fieldError("version", fmt.Errorf("%w: version %d, want at least 1", ErrMalformed, *doc.Version))
	case doc.SerialNumber != nil && !serialPattern.MatchString(*doc.SerialNumber):
		return nil, p.fieldError("serialNumber", fmt.Errorf("%w: serialNumber %q is not a lowercase urn:uuid", ErrMalformed, shortString(*doc.SerialNumber)))
	}
	if doc.Metadata != nil && doc.Metadata.Component != nil {
		if err := p.component(doc.Metadata.Component, cdxPath{root: "metadata.component"}, false); err != nil {
			return nil, err
		}
	}
	for i := range doc.Components {
		if err := p.component(&doc.Components[i], cdxPath{root: "components", index: []int{i}}, true); err != nil {
			return nil, err
		}
	}
	return p.result(PredicateCycloneDX, MediaTypeCycloneDX, version), nil
}

// cdxPath is the JSON path of a component, spelled out only for an error:
// building it for every component would cost time quadratic in the
// nesting depth.
type cdxPath struct {
	root  string // "components" or "metadata.component"
	index []int  // for "components", the top-level index first; then one per nested level
}

func (cp cdxPath) String() string {
	var b strings.Builder
	b.WriteString(cp.root)
	for k, i := range cp.index {
		if k > 0 || cp.root != "components" {
			b.WriteString(".components")
		}
		fmt.Fprintf(&b, "[%d]", i)
	}
	return b.String()
}

// component checks the component c at path at and those nested in it,
// recording each as a package when count is set.
func (p *sbomParser) component(c *cdxComponent, at cdxPath, count bool) error {
	if c.Type == nil || *c.Type == "" {
		return p.missing(at.String(), "type")
	}
	if !cycloneDXTypes[*c.Type] {
		return p.fieldError(at.String()+".type", fmt.Errorf("%w: unknown component type %q", ErrMalformed, shortString(*c.Type)))
	}
	if c.Name == nil || *c.Name == "" {
		return p.missing(at.String(), "name")
	}
	if count {
		p.pkgs = append(p.pkgs, Package{Name: *c.Name, Version: c.Version, PURL: c.PURL})
	}
	for i := range c.Components {
		// Children share the parent's backing array: each path is used
		// only while its component is being checked.
		child := cdxPath{root: at.root, index: append(at.index, i)}
		if err := p.component(&c.Components[i], child, count); err != nil {
			return err
		}
	}
	return nil
}

// spdxID is the pattern of SPDX identifiers.
var spdxID = regexp.MustCompile(`^SPDXRef-[a-zA-Z0-9.-]+$`)

// spdxDoc is what ParseSBOM reads of an SPDX document.
type spdxDoc struct {
	SPDXID            *string `json:"SPDXID"`
	DataLicense       *string `json:"dataLicense"`
	Name              *string `json:"name"`
	DocumentNamespace *string `json:"documentNamespace"`
	CreationInfo      *struct {
		Created  *string  `json:"created"`
		Creators []string `json:"creators"`
	} `json:"creationInfo"`
	Packages []spdxPackage `json:"packages"`
}

type spdxPackage struct {
	SPDXID           *string `json:"SPDXID"`
	Name             *string `json:"name"`
	VersionInfo      string  `json:"versionInfo"`
	DownloadLocation *string `json:"downloadLocation"`
	ExternalRefs     []struct {
		ReferenceType    string `json:"referenceType"`
		ReferenceLocator string `json:"referenceLocator"`
	} `json:"externalRefs"`
}

func (p *sbomParser) spdx(spdxVersion json.RawMessage) (*SBOM, error) {
	version, err := p.specVersion(spdxVersion, "spdxVersion", "SPDX", "SPDX-2.2", "SPDX-2.3")
	if err != nil {
		return nil, err
	}
	var doc spdxDoc
	if err := json.Unmarshal(p.data, &doc); err != nil {
		return nil, jsonError(p.source, p.data, err)
	}
	if err := p.spdxIdentifier(doc.SPDXID, ""); err != nil {
		return nil, err
	}
	ci := doc.CreationInfo
	if ci == nil {
		return nil, p.missing("", "creationInfo")
	}
	if err := p.required(ci.Created, "creationInfo", "created"); err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.RFC3339, *ci.Created); err != nil {
		return nil, p.fieldError("creationInfo.created", fmt.Errorf("%w: created %q is not an RFC 3339 time", ErrMalformed, shortString(*ci.Created)))
	}
	if len(ci.Creators) == 0 {
		if p.present("creationInfo.creators") {
			return nil, p.fieldError("creationInfo.creators", fmt.Errorf("%w: no creators", ErrMalformed))
		}
		return nil, p.missing("creationInfo", "creators")
	}
	for _, f := range []struct {
		s    *string
		name string
	}{{doc.DataLicense, "dataLicense"}, {doc.Name, "name"}, {doc.DocumentNamespace, "documentNamespace"}} {
		if err := p.required(f.s, "", f.name); err != nil {
			return nil, err
		}
	}
	for i, pkg := range doc.Packages {
		at := fmt.Sprintf("packages[%d]", i)
		if err := p.spdxIdentifier(pkg.SPDXID, at); err != nil {
			return nil, err
		}
		if err := p.required(pkg.Name, at, "name"); err != nil {
			return nil, err
		}
		if err := p.required(pkg.DownloadLocation, at, "downloadLocation"); err != nil {
			return nil, err
		}
		out := Package{Name: *pkg.Name, Version: pkg.VersionInfo}
		for _, ref := range pkg.ExternalRefs {
			if ref.ReferenceType == "purl" {
				out.PURL = ref.ReferenceLocator
				break
			}
		}
		p.pkgs = append(p.pkgs, out)
	}
	return p.result(PredicateSPDX, MediaTypeSPDX, version), nil
}

// spdxIdentifier checks the SPDXID of the object at parent.
func (p *sbomParser) spdxIdentifier(id *string, parent string) error {
	if err := p.required(id, parent, "SPDXID"); err != nil {
		return err
	}
	if !spdxID.MatchString(*id) {
		path := "SPDXID"
		if parent != "" {
			path = parent + ".SPDXID"
		}
		return p.fieldError(path, fmt.Errorf("%w: SPDXID %q does not match SPDXRef-[a-zA-Z0-9.-]+", ErrMalformed, shortString(*id)))
	}
	return nil
}

// shortString cuts s for an error message.
func shortString(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}

// short renders a raw JSON value for an error message: a string quoted
// and cut, anything else by its kind.
func short(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return fmt.Sprintf("%q", shortString(s))
	}
	return "is not a string"
}
