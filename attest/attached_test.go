package attest_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/attest"
)

func digests(ds []ocispec.Descriptor) []digest.Digest {
	out := make([]digest.Digest, len(ds))
	for i, d := range ds {
		out[i] = d.Digest
	}
	return out
}

// TestAttached lists what is attached to a manifest as evidence is added
// in every form, in every kind of store: each signature, attestation and
// other referrer appears, a rewritten legacy tag replaces its old
// manifest, and the list is sorted and stable.
func TestAttached(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			dst := open(t)
			subject := pushArtifact(t, dst, "hello")
			key := newKey(t)
			legacy := func(suffix string) digest.Digest {
				desc, err := dst.Resolve(ctx, attest.LegacyTag(subject.Digest, suffix))
				require.NoError(t, err)
				return desc.Digest
			}
			attached := func() []digest.Digest {
				t.Helper()
				got, err := attest.Attached(ctx, dst, subject)
				require.NoError(t, err)
				assert.True(t, slices.IsSortedFunc(got, func(a, b ocispec.Descriptor) int { return strings.Compare(string(a.Digest), string(b.Digest)) }))
				again, err := attest.Attached(ctx, dst, subject)
				require.NoError(t, err)
				assert.Equal(t, got, again, "the same store gives the same list")
				return digests(got)
			}

			assert.Empty(t, attached(), "nothing attached yet")

			require.NoError(t, attest.Sign(ctx, dst, subject, key, attest.SignOptions{}))
			signed := attached()
			assert.Len(t, signed, 2, "a bundle referrer and the .sig tag")
			assert.Contains(t, signed, legacy(".sig"))

			_, err := attest.Attest(ctx, dst, subject, attest.PredicateSLSAProvenance, map[string]any{"buildDefinition": map[string]any{"buildType": "x"}}, key, attest.SignOptions{})
			require.NoError(t, err)
			firstAtt := legacy(".att")
			withProv := attached()
			assert.Len(t, withProv, 4, "two bundles, the .sig and .att tags")
			assert.Contains(t, withProv, firstAtt)

			// A second attestation: one more bundle, and the .att tag
			// rewritten with one more layer, so its old manifest is gone.
			_, err = attest.Attest(ctx, dst, subject, attest.PredicateSLSAProvenance, map[string]any{"buildDefinition": map[string]any{"buildType": "y"}}, key, attest.SignOptions{})
			require.NoError(t, err)
			more := attached()
			assert.Len(t, more, 5)
			assert.NotContains(t, more, firstAtt)
			assert.Contains(t, more, legacy(".att"))

			// Any referrer counts, evidence or not.
			other, err := oras.PackManifest(ctx, dst, oras.PackManifestVersion1_1, "application/vnd.example.note", oras.PackManifestOptions{
				Subject:             &subject,
				ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"},
			})
			require.NoError(t, err)
			all := attached()
			assert.Len(t, all, 6)
			assert.Contains(t, all, other.Digest)
		})
	}
}

func TestAttachedErrors(t *testing.T) {
	open := stores(t)
	t.Run("malformed subject", func(t *testing.T) {
		_, err := attest.Attached(t.Context(), open["memory"](t), ocispec.Descriptor{Digest: "sha256:nope"})
		assert.ErrorIs(t, err, attest.ErrInvalidOptions)
	})
	t.Run("canceled", func(t *testing.T) {
		dst := open["ggcr-referrers"](t)
		subject := pushArtifact(t, dst, "hello")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := attest.Attached(ctx, dst, subject)
		assert.ErrorIs(t, err, context.Canceled)
	})
}
