package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"
)

// sourceDateEpoch is the creation time of the releases in most tests,
// 2026-01-02T00:00:00Z.
const sourceDateEpoch = "1767312000"

// place is where a test keeps an app's repository: in a registry or in an
// OCI image layout.
type place struct {
	flag string                                 // --plain-http or --oci-layout
	repo string                                 // REF without tag: HOST/REPO or DIR
	open func(t *testing.T) oras.ReadOnlyTarget // a new handle, which sees what the commands stored
}

func registryPlace(reg *registrytest.Registry, repo string) place {
	return place{"--plain-http", reg.Ref(repo), func(t *testing.T) oras.ReadOnlyTarget { return reg.Repository(t, repo) }}
}

func layoutPlace(dir string) place {
	return place{"--oci-layout", dir, func(t *testing.T) oras.ReadOnlyTarget {
		l, err := build.OpenLayout(t.Context(), dir)
		require.NoError(t, err)
		return l
	}}
}

// writeConfig writes a config document of shop in env and returns its path.
func writeConfig(t *testing.T, env string, vars, secrets map[string]string) string {
	t.Helper()
	doc := map[string]any{"app": "shop", "environment": env}
	if vars != nil {
		doc["env"] = vars
	}
	if secrets != nil {
		doc["secrets"] = secrets
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	name := filepath.Join(t.TempDir(), env+".json")
	require.NoError(t, os.WriteFile(name, data, 0o644))
	return name
}

// prodConfig writes the config of shop in prod with LOG_LEVEL level.
func prodConfig(t *testing.T, level string) string {
	t.Helper()
	return writeConfig(t, "prod", map[string]string{"LOG_LEVEL": level, "PORT": "8080"},
		map[string]string{"DB_PASSWORD": "env://SHOP_DB_PASSWORD"})
}

// mustRun runs a command line that must succeed and returns its stdout.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	code, stdout, stderr := slipway(t, args...)
	require.Equal(t, exitOK, code, "slipway %s\nstderr: %s", strings.Join(args, " "), stderr)
	assert.Empty(t, stderr, "slipway %s", strings.Join(args, " "))
	return stdout
}

// storeBuild stores the tree dir as a build of shop at p's repository
// with tag and returns its reference by digest.
func storeBuild(t *testing.T, p place, dir, tag string) string {
	t.Helper()
	return lastLine(t, mustRun(t, "build", p.flag, "--dir", dir, "--app", "shop", "--process", "web=bin/server", p.repo+":"+tag))
}

// refDigest returns the digest of ref, NAME@DIGEST.
func refDigest(t *testing.T, ref string) digest.Digest {
	t.Helper()
	_, d, ok := strings.Cut(ref, "@")
	require.True(t, ok, "%q has no digest", ref)
	return digest.Digest(d)
}

// historyRows returns the rows of history's table, header checked and
// left out, each split into its columns.
func historyRows(t *testing.T, out string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Equal(t, []string{"VERSION", "DIGEST", "BUILD", "CONFIG", "CREATED", "NOTE"}, strings.Fields(lines[0]))
	var rows [][]string
	for _, l := range lines[1:] {
		assert.Equal(t, strings.TrimRight(l, " "), l, "trailing spaces")
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// testLedger runs release, history, rollback and history again at p, and
// checks each against what the library reads back.
func testLedger(t *testing.T, p place) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	buildRef := storeBuild(t, p, appTree(t), "v1")
	buildDigest := refDigest(t, buildRef)

	// v1: the build by tag; REF without tag, so the config's environment.
	out := mustRun(t, "release", p.flag, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
	r1, err := release.Load(t.Context(), p.open(t), "prod")
	require.NoError(t, err)
	assert.Equal(t, p.repo+"@"+r1.Digest().String(), lastLine(t, out))
	assert.Equal(t, 1, r1.Version())
	assert.Equal(t, buildDigest, r1.Build().Digest())
	assert.Equal(t, time.Unix(1767312000, 0).UTC(), r1.Created())
	assert.Contains(t, out, "Released shop v1 to prod\n")
	assert.Contains(t, out, "Build: "+buildRef+"\n")
	assert.Contains(t, out, "Config: "+r1.Config().Digest().String()+" (2 variables, 1 secret reference)\n")
	assert.Contains(t, out, "Tags: prod-v1, prod\n")
	assert.NotContains(t, out, "Previous:")

	// v2: the build by full reference, REF tagged with the environment.
	out = mustRun(t, "release", p.flag, "--build", buildRef, "--config", prodConfig(t, "debug"), p.repo+":prod")
	r2, err := release.Load(t.Context(), p.open(t), "prod")
	require.NoError(t, err)
	assert.Equal(t, p.repo+"@"+r2.Digest().String(), lastLine(t, out))
	assert.Equal(t, 2, r2.Version())
	assert.Equal(t, "debug", r2.Config().Env()["LOG_LEVEL"])
	assert.Contains(t, out, "Previous: v1 "+p.repo+"@"+r1.Digest().String()+"\n")

	rows := historyRows(t, mustRun(t, "history", p.flag, p.repo+":prod"))
	require.Len(t, rows, 2)
	assert.Equal(t, []string{"2", shortDigest(r2.Digest()), shortDigest(buildDigest), shortDigest(r2.Config().Digest()), "2026-01-02T00:00:00Z"}, rows[0])
	assert.Equal(t, []string{"1", shortDigest(r1.Digest()), shortDigest(buildDigest), shortDigest(r1.Config().Digest()), "2026-01-02T00:00:00Z"}, rows[1])

	// v3: back to v1's build and config.
	out = mustRun(t, "rollback", p.flag, "--to", "1", p.repo+":prod")
	r3, err := release.Load(t.Context(), p.open(t), "prod")
	require.NoError(t, err)
	assert.Equal(t, p.repo+"@"+r3.Digest().String(), lastLine(t, out))
	assert.Equal(t, 3, r3.Version())
	assert.Equal(t, 1, r3.RollbackOf())
	assert.Equal(t, r1.Config().Digest(), r3.Config().Digest())
	assert.Contains(t, out, "Rolled back shop in prod to v1: v3 restores its build and config\n")
	assert.Contains(t, out, "Tags: prod-v3, prod\n")

	rows = historyRows(t, mustRun(t, "history", p.flag, "--full", p.repo+":prod"))
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"3", r3.Digest().String(), buildDigest.String(), r1.Config().Digest().String(), "2026-01-02T00:00:00Z", "rollback", "to", "1"}, rows[0])
	assert.Equal(t, "2", rows[1][0])
	assert.Equal(t, "1", rows[2][0])

	// A version tag and a digest name where the history starts.
	assert.Len(t, historyRows(t, mustRun(t, "history", p.flag, p.repo+":prod-v2")), 2)
	assert.Len(t, historyRows(t, mustRun(t, "history", p.flag, p.repo+"@"+r1.Digest().String())), 1)
	assert.Len(t, historyRows(t, mustRun(t, "history", p.flag, "-n", "2", p.repo+":prod")), 2)

	var entries []historyEntry
	require.NoError(t, json.Unmarshal([]byte(mustRun(t, "history", p.flag, "--json", p.repo+":prod")), &entries))
	require.Len(t, entries, 3)
	assert.Equal(t, historyEntry{
		App: "shop", Environment: "prod", Version: 3, Tag: "prod-v3",
		Digest: r3.Digest().String(), Reference: p.repo + "@" + r3.Digest().String(),
		Build: buildDigest.String(), Config: r1.Config().Digest().String(),
		Previous: r2.Digest().String(), Rollback: 1, Created: time.Unix(1767312000, 0).UTC(),
	}, entries[0])
	assert.Empty(t, entries[2].Previous)
	assert.Zero(t, entries[1].Rollback)

	// diff: v2 changed a variable; v3 restored v1.
	out = mustRun(t, "diff", p.flag, p.repo+":prod-v1", "prod-v2")
	assert.Equal(t, "Release 1: "+p.repo+"@"+r1.Digest().String()+" (shop prod v1)\n"+
		"Release 2: "+p.repo+"@"+r2.Digest().String()+" (shop prod v2)\n"+
		"Config: "+shortDigest(r1.Config().Digest())+" -> "+shortDigest(r2.Config().Digest())+"\n"+
		"  ~ LOG_LEVEL: info -> debug\n"+
		"Build: unchanged, "+shortDigest(buildDigest)+"\n", out)
	code, out, stderr := slipway(t, "diff", p.flag, "--exit-code", p.repo+"@"+r1.Digest().String(), p.repo+":prod")
	assert.Equal(t, exitOK, code, "stderr: %s", stderr)
	assert.Contains(t, out, "(shop prod v3, rollback to v1)\nConfig: unchanged, ")
	code, _, stderr = slipway(t, "diff", p.flag, "--exit-code", p.repo+":prod-v2", p.repo+":prod")
	assert.Equal(t, exitNo, code, "stderr: %s", stderr)
	assert.Empty(t, stderr)
}

func TestLedgerRegistry(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials of the machine's user
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) { testLedger(t, registryPlace(reg, "shop")) })
	}
}

func TestLedgerLayout(t *testing.T) {
	testLedger(t, layoutPlace(filepath.Join(t.TempDir(), "shop")))
}

// TestReleaseCreatedNow: without SOURCE_DATE_EPOCH a release is created
// at the current time.
func TestReleaseCreatedNow(t *testing.T) {
	p := layoutPlace(filepath.Join(t.TempDir(), "shop"))
	storeBuild(t, p, appTree(t), "v1")
	before := time.Now().Add(-time.Second)
	mustRun(t, "release", p.flag, "--build", "v1", "--config", prodConfig(t, "info"), p.repo)
	r, err := release.Load(t.Context(), p.open(t), "prod")
	require.NoError(t, err)
	assert.WithinRange(t, r.Created(), before.Truncate(time.Second), time.Now())
}

// TestPlaintextSecret: a config file holding a secret value is refused
// before anything is stored, and the value is printed nowhere and stored
// nowhere.
func TestPlaintextSecret(t *testing.T) {
	const canary = "ghp_" + "sLipWayCanary0123456789abcdefghijklmn" // the shape of a GitHub token
	const canaryPassword = "sl1pway-canary-horse-battery"
	const canaryUserinfo = "sl1pway-canary-userinfo"
	layout := filepath.Join(t.TempDir(), "shop")
	p := layoutPlace(layout)
	storeBuild(t, p, appTree(t), "v1")

	tests := []struct {
		name    string
		vars    map[string]string
		secrets map[string]string
		allow   []string
		want    []string // substrings of the message
	}{
		{name: "value rule", vars: map[string]string{"LOG_LEVEL": "info", "GH": canary},
			want: []string{`"GH"`, "plaintext secret", "github-token", "--allow-plaintext NAME", "env://NAME"}},
		{name: "name rule", vars: map[string]string{"DB_PASSWORD": canaryPassword},
			want: []string{`"DB_PASSWORD"`, "plaintext secret", "name-password"}},
		{name: "both, one allowed", vars: map[string]string{"GH": canary, "DB_PASSWORD": canaryPassword}, allow: []string{"DB_PASSWORD"},
			want: []string{`"GH"`, "github-token"}},
		{name: "credentials in a reference", secrets: map[string]string{"DB": "https://admin:" + canaryUserinfo + "@vault.example/v1/db"},
			want: []string{`"DB"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"release", "--oci-layout", "--build", "v1", "--config", writeConfig(t, "prod", tc.vars, tc.secrets)}
			for _, a := range tc.allow {
				args = append(args, "--allow-plaintext", a)
			}
			code, stdout, stderr := slipway(t, append(args, layout)...)
			assert.Equal(t, exitError, code)
			assert.Empty(t, stdout)
			require.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
			assert.True(t, strings.HasPrefix(stderr, "slipway: --config: "), stderr)
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			for _, c := range []string{canary, canaryPassword, canaryUserinfo} {
				assert.NotContains(t, stderr, c)
			}
		})
	}
	_, err := release.Load(t.Context(), p.open(t), "prod")
	assert.Error(t, err, "no release")
	err = filepath.WalkDir(layout, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		for _, c := range []string{canary, canaryPassword, canaryUserinfo} {
			assert.NotContains(t, string(data), c, path)
		}
		return err
	})
	require.NoError(t, err)

	// Allowed, a value that only looks like a secret is released, named
	// but not shown.
	const lookalike = "AbCdEfGhIjKlMnOpQrStUvWxYz012345" // a build ID, say
	out := mustRun(t, "release", "--oci-layout", "--build", "v1", "--allow-plaintext", "BUILD_ID",
		"--config", writeConfig(t, "prod", map[string]string{"BUILD_ID": lookalike}, nil), layout)
	assert.Contains(t, out, "Allowed plaintext: BUILD_ID (high-entropy)\n")
	assert.NotContains(t, out, lookalike)
}

func TestReleaseBadInput(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	layout := filepath.Join(t.TempDir(), "shop")
	other := filepath.Join(t.TempDir(), "other")
	p := layoutPlace(layout)
	tree := appTree(t)
	storeBuild(t, p, tree, "v1")
	otherBuild := storeBuild(t, layoutPlace(other), appTree(t), "v1") // random bytes: not the build in layout
	prod := prodConfig(t, "info")
	mustRun(t, "release", "--oci-layout", "--build", "v1", "--config", prod, layout)
	cart := filepath.Join(t.TempDir(), "cart.json")
	writeFile(t, cart, `{"app":"cart","environment":"prod"}`)
	broken := filepath.Join(t.TempDir(), "broken.json")
	writeFile(t, broken, `{"app":"shop","environment":"prod","env":{"PORT":8080}}`)
	missing := filepath.Join(t.TempDir(), "missing.json")
	const zeros = "sha256:0000000000000000000000000000000000000000000000000000000000000000"

	tests := []struct {
		name  string
		args  []string
		want  []string // substrings of the message
		usage bool     // an error in the command line: the usage follows
	}{
		{name: "tag is not the environment", args: []string{"release", "--oci-layout", "--build", "v1", "--config", prod, layout + ":staging"},
			want: []string{`tag "staging"`, `"prod"`, prod, "environment"}},
		{name: "missing build", args: []string{"release", "--oci-layout", "--build", "v9", "--config", prod, layout},
			want: []string{"--build " + layout + ":v9", "not found", "slipway build", "oras cp"}},
		{name: "missing build digest", args: []string{"release", "--oci-layout", "--build", zeros, "--config", prod, layout},
			want: []string{"--build " + layout + "@" + zeros, "not found", "slipway build"}},
		{name: "build elsewhere", args: []string{"release", "--oci-layout", "--build", other + ":v1", "--config", prod, layout},
			want: []string{"build not in the store", "the build is in " + other, "oras cp --from-oci-layout --to-oci-layout " + otherBuild + " " + layout + "@" + refDigest(t, otherBuild).String()}},
		{name: "build REF without tag", args: []string{"release", "--oci-layout", "--build", other, "--config", prod, layout},
			want: []string{"--build", "names no tag or digest"}},
		{name: "app mismatch", args: []string{"release", "--oci-layout", "--build", "v1", "--config", cart, layout},
			want: []string{"app or environment mismatch", `"cart"`}},
		{name: "missing config", args: []string{"release", "--oci-layout", "--build", "v1", "--config", missing, layout},
			want: []string{"--config", missing, "no such file"}},
		{name: "invalid config", args: []string{"release", "--oci-layout", "--build", "v1", "--config", broken, layout},
			want: []string{"--config", broken, `"PORT"`, "want a string"}},
		{name: "digest REF", args: []string{"release", "--oci-layout", "--build", "v1", "--config", prod, layout + "@" + zeros},
			want: []string{"names a digest"}},
		{name: "no --build", args: []string{"release", "--oci-layout", "--config", prod, layout},
			want: []string{`required flag(s) "build" not set`}, usage: true},
		{name: "no --config", args: []string{"release", "--oci-layout", "--build", "v1", layout},
			want: []string{`required flag(s) "config" not set`}, usage: true},
		{name: "release without REF", args: []string{"release", "--oci-layout", "--build", "v1", "--config", prod},
			want: []string{"want one REF argument, got 0"}, usage: true},

		{name: "history without tag", args: []string{"history", "--oci-layout", layout},
			want: []string{"names no release", layout + ":prod"}},
		{name: "history of nothing", args: []string{"history", "--oci-layout", layout + ":staging"},
			want: []string{`"staging"`, "not found", "nothing is stored as " + layout + ":staging"}},
		{name: "history negative limit", args: []string{"history", "--oci-layout", "-n", "-1", layout + ":prod"},
			want: []string{"--limit -1"}, usage: true},
		{name: "history of a build", args: []string{"history", "--oci-layout", layout + ":v1"},
			want: []string{"wrong media type"}},

		{name: "rollback without tag", args: []string{"rollback", "--oci-layout", "--to", "1", layout},
			want: []string{"names no environment", layout + ":prod"}},
		{name: "rollback to an unknown version", args: []string{"rollback", "--oci-layout", "--to", "7", layout + ":prod"},
			want: []string{"v7", "no such version", "slipway history"}},
		{name: "rollback of an unknown environment", args: []string{"rollback", "--oci-layout", "--to", "1", layout + ":staging"},
			want: []string{"staging", "no such version"}},
		{name: "rollback to 0", args: []string{"rollback", "--oci-layout", "--to", "0", layout + ":prod"},
			want: []string{"--to 0"}, usage: true},
		{name: "rollback without --to", args: []string{"rollback", "--oci-layout", layout + ":prod"},
			want: []string{`required flag(s) "to" not set`}, usage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assertRefused(t, tc.args, tc.want, tc.usage) })
	}

	// None of that changed the ledger.
	rows := historyRows(t, mustRun(t, "history", "--oci-layout", layout+":prod"))
	assert.Len(t, rows, 1)
}

// TestHistoryBrokenLedger: a release of the ledger gone missing is an
// error that names the version whose link broke.
func TestHistoryBrokenLedger(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	layout := filepath.Join(t.TempDir(), "shop")
	p := layoutPlace(layout)
	storeBuild(t, p, appTree(t), "v1")
	var v1 string
	for i, level := range []string{"info", "debug", "warn"} {
		out := mustRun(t, "release", "--oci-layout", "--build", "v1", "--config", prodConfig(t, level), layout)
		if i == 0 {
			v1 = lastLine(t, out)
		}
	}
	d := refDigest(t, v1)
	require.NoError(t, os.Remove(filepath.Join(layout, "blobs", d.Algorithm().String(), d.Encoded())))

	for _, args := range [][]string{
		{"history", "--oci-layout", layout + ":prod"},
		{"history", "--oci-layout", "--json", layout + ":prod"},
		{"rollback", "--oci-layout", "--to", "1", layout + ":prod"},
	} {
		code, stdout, stderr := slipway(t, args...)
		assert.Equal(t, exitError, code, args)
		assert.Empty(t, stdout, args)
		assert.Contains(t, stderr, "shop prod v2", args)
		assert.Contains(t, stderr, "broken ledger chain", args)
		assert.Contains(t, stderr, d.String(), args)
		assert.Contains(t, stderr, "the ledger is damaged at that version", args)
	}
	// The tag is there, the manifest it names is not: no hint that nothing
	// is stored as prod-v1.
	stderr := assertRefused(t, []string{"diff", "--oci-layout", layout + ":prod-v1", "prod"}, []string{"REF1 " + layout + ":prod-v1", "missing blob"}, false)
	assert.NotContains(t, stderr, "nothing is stored")

	// The releases after the break are still readable on their own.
	assert.Len(t, historyRows(t, mustRun(t, "history", "--oci-layout", "-n", "2", layout+":prod")), 2)
}

func TestRetryConflict(t *testing.T) {
	conflict := fmt.Errorf("release: %w", release.ErrConflict)

	var stderr strings.Builder
	calls := 0
	err := retryConflict(t.Context(), &stderr, time.Millisecond, func() error {
		if calls++; calls < 3 {
			return conflict
		}
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, 3, calls)
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "another publisher changed the ledger; trying again in")
	assert.Contains(t, lines[0], "(attempt 2 of 8)")
	assert.Contains(t, lines[1], "(attempt 3 of 8)")

	calls = 0
	err = retryConflict(t.Context(), io.Discard, time.Millisecond, func() error { calls++; return conflict })
	assert.ErrorIs(t, err, release.ErrConflict)
	assert.Equal(t, conflictAttempts, calls)
	assert.Equal(t, " (gave up after 8 attempts)", hint(err))

	calls = 0
	other := errors.New("no route to host")
	err = retryConflict(t.Context(), io.Discard, time.Millisecond, func() error { calls++; return other })
	assert.Equal(t, other, err)
	assert.Equal(t, 1, calls, "other errors are not retried")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = retryConflict(ctx, io.Discard, time.Hour, func() error { return conflict })
	assert.ErrorIs(t, err, release.ErrConflict)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestOrasRelease: the oras CLI sees a release as an artifact of its
// type, and as a referrer of its build.
func TestOrasRelease(t *testing.T) {
	orasPath := orasCLI(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			p := registryPlace(reg, "shop")
			buildRef := storeBuild(t, p, appTree(t), "v1")
			rel := lastLine(t, mustRun(t, "release", p.flag, "--build", "v1", "--config", prodConfig(t, "info"), p.repo))

			out, err := exec.CommandContext(t.Context(), orasPath, "manifest", "fetch", "--plain-http", p.repo+":prod").Output()
			require.NoError(t, err, "oras manifest fetch: %s", out)
			var m struct {
				ArtifactType string `json:"artifactType"`
				Subject      struct{ Digest digest.Digest }
			}
			require.NoError(t, json.Unmarshal(out, &m))
			assert.Equal(t, release.MediaType, m.ArtifactType)
			assert.Equal(t, refDigest(t, buildRef), m.Subject.Digest)

			out, err = exec.CommandContext(t.Context(), orasPath, "discover", "--plain-http", "--format", "json", buildRef).Output()
			require.NoError(t, err, "oras discover: %s", out)
			var d struct {
				Referrers []struct {
					ArtifactType string        `json:"artifactType"`
					Digest       digest.Digest `json:"digest"`
				} `json:"referrers"`
			}
			require.NoError(t, json.Unmarshal(out, &d), "%s", out)
			require.Len(t, d.Referrers, 1, "%s", out)
			assert.Equal(t, release.MediaType, d.Referrers[0].ArtifactType)
			assert.Equal(t, refDigest(t, rel), d.Referrers[0].Digest)
		})
	}
}

func TestLedgerHelp(t *testing.T) {
	for cmd, want := range map[string][]string{
		"release":  {"slipway release --build BUILD --config FILE [flags] REF", "--allow-plaintext", "SOURCE_DATE_EPOCH", "oras cp", "up to 8 times"},
		"history":  {"slipway history [flags] REF", "--json", "--full", "-n, --limit", "ENV-vN"},
		"rollback": {"slipway rollback --to N [flags] REF", "--to", "never rewritten"},
		"diff":     {"slipway diff [flags] REF1 REF2", "--exit-code", "--full", "secret(URI)", "[hidden:RULE]"},
	} {
		code, stdout, stderr := slipway(t, cmd, "--help")
		assert.Equal(t, exitOK, code)
		assert.Empty(t, stderr)
		for _, w := range append(want, "--plain-http", "--oci-layout") {
			assert.Contains(t, stdout, w, cmd)
		}
	}
}

// TestNoDeletes: a registry without the referrers API that refuses
// deletes, as docker-registry does by default, takes a second release of
// the same build, whose referrers index then changes.
func TestNoDeletes(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			http.Error(w, `{"errors":[{"code":"UNSUPPORTED","message":"deletes are off"}]}`, http.StatusMethodNotAllowed)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/shop"
	p := place{flag: "--plain-http", repo: repo}
	storeBuild(t, p, appTree(t), "v1")
	for _, level := range []string{"info", "debug"} {
		mustRun(t, "release", "--plain-http", "--build", "v1", "--config", prodConfig(t, level), repo)
	}
	out := mustRun(t, "rollback", "--plain-http", "--to", "1", repo+":prod")
	assert.Contains(t, out, "Tags: prod-v3, prod\n")
	assert.Len(t, historyRows(t, mustRun(t, "history", "--plain-http", repo+":prod")), 3)
}
