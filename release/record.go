package release

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/canonjson"
)

// MediaType is the artifactType of a release manifest and the media type of
// its config blob, the release record (docs/format.md).
const MediaType = "application/vnd.slipway.release.v1+json"

// LockMediaType is the artifactType of the ledger's lock manifests, which
// publishers to a registry use to agree on who adds the next version.
const LockMediaType = "application/vnd.slipway.ledger-lock.v1+json"

// ConfigTitle is the title annotation of a release's config layer, so that
// oras pull writes it to a file of that name.
const ConfigTitle = "config.json"

// Limits on what is read from a store.
const (
	maxManifest = 4 << 20
	maxRecord   = 4 << 20
	maxVersion  = 1<<31 - 1
)

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	processRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	envSuffixR = regexp.MustCompile(`-v[0-9]+$`)
)

// record is the release record: the config blob of a release manifest. Its
// canonical JSON encoding is what is stored and hashed.
type record struct {
	App         string          `json:"app"`
	Environment string          `json:"environment"`
	Version     int             `json:"version"`
	Created     string          `json:"created"`
	Build       descriptor      `json:"build"`
	Config      descriptor      `json:"config"`
	Previous    *descriptor     `json:"previous,omitempty"`
	Rollback    int             `json:"rollback,omitempty"`
	Processes   []processRecord `json:"processes,omitempty"`
	Summary     attest.Summary  `json:"summary"`
}

// descriptor is the part of an OCI descriptor a record keeps.
type descriptor struct {
	MediaType string        `json:"mediaType"`
	Digest    digest.Digest `json:"digest"`
	Size      int64         `json:"size"`
}

type processRecord struct {
	Name    string `json:"name"`
	Command string `json:"command"`
	Admin   bool   `json:"admin,omitempty"`
}

func toDescriptor(d ocispec.Descriptor) descriptor {
	return descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}
}

func (d descriptor) oci() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}
}

func (d descriptor) validate(what, mediaType string) error {
	if d.MediaType != mediaType {
		return fmt.Errorf("%s: media type %q, want %q", what, d.MediaType, mediaType)
	}
	if err := d.Digest.Validate(); err != nil || d.Digest.Algorithm() != digest.SHA256 {
		return fmt.Errorf("%s: digest %q is not a sha256 digest", what, d.Digest)
	}
	if d.Size <= 0 {
		return fmt.Errorf("%s: size %d", what, d.Size)
	}
	return nil
}

func (r *record) encode() ([]byte, error) { return canonjson.Marshal(r) }

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

// validate checks the rules every release record obeys.
func (r *record) validate() error {
	if err := checkName("app", r.App); err != nil {
		return err
	}
	if err := checkEnvironment(r.Environment); err != nil {
		return err
	}
	if r.Version < 1 || r.Version > maxVersion {
		return fmt.Errorf("version %d out of range", r.Version)
	}
	if _, err := time.Parse(time.RFC3339, r.Created); err != nil {
		return fmt.Errorf("created %q: not an RFC 3339 time", r.Created)
	}
	if err := r.Build.validate("build", ocispec.MediaTypeImageManifest); err != nil {
		return err
	}
	if err := r.Config.validate("config", config.MediaType); err != nil {
		return err
	}
	switch {
	case r.Version == 1 && r.Previous != nil:
		return fmt.Errorf("version 1 names a previous release")
	case r.Version > 1 && r.Previous == nil:
		return fmt.Errorf("version %d names no previous release", r.Version)
	case r.Previous != nil:
		if err := r.Previous.validate("previous", ocispec.MediaTypeImageManifest); err != nil {
			return err
		}
	}
	if r.Rollback < 0 || r.Rollback >= r.Version {
		return fmt.Errorf("rollback to version %d from version %d", r.Rollback, r.Version)
	}
	seen := map[string]bool{}
	for i, p := range r.Processes {
		if !processRE.MatchString(p.Name) || len(p.Name) > 63 || p.Command == "" {
			return fmt.Errorf("process %d: malformed name or empty command", i)
		}
		if seen[p.Name] {
			return fmt.Errorf("process %q declared twice", p.Name)
		}
		seen[p.Name] = true
	}
	return r.Summary.Validate()
}

func checkName(what, name string) error {
	if len(name) > 63 || !nameRE.MatchString(name) {
		return fmt.Errorf("%s %q: want lowercase letters, digits and inner hyphens, at most 63 characters", what, name)
	}
	return nil
}

func checkEnvironment(env string) error {
	if err := checkName("environment", env); err != nil {
		return err
	}
	if envSuffixR.MatchString(env) {
		return fmt.Errorf("environment %q ends like a version tag (-vN)", env)
	}
	return nil
}

// VersionTag is the immutable tag of version n of an environment's ledger:
// "prod-v7".
func VersionTag(environment string, n int) string {
	return environment + "-v" + strconv.Itoa(n)
}

func processesOf(b *build.Build) []processRecord {
	var ps []processRecord
	for _, p := range b.Processes() {
		ps = append(ps, processRecord{Name: p.Name, Command: p.Command, Admin: p.Admin})
	}
	return ps
}

func toProcesses(ps []processRecord) []build.Process {
	var out []build.Process
	for _, p := range ps {
		out = append(out, build.Process{Name: p.Name, Command: p.Command, Admin: p.Admin})
	}
	return out
}
