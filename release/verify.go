package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/slipway-dev/slipway/attest"
)

// Verified is a release that verified, with the evidence that did.
type Verified struct {
	// Release is the release, read with its build and config.
	Release *Release
	// Signatures and Attestations are what trusted keys signed about it.
	Signatures   []attest.Evidence
	Attestations []attest.Evidence
}

// Verify reads the release ref names in src (a ledger tag such as "prod"
// or "prod-v7", or a digest) and checks, failing closed, in this order:
//
//   - signature: a signature of the release manifest by one of the trusted
//     keys, as a sigstore bundle or a legacy cosign signature, and an
//     attestation of each required type ([attest.Verify]);
//   - release: the manifest, record, config, build manifest, build record
//     and every layer of the build hash to their digests and agree
//     ([Load]);
//   - ledger: the release's version tag names it ([ErrNotOnLedger]); a
//     head tag names the newest version ([ErrNotHead]); a version tag
//     names its version ([ErrTagMismatch]); the previous release is
//     version N-1 of the same ledger and its version tag still names it
//     ([ErrBrokenChain]).
//
// Every failure is a [*VerifyError] naming the check, wrapping one of the
// Err values of this package or of attest (which this package re-exports:
// [ErrNotSigned], [ErrUntrustedKey], …) for [errors.Is].
func Verify(ctx context.Context, src oras.ReadOnlyGraphTarget, ref string, trusted []signature.Verifier, opts VerifyOptions) (*Verified, error) {
	desc, err := src.Resolve(ctx, ref)
	if err != nil {
		return nil, &VerifyError{Ref: ref, Check: "resolve", Err: err}
	}
	fail := func(check string, err error) error {
		return &VerifyError{Ref: ref, Digest: desc.Digest, Check: check, Err: err}
	}
	require := opts.Require
	if require == nil {
		require = []string{attest.PredicateSLSAProvenance}
	}
	desc = ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}
	raw, err := fetchAll(ctx, src, desc, maxManifest)
	if err != nil {
		return nil, fail("manifest", digestErr(err))
	}
	res, err := attest.Verify(ctx, src, desc, trusted, attest.VerifyOptions{Require: require})
	if err != nil {
		return nil, fail("signature", err)
	}
	r, err := loadManifest(ctx, src, desc, raw) // the bytes whose digest the signatures name
	if err != nil {
		return nil, fail("release", digestErr(err))
	}
	// The build's layers and the ledger are read at once; the first
	// failure in this order is reported.
	layers := r.build.Layers()
	errs := make([]error, len(layers)+1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	g.Go(func() error {
		errs[len(layers)] = checkLedger(gctx, src, ref, r)
		return nil
	})
	for i, l := range layers {
		g.Go(func() error {
			errs[i] = checkBlob(gctx, src, l)
			return nil
		})
	}
	_ = g.Wait() // the functions report through errs
	for i, err := range errs {
		switch {
		case err == nil:
		case i < len(layers):
			return nil, fail("build", err)
		default:
			return nil, fail("ledger", err)
		}
	}
	return &Verified{Release: r, Signatures: res.Signatures, Attestations: res.Attestations}, nil
}

// checkBlob streams desc from src and checks its size and digest.
func checkBlob(ctx context.Context, src content.Fetcher, desc ocispec.Descriptor) error {
	rc, err := src.Fetch(ctx, desc)
	if err != nil {
		if errors.Is(err, errdef.ErrNotFound) {
			return fmt.Errorf("%w: %s: %w", ErrMissingBlob, desc.Digest, err)
		}
		return fmt.Errorf("fetch %s: %w", desc.Digest, err)
	}
	defer rc.Close()
	vr := content.NewVerifyReader(rc, desc)
	if _, err := io.Copy(io.Discard, vr); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDigestMismatch, desc.Digest, err)
	}
	if err := vr.Verify(); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrDigestMismatch, desc.Digest, err)
	}
	return nil
}

// digestErr marks a content digest or size mismatch as ErrDigestMismatch.
func digestErr(err error) error {
	if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrDigestMismatch, err)
	}
	return err
}

// checkLedger checks r's place on its ledger as ref reached it.
func checkLedger(ctx context.Context, src oras.ReadOnlyTarget, ref string, r *Release) error {
	env, n := r.Environment(), r.Version()
	if err := tagNames(ctx, src, VersionTag(env, n), r.Digest(), ErrNotOnLedger); err != nil {
		return err
	}
	if _, err := digest.Parse(ref); err != nil && !strings.Contains(ref, "@") {
		tag := ref
		if i := strings.LastIndex(ref, ":"); i >= 0 && !strings.Contains(ref[i:], "/") {
			tag = ref[i+1:]
		}
		switch e, k, ok := parseVersionTag(tag); {
		case tag == env:
			// The head: no newer version may exist.
			if _, err := src.Resolve(ctx, VersionTag(env, n+1)); err == nil {
				return fmt.Errorf("%w: %q names version %d, but %s exists", ErrNotHead, tag, n, VersionTag(env, n+1))
			} else if !errors.Is(err, errdef.ErrNotFound) {
				return fmt.Errorf("resolve %s: %w", VersionTag(env, n+1), err)
			}
		case ok && e == env && k == n:
		default:
			return fmt.Errorf("%w: tag %q names release %s of %s", ErrTagMismatch, tag, VersionTag(env, n), r.App())
		}
	}
	prev, ok := r.Previous()
	if !ok {
		return nil
	}
	l := &ledger{app: r.App(), env: env}
	p, err := l.link(ctx, src, prev, n-1)
	if err != nil {
		if errors.Is(err, ErrBrokenChain) {
			return err
		}
		return fmt.Errorf("%w: the previous release: %w", ErrBrokenChain, err)
	}
	return tagNames(ctx, src, p.Tag(), p.Digest(), ErrBrokenChain)
}

// tagNames checks that tag names d in src; kind is the error otherwise.
func tagNames(ctx context.Context, src oras.ReadOnlyTarget, tag string, d digest.Digest, kind error) error {
	got, err := src.Resolve(ctx, tag)
	switch {
	case errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%w: %s does not exist", kind, tag)
	case err != nil:
		return fmt.Errorf("resolve %s: %w", tag, err)
	case got.Digest != d:
		return fmt.Errorf("%w: %s names %s, not %s", kind, tag, got.Digest, d)
	}
	return nil
}

// parseVersionTag splits "prod-v7" into "prod" and 7.
func parseVersionTag(tag string) (string, int, bool) {
	i := strings.LastIndex(tag, "-v")
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(tag[i+2:])
	if err != nil || n < 1 || VersionTag(tag[:i], n) != tag {
		return "", 0, false
	}
	return tag[:i], n, true
}
