package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/slipway-dev/slipway/build"
)

// openStore opens REPOSITORY: the OCI image layout directory it names
// with --oci-layout, else the registry repository HOST/REPO, with
// credentials from the docker configuration. It returns the store itself,
// never wrapped, so that the audit record is written as the store writes
// best (a layout under its lock, a registry with its referrers API).
func openStore(ctx context.Context, repository string, plainHTTP, ociLayout bool) (oras.GraphTarget, error) {
	if ociLayout {
		fi, err := os.Stat(repository)
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("REPOSITORY %q: not a directory (an OCI image layout with --oci-layout)", repository)
		}
		l, err := build.OpenLayout(ctx, repository)
		if err != nil {
			return nil, fmt.Errorf("REPOSITORY %q: %w", repository, err)
		}
		return l, nil
	}
	ref, err := registry.ParseReference(repository)
	if err != nil {
		return nil, fmt.Errorf("REPOSITORY %q: want HOST/REPO: %w", repository, err)
	}
	if ref.Reference != "" {
		return nil, fmt.Errorf("REPOSITORY %q: want HOST/REPO without a tag or digest: ENVIRONMENT names the tag", repository)
	}
	creds, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker credentials: %w", err)
	}
	return &remote.Repository{
		Client: &auth.Client{
			Client:     retry.DefaultClient,
			Cache:      auth.NewCache(),
			Credential: credentials.Credential(creds),
		},
		Reference: ref,
		PlainHTTP: plainHTTP,
		// Each audit record is a new referrer of the release. On a
		// registry without the referrers API that replaces the release's
		// referrers index, and deleting the old one fails where deletes
		// are off (docker-registry's default), failing the push. Keep it,
		// as the oras CLI does.
		SkipReferrersGC: true,
	}, nil
}

// pinned is a read-only view of a store in which the environment's head
// tag keeps naming the release it named when the runner resolved it:
// release.Open asked for the tag then verifies, extracts and judges that
// release, with every check it makes of a head (the tag's environment is
// the release's, no newer version exists), whatever lands on the ledger
// meanwhile. Every other reference, and every read, goes to the store.
type pinned struct {
	oras.ReadOnlyGraphTarget
	tag  string
	desc ocispec.Descriptor
}

var _ registry.ReferrerLister = pinned{}

// Resolve returns the pinned descriptor for the head tag, and resolves
// any other reference in the store.
func (p pinned) Resolve(ctx context.Context, reference string) (ocispec.Descriptor, error) {
	if reference == p.tag {
		return p.desc, nil
	}
	return p.ReadOnlyGraphTarget.Resolve(ctx, reference)
}

// Referrers lists the referrers of desc with the store's own listing
// when it has one (a registry's referrers API, page by page), so that
// the view reads referrers as the store would.
func (p pinned) Referrers(ctx context.Context, desc ocispec.Descriptor, artifactType string, fn func([]ocispec.Descriptor) error) error {
	if rl, ok := p.ReadOnlyGraphTarget.(registry.ReferrerLister); ok {
		return rl.Referrers(ctx, desc, artifactType, fn)
	}
	refs, err := registry.Referrers(ctx, p.ReadOnlyGraphTarget, desc, artifactType)
	if err != nil {
		return err
	}
	return fn(refs)
}

// isTag reports whether s is a tag as the OCI distribution spec has it.
func isTag(s string) bool {
	return registry.Reference{Reference: s}.ValidateReferenceAsTag() == nil
}

// where names the release d of repository for a human reader: HOST/REPO@d
// or DIR@d.
func where(repository string, d fmt.Stringer) string {
	return strings.TrimSuffix(repository, "/") + "@" + d.String()
}
