package artifact

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

var versionRE = regexp.MustCompile(`^application/vnd\.slipway\.([a-z-]+)\.v([0-9]+)\+json$`)

// CheckType checks that m is an OCI image manifest whose artifactType (or,
// without one, config media type) and config media type are mediaType, a
// slipway media type of major version 1. It returns errMediaType wrapped
// for something else, errUnknownVersion wrapped for the same kind of
// artifact of another major version.
func CheckType(m *ocispec.Manifest, mediaType string, errMediaType, errUnknownVersion error) error {
	if m.SchemaVersion != 2 || (m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest) {
		return fmt.Errorf("%w: not an OCI image manifest (schemaVersion %d, mediaType %q)", errMediaType, m.SchemaVersion, m.MediaType)
	}
	at := m.ArtifactType
	if at == "" {
		at = m.Config.MediaType
	}
	if kind, v, ok := parse(at); ok && v != 1 {
		if wantKind, _, _ := parse(mediaType); kind == wantKind {
			return fmt.Errorf("%w: %q (this reader knows v1)", errUnknownVersion, at)
		}
	}
	if at != mediaType {
		return fmt.Errorf("%w: artifactType %q, want %q", errMediaType, at, mediaType)
	}
	if m.Config.MediaType != mediaType {
		return fmt.Errorf("%w: config media type %q, want %q", errMediaType, m.Config.MediaType, mediaType)
	}
	return nil
}

// parse splits a slipway media type into its kind and major version.
func parse(mediaType string) (kind string, version int, ok bool) {
	m := versionRE.FindStringSubmatch(mediaType)
	if m == nil {
		return "", 0, false
	}
	v, err := strconv.Atoi(m[2])
	return m[1], v, err == nil
}

// StaleIndexKept reports whether err says only that a registry without
// the referrers API refused to delete the referrers index a push replaced
// (deletes are off by default in distribution): the manifest and the new
// index are stored, and the old index is merely left behind.
func StaleIndexKept(err error) bool {
	var re *remote.ReferrersError
	return errors.As(err, &re) && re.IsReferrersIndexDelete()
}

// PushBytes stores data as desc in dst unless dst has it already. A push
// that finds the content there, or that leaves only a replaced referrers
// index behind ([StaleIndexKept]), succeeds. Only the media type, digest,
// size and artifact type of desc are passed on, so annotations never reach
// an OCI layout's index.json.
func PushBytes(ctx context.Context, dst oras.Target, desc ocispec.Descriptor, data []byte) error {
	desc = ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, ArtifactType: desc.ArtifactType}
	ok, err := dst.Exists(ctx, desc)
	if err != nil || ok {
		return err
	}
	if err := dst.Push(ctx, desc, bytes.NewReader(data)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) && !StaleIndexKept(err) {
		return err
	}
	return nil
}
