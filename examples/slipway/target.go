package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/slipway-dev/slipway/build"
)

// target is where a command stores: a registry repository or an OCI image
// layout, with the tag its REF names.
type target struct {
	// store is the *build.Layout or *remote.Repository itself, never
	// wrapped: build.New looks for the layout's single-pass Ingest.
	store oras.Target
	name  string // REF without its tag: "HOST/REPO" or DIR
	tag   string // empty when REF has none
}

// ref returns the reference of the manifest d in t: name@digest.
func (t *target) ref(d digest.Digest) string { return t.name + "@" + d.String() }

// openTarget opens the target REF names: an OCI image layout with
// ociLayout, else a registry repository, over HTTP with plainHTTP. REF must
// not name a digest: what a command stores gets its digest from its bytes.
func openTarget(ctx context.Context, ref string, plainHTTP, ociLayout bool) (*target, error) {
	if ociLayout {
		dir, tag, err := parseLayoutRef(ref)
		if err != nil {
			return nil, err
		}
		l, err := build.OpenLayout(ctx, dir)
		if err != nil {
			return nil, err
		}
		return &target{store: l, name: dir, tag: tag}, nil
	}

	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("REF %q: %w", ref, err)
	}
	if _, err := r.Digest(); err == nil {
		return nil, fmt.Errorf("REF %q: names a digest; give HOST/REPO[:TAG]", ref)
	}
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("docker credentials: %w", err)
	}
	repo := &remote.Repository{
		Client: &auth.Client{
			Client:     retry.DefaultClient,
			Cache:      auth.NewCache(),
			Credential: credentials.Credential(store),
		},
		Reference: registry.Reference{Registry: r.Registry, Repository: r.Repository},
		PlainHTTP: plainHTTP,
	}
	return &target{store: repo, name: repo.Reference.String(), tag: r.Reference}, nil
}

// parseLayoutRef splits DIR[:TAG] as the oras CLI does: at the last ':' if
// what follows is a valid tag. DIR@DIGEST is refused.
func parseLayoutRef(ref string) (dir, tag string, err error) {
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		if alg, _, ok := strings.Cut(ref[i+1:], ":"); ok && digest.Algorithm(alg).Available() {
			return "", "", fmt.Errorf("REF %q: names a digest; give DIR[:TAG]", ref)
		}
	}
	dir = ref
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && isTag(ref[i+1:]) {
		dir, tag = ref[:i], ref[i+1:]
	}
	if dir == "" {
		return "", "", fmt.Errorf("REF %q: no directory; give DIR[:TAG]", ref)
	}
	return dir, tag, nil
}

// isTag reports whether s is a tag as the OCI distribution spec has it:
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, so never holding a '/'.
func isTag(s string) bool {
	return registry.Reference{Reference: s}.ValidateReferenceAsTag() == nil
}
