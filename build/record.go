package build

import (
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/canonjson"
)

// Media types of format v1 (docs/format.md).
const (
	// MediaType is the artifactType of a build manifest and the media type
	// of its config blob, the build record.
	MediaType = "application/vnd.slipway.build.v1+json"
	// FileMediaType is the media type of a layer holding one file's bytes.
	FileMediaType = "application/vnd.slipway.file.v1"
	// TarMediaType is the media type of a layer holding a packed directory.
	TarMediaType = ocispec.MediaTypeImageLayerGzip

	// AnnotationTarDigest and AnnotationUnpack mark a packed directory
	// layer the way oras does, so that oras pull unpacks it.
	AnnotationTarDigest = "io.deis.oras.content.digest"
	AnnotationUnpack    = "io.deis.oras.content.unpack"
)

// Limits on what a build record may hold.
const (
	maxNameLen     = 63
	maxPathLen     = 4096
	maxRecordBytes = 32 << 20 // a record of some 100,000 files fits
	maxManifest    = 4 << 20  // the limit most registries apply
)

var (
	appNameRE     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	processNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	modeRE        = regexp.MustCompile(`^0[0-7]{3}$`)
)

// record is the build record: the config blob of a build manifest. Its
// canonical JSON encoding is what is stored and hashed.
type record struct {
	App        string           `json:"app"`
	Created    string           `json:"created"`
	Source     *sourceRecord    `json:"source,omitempty"`
	Builder    string           `json:"builder,omitempty"`
	Invocation string           `json:"invocation,omitempty"`
	Module     string           `json:"module,omitempty"`
	Toolchain  string           `json:"toolchain,omitempty"`
	Processes  []processRecord  `json:"processes,omitempty"`
	Files      []entryRecord    `json:"files,omitempty"`
	Binaries   []binaryRecord   `json:"binaries,omitempty"`
	Image      *imageRecord     `json:"image,omitempty"`
	Evidence   []evidenceRecord `json:"evidence,omitempty"`
	Summary    *attest.Summary  `json:"summary,omitempty"`
}

// evidenceRecord is one stored predicate; see [Evidence].
type evidenceRecord struct {
	PredicateType string `json:"predicateType"`
	MediaType     string `json:"mediaType"`
	Digest        string `json:"digest"`
	Size          int64  `json:"size"`
	Source        string `json:"source,omitempty"`
}

type dependencyRecord struct {
	Path    string `json:"path"`
	Version string `json:"version,omitempty"`
	Sum     string `json:"sum,omitempty"`
}

type sourceRecord struct {
	Repository string `json:"repository,omitempty"`
	Revision   string `json:"revision,omitempty"`
	Dirty      bool   `json:"dirty,omitempty"`
}

type processRecord struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Admin   bool   `json:"admin,omitempty"`
}

type entryRecord struct {
	Path      string    `json:"path"`
	Type      EntryType `json:"type"`
	Mode      string    `json:"mode,omitempty"`
	Size      int64     `json:"size,omitempty"`
	Digest    string    `json:"digest,omitempty"`
	Target    string    `json:"target,omitempty"`
	TarDigest string    `json:"tarDigest,omitempty"`
}

type binaryRecord struct {
	Path      string             `json:"path"`
	Module    string             `json:"module,omitempty"`
	Version   string             `json:"version,omitempty"`
	GoVersion string             `json:"goVersion,omitempty"`
	Revision  string             `json:"revision,omitempty"`
	Dirty     bool               `json:"dirty,omitempty"`
	Deps      []dependencyRecord `json:"deps,omitempty"`
}

type imageRecord struct {
	MediaType string `json:"mediaType"`
	Digest    string `json:"digest"`
	Size      int64  `json:"size"`
}

func (r *record) encode() ([]byte, error) { return canonjson.Marshal(r) }

// decodeRecord parses and validates a stored record.
func decodeRecord(data []byte) (*record, error) {
	var r record
	if err := canonjson.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidRecord, err)
	}
	return &r, nil
}

// validate checks the rules New enforces; Load applies the same ones.
func (r *record) validate() error {
	if err := checkAppName(r.App); err != nil {
		return err
	}
	if t, err := time.Parse(time.RFC3339, r.Created); err != nil || t.Format(time.RFC3339) != r.Created || t.Location() != time.UTC {
		return fmt.Errorf("created %q: not an RFC 3339 UTC time in seconds", r.Created)
	}
	if err := checkProcesses(toProcesses(r.Processes)); err != nil {
		return err
	}
	if r.Source != nil {
		if err := checkRepository(r.Source.Repository); err != nil {
			return err
		}
	}
	seen := make(map[string]EntryType, len(r.Files))
	for i, e := range r.Files {
		if err := checkPath(e.Path); err != nil {
			return err
		}
		if i > 0 && r.Files[i-1].Path >= e.Path {
			return fileErr(e.Path, fmt.Errorf("%w or out of order", ErrDuplicatePath))
		}
		if err := e.validate(); err != nil {
			return fileErr(e.Path, err)
		}
		seen[e.Path] = e.Type
	}
	if err := checkNesting(seen); err != nil {
		return err
	}
	if err := checkLinks(r.Files); err != nil {
		return err
	}
	for i, b := range r.Binaries {
		if t, ok := seen[b.Path]; !ok || t != TypeFile {
			return fileErr(b.Path, fmt.Errorf("binary is not a file of the build"))
		}
		if i > 0 && r.Binaries[i-1].Path >= b.Path {
			return fileErr(b.Path, fmt.Errorf("%w or out of order in binaries", ErrDuplicatePath))
		}
	}
	if r.Image != nil {
		if _, err := digest.Parse(r.Image.Digest); err != nil {
			return fmt.Errorf("image digest: %w", err)
		}
		if r.Image.MediaType != ocispec.MediaTypeImageManifest && r.Image.MediaType != ocispec.MediaTypeImageIndex &&
			r.Image.MediaType != mediaTypeDockerManifest && r.Image.MediaType != mediaTypeDockerList {
			return fmt.Errorf("image %s: %w: %q", r.Image.Digest, ErrMediaType, r.Image.MediaType)
		}
		if r.Image.Size <= 0 {
			return fmt.Errorf("image %s: size %d", r.Image.Digest, r.Image.Size)
		}
	}
	if len(r.Files) == 0 && r.Image == nil {
		return ErrEmpty
	}
	return r.validateEvidence()
}

// validateEvidence checks the evidence entries and that the summary names
// exactly them.
func (r *record) validateEvidence() error {
	var refs []attest.EvidenceRef
	for i, e := range r.Evidence {
		kind := attest.PredicateKind(e.PredicateType)
		if kind == "" || kind != e.PredicateType {
			return fmt.Errorf("evidence %d: predicate type %q", i, e.PredicateType)
		}
		if want := evidenceMediaType(kind); e.MediaType != want {
			return fmt.Errorf("evidence %d: media type %q, want %q", i, e.MediaType, want)
		}
		if _, err := digest.Parse(e.Digest); err != nil {
			return fmt.Errorf("evidence %d: digest: %w", i, err)
		}
		if e.Size <= 0 || e.Size > attest.MaxEvidenceSize {
			return fmt.Errorf("evidence %d: size %d", i, e.Size)
		}
		if i > 0 && r.Evidence[i-1].Digest >= e.Digest {
			return fmt.Errorf("evidence not sorted by digest, or a digest repeats")
		}
		refs = append(refs, attest.EvidenceRef{PredicateType: e.PredicateType, Digest: e.Digest})
	}
	if r.Summary == nil {
		if len(r.Evidence) > 0 {
			return fmt.Errorf("evidence without a summary")
		}
		return nil
	}
	if err := r.Summary.Validate(); err != nil {
		return err
	}
	if !slices.Equal(refs, r.Summary.Evidence) {
		return fmt.Errorf("summary names other evidence than the record")
	}
	if r.Summary.Provenance != nil || r.Summary.Config != nil {
		return fmt.Errorf("a build summary holds no provenance or config findings")
	}
	if p := r.Summary.Policy; p != nil {
		if _, err := digest.Parse(p.Digest); err != nil {
			return fmt.Errorf("policy digest: %w", err)
		}
		if !p.Pass || len(p.Findings) > 0 {
			return fmt.Errorf("the build failed its policy %s: a stored build passed it", p.Digest)
		}
	}
	return nil
}

// evidenceMediaType is the media type a predicate of kind is stored as.
func evidenceMediaType(kind string) string {
	switch kind {
	case attest.PredicateCycloneDX:
		return attest.MediaTypeCycloneDX
	case attest.PredicateSPDX:
		return attest.MediaTypeSPDX
	case attest.PredicateVuln:
		return attest.MediaTypeVuln
	case attest.PredicateOpenVEX:
		return attest.MediaTypeOpenVEX
	}
	return ""
}

func (e *entryRecord) validate() error {
	switch e.Type {
	case TypeFile, TypeTar:
		if _, err := digest.Parse(e.Digest); err != nil {
			return fmt.Errorf("digest: %w", err)
		}
		if e.Size < 0 {
			return fmt.Errorf("size %d", e.Size)
		}
		if e.Target != "" {
			return fmt.Errorf("%s has a link target", e.Type)
		}
	case TypeSymlink:
		if e.Target == "" || e.Digest != "" || e.Size != 0 || e.TarDigest != "" {
			return fmt.Errorf("symlink needs a target and nothing else")
		}
	default:
		return fmt.Errorf("unknown entry type %q", e.Type)
	}
	switch e.Type {
	case TypeFile, TypeSymlink:
		if !modeRE.MatchString(e.Mode) {
			return fmt.Errorf("mode %q: want four octal digits such as 0644", e.Mode)
		}
		if e.TarDigest != "" {
			return fmt.Errorf("%s has a tar digest", e.Type)
		}
	case TypeTar:
		if e.Mode != "" {
			return fmt.Errorf("tar entry has a mode")
		}
		if _, err := digest.Parse(e.TarDigest); err != nil {
			return fmt.Errorf("tar digest: %w", err)
		}
	}
	return nil
}

// checkRepository refuses a source repository URL that carries
// credentials (user information, a query or a fragment), so that no token
// is ever recorded or published. The message never repeats the URL.
func checkRepository(repo string) error {
	if repo == "" || !strings.Contains(repo, "://") {
		return nil // empty, or scp-like "git@host:path"
	}
	u, err := url.Parse(repo)
	if err != nil {
		return fmt.Errorf("source repository: %w: not a valid URL", ErrInvalidSpec)
	}
	if _, hasPassword := u.User.Password(); hasPassword || (u.User != nil && (u.Scheme == "http" || u.Scheme == "https")) {
		return fmt.Errorf("source repository: %w: the URL holds user information; credentials are never recorded", ErrInvalidSpec)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("source repository: %w: the URL holds a query or fragment; credentials are never recorded", ErrInvalidSpec)
	}
	return nil
}

// checkNesting refuses a path below a file or link, so that the entries
// describe one tree: "a" and "a/b" cannot both be files.
func checkNesting(seen map[string]EntryType) error {
	for p := range seen {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if t, ok := seen[d]; ok {
				return fileErr(p, fmt.Errorf("%w: inside %s %q", ErrDuplicatePath, t, d))
			}
		}
	}
	return nil
}

func checkAppName(name string) error {
	if len(name) > maxNameLen || !appNameRE.MatchString(name) {
		return fmt.Errorf("app %q: %w: want lowercase letters, digits and inner '-', at most %d characters", name, ErrInvalidName, maxNameLen)
	}
	return nil
}

func checkProcesses(ps []Process) error {
	seen := make(map[string]bool, len(ps))
	for _, p := range ps {
		if len(p.Name) > maxNameLen || !processNameRE.MatchString(p.Name) {
			return fmt.Errorf("process %q: %w: want letters, digits, '_' and '-', at most %d characters", p.Name, ErrInvalidName, maxNameLen)
		}
		if seen[p.Name] {
			return fmt.Errorf("process %q: %w: declared twice", p.Name, ErrInvalidName)
		}
		seen[p.Name] = true
		if strings.TrimSpace(p.Command) == "" || strings.ContainsAny(p.Command, "\x00\n\r") {
			return fmt.Errorf("process %q: %w: command is empty or holds a line break or NUL", p.Name, ErrInvalidSpec)
		}
	}
	return nil
}

// checkPath accepts slash-separated relative paths without ".", "..",
// empty elements, backslashes or control characters.
func checkPath(p string) error {
	if p == "" || len(p) > maxPathLen || !fs.ValidPath(p) || p == "." {
		return fileErr(p, ErrInvalidPath)
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return fileErr(p, fmt.Errorf("%w: holds %q", ErrInvalidPath, c))
		}
	}
	return nil
}

func formatMode(m fs.FileMode) string { return fmt.Sprintf("%04o", uint32(m.Perm())) }

func parseMode(s string) fs.FileMode {
	n, _ := strconv.ParseUint(s, 8, 32) // validated by modeRE
	return fs.FileMode(n).Perm()
}

func toProcesses(rs []processRecord) []Process {
	out := make([]Process, len(rs))
	for i, p := range rs {
		out[i] = Process(p)
	}
	return out
}

const (
	mediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	mediaTypeDockerList     = "application/vnd.docker.distribution.manifest.list.v2+json"
)
