package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	appconfig "github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/doctest"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/release"

	"github.com/slipway-dev/slipway/internal/syncbuf"
)

var created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// migrateScript is the app's admin one-off: it prints its arguments, the
// plain variable GREETING and the secret DB_PASSWORD, waits for the file
// --wait-for names if given, and exits with the status --exit gives.
const migrateScript = `#!/bin/sh
echo "migrate: args: $*"
echo "migrate: GREETING=$GREETING"
echo "migrate: DB_PASSWORD=$DB_PASSWORD" >&2
code=0
while [ $# -gt 0 ]; do
	case "$1" in
	--exit) code=$2; shift ;;
	--wait-for) while [ ! -e "$2" ]; do sleep 0.02; done; shift ;;
	esac
	shift
done
exit "$code"
`

// secretVar is the runner's environment variable the config's secret
// reference names.
const secretVar = "ADMIN_TEST_DB_PASSWORD"

// keys are the test's keys, the public ones and ops.key as files.
type keys struct {
	release signature.SignerVerifier // signs releases
	ops     signature.Signer         // signs audit records
	opsKey  string                   // ops.key
	opsPub  signature.Verifier
	pub     string // slipway.pub: the release key's public key
	other   string // other.pub: a key nothing was signed with
}

func newKeys(t *testing.T) keys {
	t.Helper()
	dir := t.TempDir()
	gen := func(name string) (signature.SignerVerifier, string, string) {
		priv, pub, err := attest.GenerateKey()
		require.NoError(t, err)
		s, err := attest.LoadPrivateKey(priv, nil)
		require.NoError(t, err)
		privPath, pubPath := filepath.Join(dir, name+".key"), filepath.Join(dir, name+".pub")
		require.NoError(t, os.WriteFile(privPath, priv, 0o600))
		require.NoError(t, os.WriteFile(pubPath, pub, 0o644))
		return s, privPath, pubPath
	}
	rel, _, pub := gen("slipway")
	ops, opsKey, _ := gen("ops")
	_, _, other := gen("other")
	return keys{release: rel, ops: ops, opsKey: opsKey, opsPub: ops, pub: pub, other: other}
}

// publish stores the app's build in dst, once, and releases it to prod
// with greeting as GREETING and the secret DB_PASSWORD from the runner's
// environment, signed by key.
func publish(t *testing.T, dst oras.Target, key signature.Signer, greeting string, at time.Time) *release.Release {
	t.Helper()
	ctx := t.Context()
	b, err := build.New(ctx, dst, "shop", build.Spec{
		Files: []build.File{
			{Name: "bin/web", Reader: strings.NewReader("#!/bin/sh\necho web\n"), Mode: 0o755},
			{Name: "bin/migrate", Reader: strings.NewReader(migrateScript), Mode: 0o755},
		},
		Source: build.Source{Repository: "https://example.com/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567"},
		Processes: []build.Process{
			{Name: "web", Command: "bin/web"},
			{Name: "migrate", Command: "bin/migrate", Admin: true},
		},
		Created: created,
	}, build.Options{})
	require.NoError(t, err)
	c, err := appconfig.New("shop", "prod", appconfig.Spec{
		Env:     map[string]string{"GREETING": greeting},
		Secrets: map[string]string{"DB_PASSWORD": "env://" + secretVar},
	}, appconfig.Options{})
	require.NoError(t, err)
	r, err := release.New(ctx, dst, b, c, release.Options{Created: at, Signer: key})
	require.NoError(t, err)
	return r
}

// store is where a test publishes and where the runner runs: a registry
// repository or an OCI image layout.
type store struct {
	name       string
	dst        oras.GraphTarget // the test's handle
	repository string           // REPOSITORY
	flags      []string         // --plain-http or --oci-layout
	// fresh returns a handle that sees what the runner wrote since dst
	// was opened (a layout handle reads the index it loaded).
	fresh func(t *testing.T) oras.GraphTarget
}

func stores(t *testing.T) []store {
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no credentials, and none of the user's
	var out []store
	for _, referrers := range []bool{true, false} {
		reg := registrytest.New(t, referrers)
		repo := reg.Repository(t, "acme/shop")
		out = append(out, store{
			name: reg.Name, dst: repo, repository: reg.Host + "/acme/shop", flags: []string{"--plain-http"},
			fresh: func(*testing.T) oras.GraphTarget { return repo },
		})
	}
	dir := t.TempDir()
	l, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	out = append(out, store{
		name: "oci-layout", dst: l, repository: dir, flags: []string{"--oci-layout"},
		fresh: func(t *testing.T) oras.GraphTarget {
			l, err := build.OpenLayout(t.Context(), dir)
			require.NoError(t, err)
			return l
		},
	})
	return out
}

// result is what one run of the runner printed and returned.
type result struct {
	code   int
	stdout string
	stderr string
	report report
}

// runAdmin runs the runner with args and decodes its report, which must
// be exactly one JSON object.
func runAdmin(t *testing.T, ctx context.Context, stderr *syncbuf.Buffer, args ...string) result {
	t.Helper()
	var stdout bytes.Buffer
	if stderr == nil {
		stderr = &syncbuf.Buffer{}
	}
	code := run(ctx, args, &stdout, stderr)
	res := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&res.report), "stdout: %s\nstderr: %s", res.stdout, res.stderr)
	assert.False(t, dec.More(), "one JSON object: %s", res.stdout)
	return res
}

// args is the runner's command line: the keys, the operator, the store's
// flags, then rest.
func (k keys) args(s store, rest ...string) []string {
	a := []string{"--key", k.opsKey, "--verify-key", k.pub, "--operator", "@alice"}
	a = append(a, s.flags...)
	return append(a, rest...)
}

// audits returns the audit records of r signed by the ops key.
func audits(t *testing.T, s store, k keys, r *release.Release) []release.Audit {
	t.Helper()
	as, err := release.Audits(t.Context(), s.fresh(t), r, []signature.Verifier{k.opsPub})
	require.NoError(t, err)
	return as
}

func writeFile(t *testing.T, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "file.json")
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}

// TestRun runs the migration, one that fails, and refusals, in every kind
// of store.
func TestRun(t *testing.T) {
	secret := "s3cr3t-" + strings.Repeat("x", 12)
	t.Setenv(secretVar, secret)
	k := newKeys(t)
	goPolicy := writeFile(t, `{"environments":["prod"]}`)
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			r := publish(t, s.dst, k.release, "hello", created)

			t.Run("ok", func(t *testing.T) {
				res := runAdmin(t, ctx, nil, k.args(s, "--policy", goPolicy, s.repository, "prod", "migrate", "--", "--to", "42")...)
				require.Equal(t, exitOK, res.code, res.stderr)
				rep := res.report
				assert.Equal(t, statusOK, rep.Status)
				assert.Equal(t, &subject{App: "shop", Environment: "prod", Version: 1, Digest: r.Digest()}, rep.Release)
				assert.Equal(t, "migrate", rep.Process)
				assert.Equal(t, []string{"--to", "42"}, rep.Args)
				assert.Equal(t, "@alice", rep.Operator)
				require.NotNil(t, rep.ExitCode)
				assert.Equal(t, 0, *rep.ExitCode)
				assert.Empty(t, rep.Reason)
				require.NotNil(t, rep.Decision, "a policy was given")
				assert.True(t, rep.Decision.Go())
				require.NotNil(t, rep.Audit)
				assert.Equal(t, r.Digest(), rep.Audit.Release.Digest)
				assert.Equal(t, rep.Decision.Policy, rep.Audit.Policy)
				assert.Equal(t, "@alice", rep.Audit.Operator)
				assert.Equal(t, []string{"--to", "42"}, rep.Audit.Args)

				as := audits(t, s, k, r)
				require.Len(t, as, 1)
				assert.Equal(t, *rep.Audit, as[0].AuditRecord, "the report holds the record as stored")

				// The process's output went to stderr, the job's log; the
				// report holds neither it nor the secret.
				assert.Contains(t, res.stderr, "migrate: args: --to 42\n")
				assert.Contains(t, res.stderr, "migrate: GREETING=hello\n")
				assert.Contains(t, res.stderr, "pinned for this run")
				assert.Contains(t, res.stderr, "admin: ok: migrate of shop v1 in prod by @alice: exit 0")
				assert.NotContains(t, res.stdout, secret)
				assert.NotContains(t, res.stdout, "GREETING=hello")
				assert.NotContains(t, res.stdout, "migrate: args")
				t.Logf("report: %s", res.stdout)
			})

			t.Run("failed", func(t *testing.T) {
				before := len(audits(t, s, k, r))
				res := runAdmin(t, ctx, nil, k.args(s, s.repository, "prod", "migrate", "--", "--exit", "3")...)
				assert.Equal(t, 3, res.code, "the process's status")
				assert.Equal(t, statusFailed, res.report.Status)
				require.NotNil(t, res.report.ExitCode)
				assert.Equal(t, 3, *res.report.ExitCode)
				require.NotNil(t, res.report.Audit)
				assert.Equal(t, 3, res.report.Audit.ExitCode)
				assert.Nil(t, res.report.Decision, "no policy given")
				assert.Len(t, audits(t, s, k, r), before+1, "recorded")
			})

			t.Run("refused", func(t *testing.T) {
				noGo := writeFile(t, `{"environments":["staging"]}`)
				for _, tc := range []struct {
					name     string
					args     []string
					reason   string
					decision bool
					verified bool // the report names the release by its record
				}{
					{"not admin", k.args(s, s.repository, "prod", "web"), "not an admin process", false, true},
					{"unknown process", k.args(s, s.repository, "prod", "seed"), "no such process", false, true},
					{"no-go", k.args(s, "--policy", noGo, s.repository, "prod", "migrate"), "policy: no-go: ", true, true},
					{"untrusted key", []string{"--key", k.opsKey, "--verify-key", k.other, "--operator", "@alice", s.flags[0], s.repository, "prod", "migrate"},
						"signature: no trusted key verifies the signature: ", false, false},
				} {
					t.Run(tc.name, func(t *testing.T) {
						before := len(audits(t, s, k, r))
						res := runAdmin(t, ctx, nil, tc.args...)
						assert.Equal(t, exitRefused, res.code, res.stderr)
						assert.Equal(t, statusRefused, res.report.Status)
						assert.Contains(t, res.report.Reason, tc.reason)
						assert.Nil(t, res.report.Audit)
						assert.Nil(t, res.report.ExitCode)
						assert.Equal(t, tc.decision, res.report.Decision != nil)
						require.NotNil(t, res.report.Release)
						assert.Equal(t, r.Digest(), res.report.Release.Digest, "pinned before it was refused")
						if tc.verified {
							assert.Equal(t, &subject{App: "shop", Environment: "prod", Version: 1, Digest: r.Digest()}, res.report.Release)
						} else {
							assert.Equal(t, &subject{Digest: r.Digest()}, res.report.Release, "nothing unverified is named")
						}
						assert.NotContains(t, res.stderr, "migrate: args", "nothing ran")
						assert.Len(t, audits(t, s, k, r), before, "nothing recorded")
					})
				}
			})

			t.Run("dry run", func(t *testing.T) {
				before := len(audits(t, s, k, r))
				res := runAdmin(t, ctx, nil, k.args(s, "--dry-run", "--policy", goPolicy, s.repository, "prod", "migrate", "--", "--to", "42")...)
				assert.Equal(t, exitOK, res.code, res.stderr)
				assert.Equal(t, statusOK, res.report.Status)
				assert.True(t, res.report.DryRun)
				assert.Nil(t, res.report.Audit)
				assert.Nil(t, res.report.ExitCode)
				require.NotNil(t, res.report.Decision)
				assert.True(t, res.report.Decision.Go())
				assert.NotContains(t, res.stderr, "migrate: args", "nothing ran")
				assert.Contains(t, res.stderr, "would be allowed")

				res = runAdmin(t, ctx, nil, k.args(s, "--dry-run", s.repository, "prod", "web")...)
				assert.Equal(t, exitRefused, res.code)
				assert.Equal(t, statusRefused, res.report.Status)
				assert.Contains(t, res.report.Reason, "not an admin process")
				assert.Len(t, audits(t, s, k, r), before, "nothing recorded")
			})
		})
	}
}

// TestRevoked: a revoked release is refused and nothing is recorded.
func TestRevoked(t *testing.T) {
	t.Setenv(secretVar, "s3cr3t")
	k := newKeys(t)
	s := stores(t)[0]
	r := publish(t, s.dst, k.release, "hello", created)
	_, err := release.Revoke(t.Context(), s.dst, r, k.release, release.RevokeOptions{Reason: "leaked credentials", RevokedBy: "security"})
	require.NoError(t, err)

	res := runAdmin(t, t.Context(), nil, k.args(s, s.repository, "prod", "migrate")...)
	assert.Equal(t, exitRefused, res.code, res.stderr)
	assert.Equal(t, statusRefused, res.report.Status)
	assert.Contains(t, res.report.Reason, "revocation: release revoked: ")
	assert.Nil(t, res.report.Audit)
	assert.Empty(t, audits(t, s, k, r))
}

// TestResolveOnce: a release that lands on prod while the migration runs
// does not change which release ran, nor which release the record is
// about.
func TestResolveOnce(t *testing.T) {
	t.Setenv(secretVar, "s3cr3t")
	k := newKeys(t)
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			v1 := publish(t, s.dst, k.release, "hello", created)
			release := filepath.Join(t.TempDir(), "v2-landed")
			logs := &syncbuf.Buffer{}
			done := make(chan result, 1)
			go func() {
				done <- runAdmin(t, t.Context(), logs, k.args(s, s.repository, "prod", "migrate", "--", "--wait-for", release)...)
			}()
			require.Eventually(t, func() bool { return strings.Contains(logs.String(), "migrate: args") }, 30*time.Second, 10*time.Millisecond,
				"the migration starts: %s", logs.String())

			// v2 lands while v1's migration runs, through a handle of its own.
			v2 := publish(t, s.fresh(t), k.release, "bonjour", created.Add(time.Hour))
			require.NotEqual(t, v1.Digest(), v2.Digest())
			require.NoError(t, os.WriteFile(release, nil, 0o644))

			res := <-done
			require.Equal(t, exitOK, res.code, res.stderr)
			assert.Equal(t, v1.Digest(), res.report.Release.Digest)
			assert.Equal(t, 1, res.report.Release.Version)
			require.NotNil(t, res.report.Audit)
			assert.Equal(t, v1.Digest(), res.report.Audit.Release.Digest, "the record names the release that ran")
			assert.Contains(t, res.stderr, "GREETING=hello", "v1's environment")
			assert.Len(t, audits(t, s, k, v1), 1)

			// The next run takes v2.
			res = runAdmin(t, t.Context(), nil, k.args(s, s.repository, "prod", "migrate")...)
			require.Equal(t, exitOK, res.code, res.stderr)
			assert.Equal(t, v2.Digest(), res.report.Release.Digest)
			assert.Contains(t, res.stderr, "GREETING=bonjour")
		})
	}
}

// TestHead: the pinned head keeps the checks release.Open makes of a head.
// A head tag moved back to an older release is refused; a release that
// lands between the resolve and the check is an error to run again, not a
// refusal.
func TestHead(t *testing.T) {
	t.Setenv(secretVar, "s3cr3t")
	k := newKeys(t)
	s := stores(t)[0]
	ctx := t.Context()
	v1 := publish(t, s.dst, k.release, "hello", created)
	desc, err := s.dst.Resolve(ctx, "prod")
	require.NoError(t, err)
	require.Equal(t, v1.Digest(), desc.Digest)
	publish(t, s.dst, k.release, "bonjour", created.Add(time.Hour))

	// v2 landed after prod was resolved to v1, before v1 was checked.
	_, err = release.Open(ctx, pinned{ReadOnlyGraphTarget: s.dst, tag: "prod", desc: desc}, "prod", t.TempDir(),
		[]signature.Verifier{k.release}, release.OpenOptions{Resolver: appconfig.EnvResolver{}})
	require.ErrorIs(t, err, release.ErrNotHead)
	status, code, err := openFailure(ctx, s.dst, "prod", desc, err)
	assert.Equal(t, statusError, status)
	assert.Equal(t, exitError, code)
	assert.ErrorContains(t, err, "run again")

	// prod moved back to v1 while v2 exists.
	require.NoError(t, s.dst.Tag(ctx, desc, "prod"))
	res := runAdmin(t, ctx, nil, k.args(s, s.repository, "prod", "migrate")...)
	assert.Equal(t, exitRefused, res.code, res.stderr)
	assert.Equal(t, statusRefused, res.report.Status)
	assert.Contains(t, res.report.Reason, "ledger: head tag does not name the newest release: ")
	assert.Empty(t, audits(t, s, k, v1))
}

// TestCanceled: --timeout, and a signal (a canceled context, as main
// makes of SIGINT and SIGTERM), kill the process; the run is recorded.
func TestCanceled(t *testing.T) {
	t.Setenv(secretVar, "s3cr3t")
	k := newKeys(t)
	s := stores(t)[0]
	r := publish(t, s.dst, k.release, "hello", created)
	never := filepath.Join(t.TempDir(), "never")

	t.Run("timeout", func(t *testing.T) {
		res := runAdmin(t, t.Context(), nil, k.args(s, "--timeout", "2s", s.repository, "prod", "migrate", "--", "--wait-for", never)...)
		assert.Equal(t, 128+15, res.code, "SIGTERM first: "+res.stderr)
		assert.Equal(t, statusFailed, res.report.Status)
		assert.Contains(t, res.report.Reason, "--timeout 2s passed")
		require.NotNil(t, res.report.Audit)
		assert.Equal(t, -1, res.report.Audit.ExitCode)
	})

	t.Run("signal", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		logs := &syncbuf.Buffer{}
		go func() {
			if assert.Eventually(t, func() bool { return strings.Contains(logs.String(), "migrate: args") }, 30*time.Second, 10*time.Millisecond) {
				cancel()
			}
		}()
		res := runAdmin(t, ctx, logs, k.args(s, s.repository, "prod", "migrate", "--", "--wait-for", never)...)
		assert.Equal(t, 128+15, res.code, "SIGTERM first: "+res.stderr)
		assert.Equal(t, statusFailed, res.report.Status)
		assert.Contains(t, res.report.Reason, "canceled")
		require.NotNil(t, res.report.Audit)
	})

	as := audits(t, s, k, r)
	require.Len(t, as, 2, "both runs recorded")
	for _, a := range as {
		assert.Equal(t, -1, a.ExitCode)
		assert.NotEmpty(t, a.Error)
	}
}

// TestBadInput: bad flags and arguments exit 2 with an error report, and
// nothing runs.
func TestBadInput(t *testing.T) {
	t.Setenv(secretVar, "s3cr3t")
	k := newKeys(t)
	s := stores(t)[0]
	publish(t, s.dst, k.release, "hello", created)
	badPolicy := writeFile(t, `{"environments":`)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no arguments", nil, "want REPOSITORY, ENVIRONMENT and PROCESS"},
		{"no key", []string{"--verify-key", k.pub, "--operator", "@alice", s.repository, "prod", "migrate"}, `"key" not set`},
		{"no verify key", []string{"--key", k.opsKey, "--operator", "@alice", s.repository, "prod", "migrate"}, `"verify-key" not set`},
		{"no operator", []string{"--key", k.opsKey, "--verify-key", k.pub, s.repository, "prod", "migrate"}, `"operator" not set`},
		{"blank operator", []string{"--key", k.opsKey, "--verify-key", k.pub, "--operator", " ", s.repository, "prod", "migrate"}, "--operator"},
		{"no process", k.args(s, s.repository, "prod"), "want REPOSITORY, ENVIRONMENT and PROCESS"},
		{"args before --", k.args(s, s.repository, "prod", "migrate", "x", "--", "y"), "before --"},
		{"process flag without --", k.args(s, s.repository, "prod", "migrate", "--to", "42"), "unknown flag: --to"},
		{"plain http and layout", k.args(s, "--oci-layout", s.repository, "prod", "migrate"), "none of the others can be"},
		{"negative timeout", k.args(s, "--timeout", "-1s", s.repository, "prod", "migrate"), "--timeout"},
		{"bad timeout", k.args(s, "--timeout", "soon", s.repository, "prod", "migrate"), "--timeout"},
		{"bad policy", k.args(s, "--policy", badPolicy, s.repository, "prod", "migrate"), "--policy"},
		{"missing key file", []string{"--key", filepath.Join(t.TempDir(), "none.key"), "--verify-key", k.pub, "--operator", "@alice", "--plain-http", s.repository, "prod", "migrate"}, "--key"},
		{"public key as key", []string{"--key", k.pub, "--verify-key", k.pub, "--operator", "@alice", "--plain-http", s.repository, "prod", "migrate"}, "--key"},
		{"repository with tag", k.args(s, s.repository+":prod", "prod", "migrate"), "without a tag"},
		{"environment not a tag", k.args(s, s.repository, "prod/eu", "migrate"), "ENVIRONMENT"},
		{"no such environment", k.args(s, s.repository, "staging", "migrate"), `no tag "staging"`},
		{"version tag", k.args(s, s.repository, "prod-v1", "migrate"), "give the environment's name"},
		{"no layout", []string{"--key", k.opsKey, "--verify-key", k.pub, "--operator", "@alice", "--oci-layout", filepath.Join(t.TempDir(), "none"), "prod", "migrate"}, "not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := runAdmin(t, t.Context(), nil, tc.args...)
			assert.Equal(t, exitError, res.code, res.stderr)
			assert.Equal(t, statusError, res.report.Status)
			assert.Contains(t, res.report.Reason, tc.want)
			assert.Nil(t, res.report.Audit)
			assert.NotContains(t, res.stderr, "migrate: args", "nothing ran")
			assert.Contains(t, res.stderr, "admin: error")
		})
	}
}

// TestHelp: usage goes to stderr; stdout stays the bot's.
func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitOK, run(t.Context(), []string{"--help"}, &stdout, &stderr))
	assert.Empty(t, stdout.String())
	assert.Contains(t, stderr.String(), "--dry-run")
}

// TestReadme: the reports README.md shows have the fields, and the
// release and policy digests, that the runner writes now.
func TestReadme(t *testing.T) {
	t.Setenv(secretVar, "s3cr3t")
	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	doc := string(raw)
	k := newKeys(t)
	s := stores(t)[0]
	publish(t, s.dst, k.release, "hello", created)
	for _, tc := range []struct {
		block, policy string
		args          []string
	}{
		{"report-ok", `{"environments":["prod"]}`, []string{"migrate", "--", "--to", "42"}},
		{"report-refused", `{"environments":["staging"]}`, []string{"migrate"}},
	} {
		t.Run(tc.block, func(t *testing.T) {
			res := runAdmin(t, t.Context(), nil, k.args(s, append([]string{"--policy", writeFile(t, tc.policy), s.repository, "prod"}, tc.args...)...)...)
			var got, want map[string]any
			require.NoError(t, json.Unmarshal([]byte(res.stdout), &got))
			require.NoError(t, json.Unmarshal(doctest.JSONBlock(t, doc, tc.block), &want))
			assert.Equal(t, keyPaths(want, ""), keyPaths(got, ""))
			for _, path := range [][]string{{"release", "digest"}, {"decision", "policy"}, {"status"}, {"reason"}} {
				assert.Equal(t, field(want, path...), field(got, path...), "%v", path)
			}
		})
	}
}

// keyPaths lists the paths of the object keys in v: "audit.stdout.digest".
func keyPaths(v any, prefix string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			out = append(out, prefix+k)
			out = append(out, keyPaths(e, prefix+k+".")...)
		}
	case []any:
		for _, e := range v {
			out = append(out, keyPaths(e, prefix+"[].")...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// field returns the value at path in v, nil if there is none.
func field(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
