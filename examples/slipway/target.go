package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/spf13/cobra"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"

	"github.com/slipway-dev/slipway/build"
)

// target is where a command stores or reads: a registry repository or an
// OCI image layout, with the tag or digest its REF names.
type target struct {
	// store is the *build.Layout or *remote.Repository itself, never
	// wrapped: build.New looks for the layout's single-pass Ingest, and
	// release.New for the layout's exclusive Update.
	store  oras.Target
	name   string        // REF without its tag or digest: "HOST/REPO" or DIR
	tag    string        // empty when REF has none
	digest digest.Digest // empty when REF has none; only openSource allows one
}

// ref returns the reference of the manifest d in t: name@digest.
func (t *target) ref(d digest.Digest) string { return t.name + "@" + d.String() }

// reference returns what REF names in t: its digest if it has one, else
// its tag, else "".
func (t *target) reference() string {
	if t.digest != "" {
		return t.digest.String()
	}
	return t.tag
}

// String returns REF as given, in canonical form.
func (t *target) String() string {
	switch {
	case t.digest != "":
		return t.ref(t.digest)
	case t.tag != "":
		return t.name + ":" + t.tag
	}
	return t.name
}

// same reports whether t and u are the same repository or layout.
func (t *target) same(u *target) bool {
	if _, layout := t.store.(*build.Layout); layout {
		a, errA := filepath.Abs(t.name)
		b, errB := filepath.Abs(u.name)
		return errA == nil && errB == nil && a == b
	}
	return t.name == u.name
}

// addTargetFlags adds to cmd the flags that say what kind of target its
// REF arguments name: --plain-http and --oci-layout, which exclude each
// other.
func addTargetFlags(cmd *cobra.Command, plainHTTP, ociLayout *bool) {
	cmd.Flags().BoolVar(plainHTTP, "plain-http", false, "talk to the registry over HTTP, not HTTPS")
	cmd.Flags().BoolVar(ociLayout, "oci-layout", false, "REF names an OCI image layout directory, not a registry")
	cmd.MarkFlagsMutuallyExclusive("plain-http", "oci-layout")
}

// openTarget opens the target REF names: an OCI image layout with
// ociLayout, else a registry repository, over HTTP with plainHTTP. REF must
// not name a digest: what a command stores gets its digest from its bytes.
func openTarget(ctx context.Context, ref string, plainHTTP, ociLayout bool) (*target, error) {
	return open(ctx, ref, plainHTTP, ociLayout, false)
}

// openSource opens the target REF names, as openTarget does, for a command
// that reads what REF names: a tag or a digest.
func openSource(ctx context.Context, ref string, plainHTTP, ociLayout bool) (*target, error) {
	return open(ctx, ref, plainHTTP, ociLayout, true)
}

// openNamed opens the target REF names, as openSource does, for a command
// that reads what REF names and its referrers: REF must name a tag or a
// digest.
func openNamed(ctx context.Context, ref string, plainHTTP, ociLayout bool) (*target, oras.GraphTarget, error) {
	t, err := openSource(ctx, ref, plainHTTP, ociLayout)
	if err != nil {
		return nil, nil, err
	}
	if t.reference() == "" {
		return nil, nil, fmt.Errorf("REF %q: names no tag or digest", ref)
	}
	g, ok := t.store.(oras.GraphTarget)
	if !ok {
		return nil, nil, fmt.Errorf("REF %q: the store cannot list referrers", ref)
	}
	return t, g, nil
}

func open(ctx context.Context, ref string, plainHTTP, ociLayout, digestOK bool) (*target, error) {
	if ociLayout {
		dir, tag, dgst, err := parseLayoutRef(ref)
		if err != nil {
			return nil, err
		}
		if dgst != "" && !digestOK {
			return nil, fmt.Errorf("REF %q: names a digest; give DIR[:TAG]", ref)
		}
		l, err := build.OpenLayout(ctx, dir)
		if err != nil {
			return nil, err
		}
		return &target{store: l, name: dir, tag: tag, digest: dgst}, nil
	}

	r, err := registry.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("REF %q: %w", ref, err)
	}
	t := &target{tag: r.Reference}
	if dgst, err := r.Digest(); err == nil {
		if !digestOK {
			return nil, fmt.Errorf("REF %q: names a digest; give HOST/REPO[:TAG]", ref)
		}
		t.tag, t.digest = "", dgst
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
		// On a registry without the referrers API, each new referrer of a
		// manifest (a release of a build, a build of an image) replaces
		// its referrers index; deleting the old one fails where deletes
		// are off, as they are by default in docker-registry, and would
		// fail the push. Keep it, as the oras CLI does.
		SkipReferrersGC: true,
	}
	t.store, t.name = repo, repo.Reference.String()
	return t, nil
}

// resolveIn returns the target value names: a bare tag or digest in base's
// repository, else a reference of its own (a handle on the same layout as
// base shares base's store).
func resolveIn(ctx context.Context, base *target, value string, plainHTTP, ociLayout bool) (*target, error) {
	switch {
	case digest.Digest(value).Validate() == nil:
		return &target{store: base.store, name: base.name, digest: digest.Digest(value)}, nil
	case isTag(value):
		return &target{store: base.store, name: base.name, tag: value}, nil
	}
	t, err := openSource(ctx, value, plainHTTP, ociLayout)
	if err != nil {
		return nil, err
	}
	if t.same(base) {
		t.store = base.store
	}
	return t, nil
}

// parseLayoutRef splits DIR[:TAG] as the oras CLI does: at the last ':' if
// what follows is a valid tag; or DIR@DIGEST at the last '@' if what
// follows has the form of a digest, which must then be valid.
func parseLayoutRef(ref string) (dir, tag string, dgst digest.Digest, err error) {
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		if alg, _, ok := strings.Cut(ref[i+1:], ":"); ok && digest.Algorithm(alg).Available() {
			dir, dgst = ref[:i], digest.Digest(ref[i+1:])
			if err := dgst.Validate(); err != nil {
				return "", "", "", fmt.Errorf("REF %q: %w", ref, err)
			}
			if dir == "" {
				return "", "", "", fmt.Errorf("REF %q: no directory; give DIR@DIGEST", ref)
			}
			return dir, "", dgst, nil
		}
	}
	dir = ref
	if i := strings.LastIndexByte(ref, ':'); i >= 0 && isTag(ref[i+1:]) {
		dir, tag = ref[:i], ref[i+1:]
	}
	if dir == "" {
		return "", "", "", fmt.Errorf("REF %q: no directory; give DIR[:TAG]", ref)
	}
	return dir, tag, "", nil
}

// isTag reports whether s is a tag as the OCI distribution spec has it:
// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, so never holding a '/'.
func isTag(s string) bool {
	return registry.Reference{Reference: s}.ValidateReferenceAsTag() == nil
}

// notFound adds to err, if what t names cannot be resolved, that nothing is
// stored there: the error may be about a blob or another release, which
// the hint would misname.
func notFound(ctx context.Context, err error, t *target) error {
	if !errors.Is(err, errdef.ErrNotFound) {
		return err
	}
	if _, rerr := t.store.Resolve(ctx, t.reference()); errors.Is(rerr, errdef.ErrNotFound) {
		return &hinted{err, fmt.Sprintf("nothing is stored as %s", t)}
	}
	return err
}
