package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// TestAdminAndAudit: slipway admin runs a declared admin one-off, passes on
// its exit status, and records every run; slipway audit lists them newest
// first; refusals run nothing and record nothing.
func TestAdminAndAudit(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	const secret = "s3cr3t-admin-test-value"
	t.Setenv("SHOP_DB_PASSWORD", secret)
	places := []place{layoutPlace(filepath.Join(t.TempDir(), "shop")), registryPlace(registrytest.New(t, false), "acme/shop")}
	for _, p := range places {
		t.Run(p.flag, func(t *testing.T) {
			pub := runRelease(t, p, prodConfig(t, "info"))
			key := strings.TrimSuffix(pub, ".pub") + ".key"
			ops := filepath.Join(t.TempDir(), "ops")
			mustRun(t, "keygen", "--out", ops)
			ref := p.repo + ":prod"
			admin := func(args ...string) (int, string, string) {
				return slipway(t, append([]string{"admin", p.flag, "--key", filepath.Join(ops, "slipway.key"), "--verify-key", pub, "--operator", "alice"}, args...)...)
			}

			code, stdout, stderr := admin(ref, "migrate", "--", "up", "$(touch pwned)")
			require.Equal(t, exitOK, code, stderr)
			assert.Equal(t, "info|8080|migrate|up|$(touch pwned)|\n", stdout)
			assert.Contains(t, stderr, "slipway: migrate of shop v1 in prod by alice: exit 0 after ")
			assert.Contains(t, stderr, "audit record signed and attached to "+p.repo+"@sha256:")

			code, _, stderr = admin(ref, "fail")
			assert.Equal(t, 4, code, "the process's exit status")
			assert.Contains(t, stderr, "exit 4 after")

			// Refused: not an admin process, not declared, another key.
			code, _, stderr = admin(ref, "web")
			assert.Equal(t, exitNo, code)
			assert.Contains(t, stderr, "not an admin process")
			code, _, _ = admin(ref, "seed")
			assert.Equal(t, exitNo, code)
			other := filepath.Join(t.TempDir(), "other")
			mustRun(t, "keygen", "--out", other)
			code, _, _ = slipway(t, "admin", p.flag, "--key", filepath.Join(ops, "slipway.key"), "--verify-key", filepath.Join(other, "slipway.pub"), ref, "migrate")
			assert.Equal(t, exitNo, code, "the release does not verify with that key")
			code, _, _ = admin("--policy", writeReleasePolicy(t, `{"environments":["staging"]}`), ref, "migrate")
			assert.Equal(t, exitNo, code, "no-go")

			out := mustRun(t, "audit", p.flag, "--key", filepath.Join(ops, "slipway.pub"), ref)
			assert.Contains(t, out, "Admin runs of shop v1 in prod (")
			assert.Contains(t, out, "): 2\n")
			first, second := strings.Index(out, "  fail \n"), strings.Index(out, "  migrate up $(touch pwned)\n")
			require.True(t, first > 0 && second > first, "newest first:\n%s", out)
			assert.Contains(t, out, "  operator  alice on ")
			assert.Contains(t, out, "  outcome   exit 4 after ")
			assert.Contains(t, out, "  command   bin/hello migrate\n")
			assert.NotContains(t, out, secret)

			out = mustRun(t, "audit", p.flag, "--key", filepath.Join(ops, "slipway.pub"), "--json", ref)
			var recs []release.AuditRecord
			require.NoError(t, json.Unmarshal([]byte(out), &recs))
			require.Len(t, recs, 2)
			assert.Equal(t, []string{"up", "$(touch pwned)"}, recs[1].Args)
			assert.Equal(t, 4, recs[0].ExitCode)

			out = mustRun(t, "audit", p.flag, "--key", pub, ref)
			assert.Contains(t, out, "): 0\n", "records by another key are not listed")

			// A revoked release: refused, nothing recorded.
			mustRun(t, "revoke", p.flag, "--key", key, "--reason", "a bad migration", ref)
			code, _, stderr = admin(ref, "migrate")
			assert.Equal(t, exitNo, code)
			assert.Contains(t, stderr, "revoked")
			out = mustRun(t, "audit", p.flag, "--key", filepath.Join(ops, "slipway.pub"), ref)
			assert.Contains(t, out, "): 2\n")
		})
	}
}
