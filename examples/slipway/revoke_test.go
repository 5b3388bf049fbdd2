package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRevoke: revoke attaches a revocation of prod-v2; verify then refuses
// v2 with exit status 1, the reason, who and when, with or without a
// policy, and still accepts v1; a revocation by a key verify does not
// trust changes nothing.
func TestRevoke(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	for _, p := range evidencePlaces(t) {
		t.Run(p.name, func(t *testing.T) {
			keys, others := filepath.Join(t.TempDir(), "k"), filepath.Join(t.TempDir(), "o")
			mustRun(t, "keygen", "--out", keys)
			mustRun(t, "keygen", "--out", others)
			key, pub := filepath.Join(keys, "slipway.key"), filepath.Join(keys, "slipway.pub")
			storeBuild(t, p.place, appTree(t), "v1")
			mustRun(t, "release", p.flag, "--key", key, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
			v2 := lastLine(t, mustRun(t, "release", p.flag, "--key", key, "--build", "v1", "--config", prodConfig(t, "debug"), p.repo))
			ref := p.repo + ":prod"

			// Signed by a key verify does not trust: ignored.
			out := mustRun(t, "revoke", p.flag, "--key", filepath.Join(others, "slipway.key"), "--reason", "not mine to revoke", ref)
			assert.Equal(t, v2+"\n", lastLine(t, out)+"\n")
			mustRun(t, "verify", p.flag, "--key", pub, ref)

			out = mustRun(t, "revoke", p.flag, "--key", key, "--reason", "CVE-2026-9999 is exploited\nroll back to v1", "--revoked-by", "security@example.com", ref)
			assert.Contains(t, out, "Revoked shop v2 in prod: CVE-2026-9999 is exploited; roll back to v1\n")
			assert.Contains(t, out, "Signed: revocation attestation (https://slipway.dev/revocation/v1) by key ")
			assert.Equal(t, v2, lastLine(t, out))

			for _, extra := range [][]string{nil, {"--policy", writeReleasePolicy(t, `{}`)}} {
				args := append([]string{"verify", p.flag, "--key", pub}, extra...)
				code, stdout, stderr := slipway(t, append(args, ref)...)
				assert.Equal(t, exitNo, code, "revoked: %s %s", stdout, stderr)
				assert.True(t, strings.HasPrefix(stdout, "Revoked "+ref+"\n"), stdout)
				assert.Contains(t, stdout, "Release: shop v2 in prod\n")
				assert.Contains(t, stdout, "Reason: CVE-2026-9999 is exploited; roll back to v1\n")
				assert.Regexp(t, `\nRevoked by: security@example\.com at 20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\n`, stdout)
				assert.Contains(t, stdout, "\nKey: ")
				assert.Equal(t, v2, lastLine(t, stdout))
				assert.NotContains(t, stdout, "No-go", "no policy is asked")
				assert.Contains(t, stderr, "slipway: revoked "+ref+": release: verify prod@")
			}
			// The other key's revocation counts once that key is trusted
			// too; it is the earlier one.
			code, stdout, _ := slipway(t, "verify", p.flag, "--key", pub, "--key", filepath.Join(others, "slipway.pub"), ref)
			assert.Equal(t, exitNo, code)
			assert.Contains(t, stdout, "Reason: not mine to revoke\n")
			assert.Contains(t, stdout, "Revoked by: (not named) at ")

			out = mustRun(t, "verify", p.flag, "--key", pub, p.repo+":prod-v1")
			assert.Contains(t, out, "Verified shop v1 in prod\n", "v1 is not revoked")
		})
	}
}

// TestRevokeBadInput: a revocation without a reason, with a reason the
// library refuses, or of something that is not a release stores nothing
// and exits 2.
func TestRevokeBadInput(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	ciEnv(t, nil)
	p := layoutPlace(filepath.Join(t.TempDir(), "shop"))
	keys := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "--out", keys)
	key, pub := filepath.Join(keys, "slipway.key"), filepath.Join(keys, "slipway.pub")
	storeBuild(t, p, appTree(t), "v1")
	mustRun(t, "release", p.flag, "--key", key, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
	ref := p.repo + ":prod"

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no reason", []string{"revoke", p.flag, "--key", key, ref}, `required flag(s) "reason" not set`},
		{"empty reason", []string{"revoke", p.flag, "--key", key, "--reason", " ", ref}, "--reason: empty"},
		{"control character", []string{"revoke", p.flag, "--key", key, "--reason", "bad\x1b[2J", ref}, "RevokeOptions.Reason: invalid options: control character U+001B"},
		{"no key", []string{"revoke", p.flag, "--reason", "r", ref}, `required flag(s) "key" not set`},
		{"not a release", []string{"revoke", p.flag, "--key", key, "--reason", "r", p.repo + ":v1"}, "wrong media type"},
		{"no such tag", []string{"revoke", p.flag, "--key", key, "--reason", "r", p.repo + ":staging"}, "nothing is stored as"},
		{"no tag", []string{"revoke", p.flag, "--key", key, "--reason", "r", p.repo}, "names no tag or digest"},
		{"two refs", []string{"revoke", p.flag, "--key", key, "--reason", "r", ref, ref}, "want one REF argument, got 2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := slipway(t, c.args...)
			assert.Equal(t, exitError, code, stdout)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, c.want)
		})
	}
	out := mustRun(t, "verify", p.flag, "--key", pub, ref)
	assert.Contains(t, out, "Verified shop v1 in prod\n", "nothing was revoked")
}
