package release_test

import (
	"strings"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/release"
)

// TestReleaseOfAPolicyBuild: a build that passed its build policy carries
// the result into the release summary, and the release is made, signed and
// verified as any other: the recomputed summary leaves the result alone.
func TestReleaseOfAPolicyBuild(t *testing.T) {
	p, err := build.NewPolicy(build.PolicySpec{
		FailOn:          attest.SeverityHigh,
		RequireSBOM:     true,
		RequireRevision: true,
		ForbiddenFiles:  []string{".env"},
		Rules:           []build.Rule{{Name: "web", Expr: `build.processes.exists(p, p.name == "web")`}},
	})
	require.NoError(t, err)
	spec := build.Spec{
		Files:     []build.File{{Name: "bin/server", Reader: strings.NewReader("v1"), Mode: 0o755}},
		Source:    build.Source{Repository: "https://example.com/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567"},
		Processes: []build.Process{{Name: "web", Command: "bin/server"}},
		Created:   created,
		SBOM:      "testdata/sbom.cdx.json",
		Scans:     []build.Scan{{Path: "testdata/trivy.json"}},
		VEX:       []string{"testdata/vex.json"},
	}
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			_, err := build.New(ctx, dst, "shop", spec, build.Options{Policy: p})
			require.ErrorIs(t, err, build.ErrPolicy, "the testdata scan has an open critical vulnerability")

			p, err := build.NewPolicy(build.PolicySpec{FailOn: "", RequireSBOM: true, RequireRevision: true, Rules: p.Spec().Rules})
			require.NoError(t, err)
			b, err := build.New(ctx, dst, "shop", spec, build.Options{Policy: p})
			require.NoError(t, err)
			want := &attest.PolicyResult{Digest: p.Digest().String(), Pass: true}
			require.Equal(t, want, b.Summary().Policy)

			key := newKey(t)
			r, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			assert.Equal(t, want, r.Summary().Policy)
			got, err := release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{})
			require.NoError(t, err)
			assert.Equal(t, want, got.Release.Summary().Policy)
		})
	}
}
