package release

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
)

// DefaultBuilderID is the provenance builder of a build whose record names
// none.
const DefaultBuilderID = "https://github.com/slipway-dev/slipway"

// Sign signs r, stored in dst, with s: a signature cosign verifies
// (cosign verify --key) and an attestation of SLSA provenance v1 made
// from the build record (cosign verify-attestation --type
// slsaprovenance1), both as a sigstore bundle v0.3 referrer of the
// release manifest and in cosign's legacy .sig / .att tags. s may be any
// sigstore signer: a key file ([attest.LoadPrivateKey]), a KMS key, a
// hardware token.
//
// [New] signs a release before its version tag is written when
// [Options.Signer] is set, so that no reader sees it unsigned on the
// ledger; Sign adds signatures to a release already there, e.g. a second
// signer's.
func Sign(ctx context.Context, dst oras.Target, r *Release, s signature.Signer, opts SignOptions) error {
	if r == nil || r.build == nil {
		return fmt.Errorf("release: sign: %w: no release, or one read without its build", ErrInvalidOptions)
	}
	if err := sign(ctx, dst, r, s, opts); err != nil {
		return fmt.Errorf("release: sign %s: %w", r.Tag(), err)
	}
	return nil
}

func sign(ctx context.Context, dst oras.Target, r *Release, s signature.Signer, opts SignOptions) error {
	ao := attestOptions(dst, r, opts)
	// The signature and each attestation at once: on a registry each
	// write waits to see that it held (see attest.Sign).
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	g.Go(func() error { return attest.Sign(gctx, dst, r.desc, s, ao) })
	for _, e := range r.build.Evidence() {
		g.Go(func() error {
			data, err := content.FetchAll(gctx, dst, e.Descriptor)
			if err != nil {
				return fmt.Errorf("evidence %s (%s): %w", e.Descriptor.Digest, e.Source, err)
			}
			if _, err := attest.Attest(gctx, dst, r.desc, e.PredicateType, json.RawMessage(data), s, ao); err != nil {
				return fmt.Errorf("attest %s (%s): %w", e.Descriptor.Digest, e.Source, err)
			}
			return nil
		})
	}
	if !opts.SkipProvenance {
		g.Go(func() error {
			_, err := attest.Attest(gctx, dst, r.desc, attest.PredicateSLSAProvenance, Provenance(r), s, ao)
			return err
		})
	}
	return g.Wait()
}

var gitCommitRE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)

// Provenance returns the SLSA provenance v1 predicate of r, made from its
// build record: the builder, the source at its revision, the declared
// processes; as resolved dependencies the source at its revision, the
// build and config, and every Go module the build's binaries were built
// with; the invocation ID of the run that made the build; and the SBOM
// as a byproduct.
func Provenance(r *Release) *attest.Provenance {
	b := r.build
	src := b.Source()
	ext := map[string]any{
		"app":         r.App(),
		"environment": r.Environment(),
		"version":     r.Version(),
		"build":       string(b.Digest()),
		"config":      string(r.config.Digest()),
	}
	if src.Repository != "" || src.Revision != "" {
		s := map[string]any{}
		if src.Repository != "" {
			s["repository"] = src.Repository
		}
		if src.Revision != "" {
			s["revision"] = src.Revision
		}
		if src.Dirty {
			s["dirty"] = true
		}
		ext["source"] = s
	}
	if ps := processList(b.Processes()); len(ps) > 0 {
		ext["processes"] = ps
	}
	p := &attest.Provenance{
		BuildDefinition: attest.BuildDefinition{BuildType: attest.BuildTypeSlipway, ExternalParameters: ext},
		RunDetails: attest.RunDetails{
			Builder:  attest.Builder{ID: b.Builder()},
			Metadata: &attest.BuildMetadata{FinishedOn: b.Created().UTC().Format(time.RFC3339)},
		},
	}
	if p.RunDetails.Builder.ID == "" {
		p.RunDetails.Builder.ID = DefaultBuilderID
	}
	if b.Toolchain() != "" {
		p.RunDetails.Builder.Version = map[string]string{"go": b.Toolchain()}
	}
	if src.Repository != "" && gitCommitRE.MatchString(src.Revision) {
		uri := src.Repository
		if !strings.HasPrefix(uri, "git+") {
			uri = "git+" + uri
		}
		p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies,
			attest.ResourceDescriptor{URI: uri, Digest: map[string]string{"gitCommit": src.Revision}})
	}
	bd, cd := b.Descriptor(), r.config.Descriptor()
	p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies,
		attest.ResourceDescriptor{Name: "build", MediaType: bd.MediaType, Digest: map[string]string{string(bd.Digest.Algorithm()): bd.Digest.Encoded()}},
		attest.ResourceDescriptor{Name: "config", MediaType: cd.MediaType, Digest: map[string]string{string(cd.Digest.Algorithm()): cd.Digest.Encoded()}},
	)
	p.BuildDefinition.ResolvedDependencies = append(p.BuildDefinition.ResolvedDependencies, goModules(b)...)
	if inv := b.Invocation(); inv != "" {
		p.RunDetails.Metadata.InvocationID = inv
	}
	for _, e := range b.Evidence() {
		if k := e.PredicateType; k == attest.PredicateCycloneDX || k == attest.PredicateSPDX {
			d := e.Descriptor.Digest
			p.RunDetails.Byproducts = append(p.RunDetails.Byproducts, attest.ResourceDescriptor{
				Name: "sbom", MediaType: e.Descriptor.MediaType, Digest: map[string]string{string(d.Algorithm()): d.Encoded()},
			})
		}
	}
	return p
}

// goModules lists the Go modules the build's binaries were built with,
// each once, in path order: its purl, and its go.sum hash as an in-toto
// dirHash (the h1 hash in hex).
func goModules(b *build.Build) []attest.ResourceDescriptor {
	seen := map[string]bool{}
	var out []attest.ResourceDescriptor
	for _, bin := range b.Binaries() {
		for _, d := range bin.Deps {
			uri := attest.GoPURL(d.Path, d.Version)
			if seen[uri] {
				continue
			}
			seen[uri] = true
			rd := attest.ResourceDescriptor{URI: uri}
			if h, ok := strings.CutPrefix(d.Sum, "h1:"); ok {
				if raw, err := base64.StdEncoding.DecodeString(h); err == nil && len(raw) == sha256.Size {
					rd.Digest = map[string]string{"dirHash": hex.EncodeToString(raw)}
				}
			}
			out = append(out, rd)
		}
	}
	slices.SortFunc(out, func(a, b attest.ResourceDescriptor) int { return strings.Compare(a.URI, b.URI) })
	return out
}

// provenanceSummary is what the summary says of the provenance Provenance
// makes for b.
func provenanceSummary(b *build.Build) *attest.ProvenanceSummary {
	p := &attest.ProvenanceSummary{Builder: b.Builder(), Source: b.Source().Repository, Revision: b.Source().Revision}
	if p.Builder == "" {
		p.Builder = DefaultBuilderID
	}
	return p
}

func processList(ps []build.Process) []map[string]any {
	var out []map[string]any
	for _, p := range ps {
		m := map[string]any{"name": p.Name, "command": p.Command}
		if p.Admin {
			m["admin"] = true
		}
		out = append(out, m)
	}
	return out
}

// attestOptions are the attest settings of opts for statements about r
// stored in dst: the subject is named by the repository in a registry,
// and by the app's name in any other store.
func attestOptions(dst oras.Target, r *Release, opts SignOptions) attest.SignOptions {
	ao := attest.SignOptions{SkipBundle: opts.SkipBundle, SkipLegacyTags: opts.SkipLegacyTags, Name: opts.Name}
	if _, registry := dst.(*remote.Repository); ao.Name == "" && !registry {
		ao.Name = r.App()
	}
	return ao
}
