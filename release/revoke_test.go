package release_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/release"
)

const revokeReason = "CVE-2026-9999 is exploited in the wild\nroll back to v1"

// subject is what a decision or revocation names r by.
func subject(r *release.Release) release.DecisionSubject {
	return release.DecisionSubject{App: r.App(), Environment: r.Environment(), Version: r.Version(), Digest: r.Digest()}
}

// requireRevoked asserts that err refuses r at check "revocation" for the
// revocation want, signed by the key keyID.
func requireRevoked(t *testing.T, err error, r *release.Release, want *release.Revocation, keyID string) {
	t.Helper()
	require.ErrorIs(t, err, release.ErrRevoked)
	var ve *release.VerifyError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "revocation", ve.Check)
	assert.Equal(t, r.Digest(), ve.Digest)
	var re *release.RevokedError
	require.ErrorAs(t, err, &re)
	require.NotNil(t, re.Revocation)
	assert.Equal(t, want.Release, re.Revocation.Release)
	assert.Equal(t, want.Reason, re.Revocation.Reason)
	assert.Equal(t, want.RevokedBy, re.Revocation.RevokedBy)
	assert.True(t, want.Time.Equal(re.Revocation.Time), "time %s, want %s", re.Revocation.Time, want.Time)
	assert.Equal(t, keyID, re.KeyID)
	for _, s := range []string{"release revoked", want.Time.UTC().Format(time.RFC3339), keyID, strconv.Quote(want.Reason)} {
		assert.Contains(t, err.Error(), s)
	}
}

// TestRevoke revokes v2 of a ledger of two: v2 is refused by every ref,
// with and without a policy, and v1 still verifies.
func TestRevoke(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key := newKey(t)
			trusted := []signature.Verifier{key}
			b := newEvidenceBuild(t, dst, "shop", "v1")
			r1, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			r2, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "debug"), release.Options{Created: at(2), Signer: key})
			require.NoError(t, err)
			_, err = release.Verify(ctx, dst, "prod", trusted, release.VerifyOptions{})
			require.NoError(t, err, "verifies before it is revoked")

			rev, err := release.Revoke(ctx, dst, r2, key, release.RevokeOptions{Reason: revokeReason, RevokedBy: "security@example.com", Time: at(3).In(time.FixedZone("CET", 3600))})
			require.NoError(t, err)
			assert.Equal(t, &release.Revocation{Release: subject(r2), Reason: revokeReason, RevokedBy: "security@example.com", Time: at(3)}, rev, "as recorded, in UTC")

			refs := []string{"prod", "prod-v2"}
			if s.name != "memory" { // memory.Store resolves tags only
				refs = append(refs, r2.Digest().String())
			}
			for _, ref := range refs {
				v, err := release.Verify(ctx, dst, ref, trusted, release.VerifyOptions{})
				requireRevoked(t, err, r2, rev, keyID(t, key))
				assert.Nil(t, v, ref)
			}

			// Whatever a policy says: the revocation is checked first.
			v, err := release.Verify(ctx, dst, "prod", trusted, release.VerifyOptions{Policy: mustPolicy(t, `{}`), Now: at(4)})
			requireRevoked(t, err, r2, rev, keyID(t, key))
			assert.NotErrorIs(t, err, release.ErrNoGo)
			assert.Nil(t, v, "no decision is made about a revoked release")

			// The rest of the ledger is not revoked.
			v, err = release.Verify(ctx, dst, "prod-v1", trusted, release.VerifyOptions{Policy: mustPolicy(t, `{"maxOpen":{"critical":1}}`), Now: at(4)})
			require.NoError(t, err)
			assert.Equal(t, r1.Digest(), v.Release.Digest())
			assert.True(t, v.Decision.Go())
		})
	}
}

// TestRevokeByUntrustedKey: a revocation counts only when its key is
// trusted for the release.
func TestRevokeByUntrustedKey(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key, other := newKey(t), newKey(t)
			r, err := release.New(ctx, dst, newBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			rev, err := release.Revoke(ctx, dst, r, other, release.RevokeOptions{Reason: revokeReason, Time: at(2)})
			require.NoError(t, err)

			v, err := release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{})
			require.NoError(t, err, "another key's revocation is ignored")
			assert.Equal(t, r.Digest(), v.Release.Digest())

			_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{key, other}, release.VerifyOptions{})
			requireRevoked(t, err, r, rev, keyID(t, other))
			assert.NotContains(t, err.Error(), " by ", "no one named")
		})
	}
}

// TestRevocationFailsClosed: a revocation a trusted key signed about a
// release that does not parse, or names another release, refuses the
// release; the same by an untrusted key is ignored.
func TestRevocationFailsClosed(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key, other := newKey(t), newKey(t)
			b := newBuild(t, dst, "shop", "v1")
			first, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			rows := []struct {
				name string
				pred func(r *release.Release) any
				want error
			}{
				{"another release's digest", func(*release.Release) any {
					return &release.Revocation{Release: subject(first), Reason: "r", Time: at(3)}
				}, release.ErrSubjectMismatch},
				{"another version", func(r *release.Release) any {
					sub := subject(r)
					sub.Version = 9
					return &release.Revocation{Release: sub, Reason: "r", Time: at(3)}
				}, release.ErrSubjectMismatch},
				{"no reason", func(r *release.Release) any {
					return &release.Revocation{Release: subject(r), Time: at(3)}
				}, attest.ErrMalformed},
				{"unknown field", func(r *release.Release) any {
					raw, err := json.Marshal(&release.Revocation{Release: subject(r), Reason: "r", Time: at(3)})
					require.NoError(t, err)
					return json.RawMessage(strings.Replace(string(raw), `"reason"`, `"undo":true,"reason"`, 1))
				}, attest.ErrMalformed},
				{"release as a string", func(*release.Release) any {
					return json.RawMessage(`{"release":"shop v2","reason":"r","time":"2026-01-01T00:00:00Z"}`)
				}, attest.ErrMalformed},
			}
			for i, row := range rows {
				t.Run(row.name, func(t *testing.T) {
					env := fmt.Sprintf("e%d", i)
					r, err := release.New(ctx, dst, b, newConfig(t, "shop", env, "info"), release.Options{Created: at(2), Signer: key})
					require.NoError(t, err)
					_, err = attest.Attest(ctx, dst, r.Descriptor(), release.PredicateRevocation, row.pred(r), other, attest.SignOptions{})
					require.NoError(t, err)
					_, err = release.Verify(ctx, dst, env, []signature.Verifier{key}, release.VerifyOptions{})
					require.NoError(t, err, "signed by a key not trusted: ignored")

					_, err = attest.Attest(ctx, dst, r.Descriptor(), release.PredicateRevocation, row.pred(r), key, attest.SignOptions{})
					require.NoError(t, err)
					_, err = release.Verify(ctx, dst, env, []signature.Verifier{key}, release.VerifyOptions{Policy: mustPolicy(t, `{}`)})
					require.ErrorIs(t, err, row.want)
					assert.NotErrorIs(t, err, release.ErrRevoked)
					var ve *release.VerifyError
					require.ErrorAs(t, err, &ve)
					assert.Equal(t, "revocation", ve.Check)
					assert.Equal(t, r.Digest(), ve.Digest)
					assert.Contains(t, err.Error(), "by key "+keyID(t, key), "names the key")
				})
			}
			_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{})
			require.NoError(t, err, "a revocation that names a release but is about another does not revoke it")
		})
	}
}

// TestRevocationIsFinal: a go decision recorded after the revocation, by
// a required decision key, does not undo it.
func TestRevocationIsFinal(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key, gate := newKey(t), newKey(t)
			trusted := []signature.Verifier{key}
			r, err := release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			pol := mustPolicy(t, `{}`)
			opts := release.VerifyOptions{Policy: pol, DecisionKeys: []signature.Verifier{gate}, Now: at(5)}
			goAt := func(i int) *release.Decision {
				d := pol.Evaluate(release.Input{Release: r, Summary: r.Summary(), Now: at(i)})
				require.True(t, d.Go())
				return d
			}
			_, err = release.RecordDecision(ctx, dst, r, goAt(2), gate, release.DecisionOptions{DecidedBy: "gate"})
			require.NoError(t, err)
			_, err = release.Verify(ctx, dst, "prod", trusted, opts)
			require.NoError(t, err, "go, before the revocation")

			rev, err := release.Revoke(ctx, dst, r, key, release.RevokeOptions{Reason: revokeReason, RevokedBy: "security@example.com", Time: at(3)})
			require.NoError(t, err)
			_, err = release.RecordDecision(ctx, dst, r, goAt(4), gate, release.DecisionOptions{DecidedBy: "gate"})
			require.NoError(t, err)
			_, err = release.RecordDecision(ctx, dst, r, goAt(4), key, release.DecisionOptions{DecidedBy: "the release key"})
			require.NoError(t, err)

			v, err := release.Verify(ctx, dst, "prod", trusted, opts)
			requireRevoked(t, err, r, rev, keyID(t, key))
			assert.Nil(t, v)
		})
	}
}

// TestRevokeRefusesBadInput: nothing is stored for a revocation without a
// proper reason, or of no release.
func TestRevokeRefusesBadInput(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key := newKey(t)
	r, err := release.New(ctx, dst, newBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	referrers := func() int {
		preds, err := dst.Predecessors(ctx, r.Descriptor())
		require.NoError(t, err)
		return len(preds)
	}
	before := referrers()
	for _, c := range []struct {
		name string
		r    *release.Release
		opts release.RevokeOptions
		want string
	}{
		{"empty reason", r, release.RevokeOptions{}, "RevokeOptions.Reason: invalid options: empty"},
		{"blank reason", r, release.RevokeOptions{Reason: " \n\t"}, "RevokeOptions.Reason: invalid options: empty"},
		{"reason too long", r, release.RevokeOptions{Reason: strings.Repeat("x", 4<<10+1)}, "4097 bytes, at most 4096 allowed"},
		{"control character", r, release.RevokeOptions{Reason: "bad\x1b[31m"}, "control character U+001B at byte 3"},
		{"carriage return", r, release.RevokeOptions{Reason: "bad\r\nline"}, "control character U+000D"},
		{"not UTF-8", r, release.RevokeOptions{Reason: "bad \xff"}, "not UTF-8"},
		{"revokedBy newline", r, release.RevokeOptions{Reason: "r", RevokedBy: "me\nyou"}, "RevokeOptions.RevokedBy: invalid options: control character"},
		{"no release", nil, release.RevokeOptions{Reason: "r"}, "release: revoke: invalid options: no release"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := release.Revoke(ctx, dst, c.r, key, c.opts)
			require.ErrorIs(t, err, release.ErrInvalidOptions)
			assert.Contains(t, err.Error(), c.want)
			assert.Equal(t, before, referrers(), "nothing stored")
		})
	}
	_, err = release.Revoke(ctx, dst, r, nil, release.RevokeOptions{Reason: "r"})
	assert.ErrorIs(t, err, release.ErrInvalidOptions, "no signer")

	_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{})
	require.NoError(t, err)
	rev, err := release.Revoke(ctx, dst, r, key, release.RevokeOptions{Reason: "tabs\tand\nnewlines are fine"})
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), rev.Time, time.Minute, "zero Time: now")
	assert.Equal(t, time.UTC, rev.Time.Location())
}

func TestParseRevocation(t *testing.T) {
	good := `{"release":{"app":"shop","environment":"prod","version":2,"digest":"sha256:` + strings.Repeat("a", 64) + `"},"reason":"exploited","revokedBy":"security@example.com","time":"2026-01-02T03:04:05Z"}`
	rev, err := release.ParseRevocation([]byte(good))
	require.NoError(t, err)
	assert.Equal(t, &release.Revocation{
		Release:   release.DecisionSubject{App: "shop", Environment: "prod", Version: 2, Digest: digest.Digest("sha256:" + strings.Repeat("a", 64))},
		Reason:    "exploited",
		RevokedBy: "security@example.com",
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}, rev)
	for name, c := range map[string]struct{ doc, want string }{
		"unknown field":  {strings.Replace(good, `"reason"`, `"undo":true,"reason"`, 1), `unknown field "undo"`},
		"no reason":      {strings.Replace(good, `"reason":"exploited",`, ``, 1), "reason: empty"},
		"blank reason":   {strings.Replace(good, `"exploited"`, `"  "`, 1), "reason: empty"},
		"control":        {strings.Replace(good, `"exploited"`, `"a\u0007b"`, 1), "reason: control character U+0007"},
		"long reason":    {strings.Replace(good, `"exploited"`, `"`+strings.Repeat("x", 4097)+`"`, 1), "reason: 4097 bytes"},
		"revokedBy tab":  {strings.Replace(good, `"security@`, `"\tsecurity@`, 1), "revokedBy: control character U+0009"},
		"digest":         {strings.Replace(good, `"sha256:aaaa`, `"sha256:zz`, 1), "release: digest"},
		"version":        {strings.Replace(good, `"version":2`, `"version":0`, 1), "release: version 0"},
		"app":            {strings.Replace(good, `"shop"`, `"Shop"`, 1), `release: app "Shop"`},
		"environment":    {strings.Replace(good, `"prod"`, `"prod-v2"`, 1), "release: environment"},
		"no time":        {strings.Replace(good, `,"time":"2026-01-02T03:04:05Z"`, ``, 1), "no time"},
		"trailing data":  {good + `{}`, "data after the revocation"},
		"not json":       {`{"release":`, "malformed"},
		"too large":      {good[:len(good)-1] + `,"x":"` + strings.Repeat(" ", 64<<10) + `"}`, "larger than 65536 bytes"},
		"not an object":  {`[]`, "malformed"},
		"null":           {`null`, "release: app"},
		"wrong type":     {strings.Replace(good, `"version":2`, `"version":"2"`, 1), "malformed"},
		"reason as list": {strings.Replace(good, `"exploited"`, `["exploited"]`, 1), "malformed"},
	} {
		_, err := release.ParseRevocation([]byte(c.doc))
		require.ErrorIs(t, err, release.ErrMalformed, name)
		assert.Contains(t, err.Error(), c.want, name)
		assert.True(t, strings.HasPrefix(err.Error(), "release: revocation: "), "%s: %v", name, err)
	}
}

// TestVerifierRefusesRevoked: a Verifier keeps answering go within the
// TTL, then sees the revocation (a new referrer, so a new cache key),
// verifies fully and refuses, and keeps refusing.
func TestVerifierRefusesRevoked(t *testing.T) {
	eachStore(t, func(t *testing.T, s verifierStore) {
		ctx := t.Context()
		key := newKey(t)
		r, err := release.New(ctx, s.dst, newEvidenceBuild(t, s.dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
		require.NoError(t, err)
		clk := newClock(at(2))
		v := newVerifier(t, s.src, key, release.VerifierOptions{Policy: mustPolicy(t, `{"maxOpen":{"critical":1}}`), TTL: time.Minute, Now: clk.Now})

		d, err := v.Decide(ctx, "prod")
		require.NoError(t, err)
		require.True(t, d.Go())

		rev, err := release.Revoke(ctx, s.dst, r, key, release.RevokeOptions{Reason: revokeReason, RevokedBy: "security@example.com", Time: at(2)})
		require.NoError(t, err)
		clk.Add(59 * time.Second)
		noRequests(t, s, func() { d, err = v.Decide(ctx, "prod") })
		require.NoError(t, err, "within the TTL: the decision kept")
		assert.True(t, d.Go())

		check := func() {
			t.Helper()
			d, err := v.Decide(ctx, "prod")
			requireRevoked(t, err, r, rev, keyID(t, key))
			require.NotNil(t, d)
			assert.False(t, d.Go())
			assert.Equal(t, r.Digest(), d.Release.Digest)
			assert.Equal(t, []release.Finding{{Rule: "verification", Message: err.Error(), Blocking: true}}, d.Findings)
		}
		clk.Add(2 * time.Second)
		check()
		assert.Equal(t, release.VerifierStats{Hits: 1, Misses: 2, Entries: 1}, v.Stats(), "the new referrer changed the key: verified again")

		clk.Add(time.Minute)
		check()
		assert.Equal(t, release.VerifierStats{Hits: 1, Misses: 2, Rechecks: 1, Entries: 1}, v.Stats(), "the refusal is kept while the evidence stays")
	})
}
