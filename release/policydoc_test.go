package release_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/release"
)

// TestPolicyDoc runs every release policy example of docs/policy.md
// against the release the page describes and checks the decision the page
// shows after it.
func TestPolicyDoc(t *testing.T) {
	raw, err := os.ReadFile("../docs/policy.md")
	require.NoError(t, err)
	doc := string(raw)
	policies := regexp.MustCompile("(?s)<!-- release-policy:([a-z-]+) -->\\s*```json\\n(.*?)```").FindAllStringSubmatch(doc, -1)
	decisions := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)<!-- decision:([a-z-]+) -->\\s*```\\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		decisions[m[1]] = m[2]
	}
	require.GreaterOrEqual(t, len(policies), 9, "the page's examples")
	require.Len(t, decisions, len(policies), "a decision after each example")

	ctx := t.Context()
	dst := memory.New()
	key := newKey(t)
	_, err = release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range policies {
		name := m[1]
		t.Run(name, func(t *testing.T) {
			pol, err := release.ParsePolicy([]byte(m[2]), name+".json")
			require.NoError(t, err)
			v, err := release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{Policy: pol, Now: now})
			require.NotNil(t, v, "%v", err)
			var got strings.Builder
			got.WriteString(string(v.Decision.Verdict) + "\n")
			for _, f := range v.Decision.Findings {
				mark := "note"
				if f.Blocking {
					mark = "block"
				}
				got.WriteString(mark + " " + f.Rule + ": " + f.Message + "\n")
			}
			assert.Equal(t, decisions[name], got.String())
			assert.Equal(t, v.Decision.Go(), err == nil)
		})
	}

	// The compile error the page shows.
	_, err = release.ParsePolicy([]byte(`{"rules":[{"name":"no-critical","expr":"summary.vulnerabilites.open.critical == 0"}]}`), "policy.json")
	require.Error(t, err)
	assert.Contains(t, doc, strings.TrimPrefix(err.Error(), "release: "))
}
