package release_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/registrytest"
	"github.com/slipway-dev/slipway/internal/syncbuf"
	"github.com/slipway-dev/slipway/release"
)

// ticker returns a clock that starts at t and moves a second per call.
func ticker(t time.Time) func() time.Time {
	var mu sync.Mutex
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func TestAdminEveryStore(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key, ops := newKey(t), newKey(t)
			secret := newSecret()
			r := runApp(t, dst, key, appConfig)
			trusted := []signature.Verifier{key}
			o, err := release.Open(ctx, dst, "prod", t.TempDir(), trusted, release.OpenOptions{
				Verify: release.VerifyOptions{Policy: mustPolicy(t, `{"environments":["prod"]}`)}, Resolver: resolverOf(secret)})
			require.NoError(t, err)

			var out bytes.Buffer
			rec, err := release.Admin(ctx, dst, o, "migrate", []string{"--to", "42; rm -rf /"}, ops, release.AdminOptions{
				Operator: "alice@example.com", Host: "runner-1", Stdout: &out, Now: ticker(at(5))})
			require.NoError(t, err)
			assert.Equal(t, "hello|migrate|--to|42; rm -rf /|\n", out.String(), "the declared command with the operator's arguments, literally")
			assert.Equal(t, 0, rec.ExitCode)
			assert.Equal(t, "migrate", rec.Process)
			assert.Equal(t, "bin/hello migrate", rec.Command)
			assert.Equal(t, []string{"--to", "42; rm -rf /"}, rec.Args)
			assert.Equal(t, "alice@example.com", rec.Operator)
			assert.Equal(t, "runner-1", rec.Host)
			assert.Equal(t, at(5).Add(time.Second), rec.StartedOn)
			assert.Equal(t, at(5).Add(2*time.Second), rec.FinishedOn)
			assert.Equal(t, digest.FromBytes(out.Bytes()), rec.Stdout.Digest)
			assert.Equal(t, int64(out.Len()), rec.Stdout.Size)
			assert.Equal(t, digest.FromBytes(nil), rec.Stderr.Digest)
			assert.Equal(t, release.DecisionSubject{App: "shop", Environment: "prod", Version: 1, Digest: r.Digest()}, rec.Release)
			assert.NotEmpty(t, rec.Policy)

			// The admin process that prints the secret: its output is
			// the caller's, the record holds only its digest.
			out.Reset()
			rec2, err := release.Admin(ctx, dst, o, "secret", nil, ops, release.AdminOptions{Operator: "bob", Stdout: &out, Now: ticker(at(6))})
			require.NoError(t, err)
			assert.Equal(t, secret, out.String(), "the process gets the same environment as the app's")
			assert.Equal(t, fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(secret))), rec2.Stdout.Digest.String())

			// Refused before anything runs: not declared, not admin.
			_, err = release.Admin(ctx, dst, o, "seed", nil, ops, release.AdminOptions{Operator: "bob"})
			assert.ErrorIs(t, err, release.ErrNoProcess)
			_, err = release.Admin(ctx, dst, o, "web", nil, ops, release.AdminOptions{Operator: "bob"})
			assert.ErrorIs(t, err, release.ErrNotAdmin)
			_, err = release.Admin(ctx, dst, o, "migrate", nil, ops, release.AdminOptions{})
			assert.ErrorIs(t, err, release.ErrInvalidOptions, "an operator is required")

			audits, err := release.Audits(ctx, dst, r, []signature.Verifier{ops})
			require.NoError(t, err)
			require.Len(t, audits, 2, "one per run, in either form counted once")
			assert.Equal(t, "secret", audits[0].Process, "newest first")
			assert.Equal(t, "migrate", audits[1].Process)
			assert.Equal(t, *rec, audits[1].AuditRecord)
			id, err := attest.KeyIDOf(ctx, ops)
			require.NoError(t, err)
			assert.Equal(t, id, audits[0].KeyID)
			none, err := release.Audits(ctx, dst, r, trusted)
			require.NoError(t, err)
			assert.Empty(t, none, "records by another key are left out")

			// Nothing of the environment or of the output is stored.
			res, err := attest.Find(ctx, dst, r.Descriptor(), []signature.Verifier{ops})
			require.NoError(t, err)
			for _, e := range res.Attestations {
				assert.NotContains(t, string(e.Statement.Predicate), secret)
				assert.NotContains(t, string(e.Statement.Predicate), "hello|migrate")
			}
		})
	}
}

// writeScript replaces the extracted file name under dir with a script:
// a migration that fails, without another build.
func writeScript(dir, name, body string) error {
	return os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(body), 0o755)
}

// contextCanceled returns a context that is already canceled.
func contextCanceled(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}

// TestAdminRecordsFailures: a process that exits non-zero, and one that
// cannot run, are recorded with their status.
func TestAdminRecordsFailures(t *testing.T) {
	ctx := t.Context()
	dst := registrytest.New(t, true).Repository(t, "acme/shop")
	key := newKey(t)
	r := runApp(t, dst, key, appConfig)
	o, err := release.Open(ctx, dst, "prod", t.TempDir(), []signature.Verifier{key}, release.OpenOptions{Resolver: resolverOf(newSecret())})
	require.NoError(t, err)

	// The extracted migration is made to fail.
	require.NoError(t, writeScript(o.Dir(), "bin/hello", "#!/bin/sh\necho failing >&2\nexit 3\n"))
	var errOut bytes.Buffer
	rec, err := release.Admin(ctx, dst, o, "migrate", nil, key, release.AdminOptions{Operator: "carol", Stderr: &errOut})
	require.NoError(t, err, "a process that ran to its end is not an error; its status is recorded")
	assert.Equal(t, 3, rec.ExitCode)
	assert.Equal(t, "failing\n", errOut.String())
	assert.Equal(t, digest.FromString("failing\n"), rec.Stderr.Digest)

	canceled, cancel := contextCanceled(t)
	defer cancel()
	rec, err = release.Admin(canceled, dst, o, "migrate", nil, key, release.AdminOptions{Operator: "carol"})
	require.Error(t, err, "a run that cannot start is an error")
	require.NotNil(t, rec)
	assert.Equal(t, -1, rec.ExitCode)
	assert.NotEmpty(t, rec.Error)

	audits, err := release.Audits(ctx, dst, r, []signature.Verifier{key})
	require.NoError(t, err)
	require.Len(t, audits, 2, "both recorded, the failed start too")
	codes := []int{audits[0].ExitCode, audits[1].ExitCode}
	assert.ElementsMatch(t, []int{3, -1}, codes)
}

// TestAdminRefusesRevokedAndNoGo: a revoked release or a no-go cannot be
// opened, so nothing runs and nothing is recorded.
func TestAdminRefusesRevokedAndNoGo(t *testing.T) {
	ctx := t.Context()
	dst := registrytest.New(t, false).Repository(t, "acme/shop")
	key := newKey(t)
	r := runApp(t, dst, key, appConfig)
	trusted := []signature.Verifier{key}
	_, err := release.Open(ctx, dst, "prod", t.TempDir(), trusted, release.OpenOptions{
		Verify: release.VerifyOptions{Policy: mustPolicy(t, `{"environments":["staging"]}`)}, Resolver: resolverOf(newSecret())})
	assert.ErrorIs(t, err, release.ErrNoGo)

	_, err = release.Revoke(ctx, dst, r, key, release.RevokeOptions{Reason: "leaked credentials in the image", RevokedBy: "security"})
	require.NoError(t, err)
	_, err = release.Open(ctx, dst, "prod", t.TempDir(), trusted, release.OpenOptions{Resolver: resolverOf(newSecret())})
	assert.ErrorIs(t, err, release.ErrRevoked)
	audits, err := release.Audits(ctx, dst, r, trusted)
	require.NoError(t, err)
	assert.Empty(t, audits)
}

// TestAdminConcurrentRecords: admin runs against one release and a new
// release of the same app, all at once, from clients of their own, on
// each registry: every audit record is kept, the new release verifies,
// and so does the old one by its version tag.
func TestAdminConcurrentRecords(t *testing.T) {
	const runs = 4
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			key := newKey(t)
			r := runApp(t, reg.Repository(t, "acme/shop"), key, appConfig)
			trusted := []signature.Verifier{key}
			var wg sync.WaitGroup
			errs := make([]error, runs+1)
			for i := range runs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dst := reg.Repository(t, "acme/shop")
					o, err := release.Open(ctx, dst, "prod-v1", t.TempDir(), trusted, release.OpenOptions{Resolver: resolverOf(newSecret())})
					if err != nil {
						errs[i] = err
						return
					}
					_, errs[i] = release.Admin(ctx, dst, o, "migrate", []string{fmt.Sprint(i)}, key, release.AdminOptions{Operator: fmt.Sprintf("op%d", i)})
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				dst := reg.Repository(t, "acme/shop")
				b := r.Build()
				_, errs[runs] = release.New(ctx, dst, b, newConfig(t, "shop", "prod", "debug"), release.Options{Created: at(2), Signer: key})
			}()
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			dst := reg.Repository(t, "acme/shop")
			audits, err := release.Audits(ctx, dst, r, trusted)
			require.NoError(t, err)
			var ops []string
			for _, a := range audits {
				ops = append(ops, a.Operator)
			}
			assert.ElementsMatch(t, []string{"op0", "op1", "op2", "op3"}, ops, "every run's record is kept")
			v, err := release.Verify(ctx, dst, "prod", trusted, release.VerifyOptions{})
			require.NoError(t, err)
			assert.Equal(t, 2, v.Release.Version())
			_, err = release.Verify(ctx, dst, "prod-v1", trusted, release.VerifyOptions{})
			assert.NoError(t, err, "the old release and its records are intact")
			res, err := attest.Find(ctx, dst, r.Descriptor(), trusted)
			require.NoError(t, err)
			legacy := 0
			for _, e := range res.Attestations {
				if e.Form == attest.FormLegacy && e.Statement.PredicateType == release.PredicateAdminRun {
					legacy++
				}
			}
			assert.Equal(t, runs, legacy, "every record in the legacy .att tag too")
		})
	}
}

func TestParseAuditRecord(t *testing.T) {
	good := release.AuditRecord{Release: release.DecisionSubject{App: "shop", Environment: "prod", Version: 1, Digest: digest.FromString("r")},
		Process: "migrate", Command: "bin/shop migrate", Args: []string{}, Operator: "alice", Host: "h",
		StartedOn: at(1), FinishedOn: at(2), Stdout: release.OutputDigest{Digest: digest.FromString("")}, Stderr: release.OutputDigest{Digest: digest.FromString("")}}
	raw, err := json.Marshal(good)
	require.NoError(t, err)
	got, err := release.ParseAuditRecord(raw)
	require.NoError(t, err)
	assert.Equal(t, good, *got)
	for name, bad := range map[string]string{
		"unknown field": string(bytes.Replace(raw, []byte(`"process"`), []byte(`"output":"x","process"`), 1)),
		"ends first":    string(bytes.Replace(raw, []byte(`"finishedOn":"2026-01-01T02:00:00Z"`), []byte(`"finishedOn":"2025-01-01T00:00:00Z"`), 1)),
		"no process":    string(bytes.Replace(raw, []byte(`"process":"migrate"`), []byte(`"process":""`), 1)),
		"bad digest":    string(bytes.Replace(raw, []byte(`"digest":"sha256:`), []byte(`"digest":"md5:`), 1)),
	} {
		_, err := release.ParseAuditRecord([]byte(bad))
		assert.ErrorIs(t, err, release.ErrMalformed, name)
	}
}

// TestAdminStopsGracefully: a canceled run gets SIGTERM and time to end
// its work, and the record says how it ended.
func TestAdminStopsGracefully(t *testing.T) {
	ctx := t.Context()
	dst := registrytest.New(t, true).Repository(t, "acme/shop")
	key := newKey(t)
	r := runApp(t, dst, key, appConfig)
	o, err := release.Open(ctx, dst, "prod", t.TempDir(), []signature.Verifier{key}, release.OpenOptions{Resolver: resolverOf(newSecret())})
	require.NoError(t, err)
	require.NoError(t, writeScript(o.Dir(), "bin/hello", "#!/bin/sh\ntrap 'echo rolled back; exit 7' TERM\necho started\nwhile :; do sleep 0.05; done\n"))
	run, cancel := context.WithCancel(ctx)
	var out syncbuf.Buffer
	go func() {
		for {
			if strings.Contains(out.String(), "started") {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	rec, err := release.Admin(run, dst, o, "migrate", nil, key, release.AdminOptions{Operator: "carol", Stdout: &out, StopDelay: 5 * time.Second})
	require.NotNil(t, rec)
	assert.Contains(t, out.String(), "rolled back", "the process got SIGTERM and ran its handler")
	assert.Equal(t, 7, rec.ExitCode, "it ended with its own status")
	assert.NoError(t, err)
	audits, err := release.Audits(ctx, dst, r, []signature.Verifier{key})
	require.NoError(t, err)
	require.Len(t, audits, 1)
	assert.Equal(t, 7, audits[0].ExitCode)
}
