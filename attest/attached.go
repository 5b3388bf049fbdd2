package attest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
)

// Attached returns the manifests attached to the manifest subject in src,
// where [Verify] and [Find] look for evidence: its referrers (listed
// through the referrers API, or the referrers tag schema where a registry
// lacks it, or as predecessors in other stores) and the manifests cosign's
// legacy tags sha256-<hex>.sig and .att name. Each descriptor holds the
// media type, digest and size, and for a referrer its artifactType; the
// list is sorted by digest, without duplicates, and empty when nothing is
// attached.
//
// It reads the listings and resolves the two legacy tags, never the
// evidence itself, and verifies nothing: an attached manifest may be
// signed by anyone or by no one. Its use is to notice change cheaply:
// evidence added, removed or replaced (a new referrer, a legacy tag
// rewritten with one more layer) changes the list, so a caller that kept
// the result of a verification may keep it while the list stays the same.
//
// It fails when src cannot be read, when subject has more than
// [MaxReferrers] referrers ([ErrMalformed]) and when subject's digest is
// malformed ([ErrInvalidOptions]).
func Attached(ctx context.Context, src oras.ReadOnlyGraphTarget, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	if subject.Digest.Validate() != nil {
		return nil, fmt.Errorf("attest: %w: subject digest %q", ErrInvalidOptions, subject.Digest)
	}
	subject = manifestOnly(subject)
	var refs []ocispec.Descriptor
	tags := make([]ocispec.Descriptor, 2)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		refs, err = listReferrers(gctx, src, subject)
		return err
	})
	for i, suffix := range []string{legacySig, legacyAtt} {
		g.Go(func() error {
			tag := LegacyTag(subject.Digest, suffix)
			desc, err := src.Resolve(gctx, tag)
			switch {
			case errors.Is(err, errdef.ErrNotFound):
				return nil
			case err != nil:
				return fmt.Errorf("resolve %s: %w", tag, err)
			}
			tags[i] = manifestOnly(desc)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("attest: attached to %s: %w", subject.Digest, err)
	}
	out := make([]ocispec.Descriptor, 0, len(refs)+len(tags))
	for _, d := range refs {
		out = append(out, manifestOnly(d))
	}
	for _, d := range tags {
		if d.Digest != "" {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b ocispec.Descriptor) int {
		return cmp.Or(strings.Compare(string(a.Digest), string(b.Digest)), strings.Compare(a.ArtifactType, b.ArtifactType))
	})
	return slices.CompactFunc(out, func(a, b ocispec.Descriptor) bool { return a.Digest == b.Digest }), nil
}
