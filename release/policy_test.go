package release_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/release"
)

// vexCritical is an OpenVEX document that marks the critical finding of
// newEvidenceBuild's scan not_affected in the app "shop".
const vexCritical = `{"@context":"https://openvex.dev/ns/v0.2.0","@id":"https://example.com/acme/shop/vex/2","author":"security@example.com","timestamp":"2026-01-02T00:00:00Z","version":1,
 "statements":[{"vulnerability":{"name":"CVE-2026-1111"},"products":[{"@id":"shop","subcomponents":[{"@id":"pkg:golang/golang.org/x/net@v0.30.0"}]}],"status":"not_affected","justification":"vulnerable_code_not_in_execute_path"}]}`

// scanNewCritical is a vuln predicate of a later scan that finds a new
// critical vulnerability in the build.
const scanNewCritical = `{"scanner":{"uri":"pkg:github/aquasecurity/trivy@0.60.0","version":"0.60.0","result":{"SchemaVersion":2,"Results":[{"Target":"bin/server","Type":"gobinary","Vulnerabilities":[
 {"VulnerabilityID":"CVE-2026-9999","PkgName":"golang.org/x/net","PkgIdentifier":{"PURL":"pkg:golang/golang.org/x/net@v0.30.0"},"InstalledVersion":"v0.30.0","Severity":"CRITICAL"}]}]}},
 "metadata":{"scanStartedOn":"2026-02-01T00:00:00Z","scanFinishedOn":"2026-02-01T00:05:00Z"}}`

func mustPolicy(t *testing.T, doc string) *release.Policy {
	t.Helper()
	p, err := release.ParsePolicy([]byte(doc), "policy.json")
	require.NoError(t, err)
	return p
}

func publicPEM(t *testing.T, k signature.SignerVerifier) string {
	t.Helper()
	pem, err := attest.PublicKeyPEM(k)
	require.NoError(t, err)
	return string(pem)
}

func keyID(t *testing.T, k signature.SignerVerifier) string {
	t.Helper()
	id, err := attest.KeyIDOf(context.Background(), k)
	require.NoError(t, err)
	return id
}

func rules(d *release.Decision) []string {
	var out []string
	for _, f := range d.Findings {
		if f.Blocking {
			out = append(out, f.Rule)
		}
	}
	return out
}

func TestPolicyEvaluate(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key, other := newKey(t), newKey(t)
	r, err := release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
	require.NoError(t, err)
	plain := memory.New()
	bare, err := release.New(ctx, plain, newBuild(t, plain, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
	require.NoError(t, err)
	sum := r.Summary()
	signers := []string{keyID(t, key)}
	june := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	cases := []struct {
		name    string
		policy  string
		rel     *release.Release
		now     time.Time
		block   []string // rules of the blocking findings
		notes   int      // non-blocking findings
		message string   // in one finding
	}{
		{name: "empty policy", policy: `{}`},
		{name: "critical over the limit", policy: `{"maxOpen":{"critical":0}}`, block: []string{"maxOpen"},
			message: "1 open critical vulnerability, at most 0 allowed: CVE-2026-1111"},
		{name: "limits met", policy: `{"maxOpen":{"critical":1,"medium":1,"high":0}}`},
		{name: "medium over the limit", policy: `{"maxOpen":{"medium":0}}`, block: []string{"maxOpen"}, message: "CVE-2026-3333"},
		{name: "exception holds", policy: `{"maxOpen":{"critical":0},"allow":[{"id":"CVE-2026-1111","expires":"2026-12-31","reason":"not reachable"}]}`,
			now: june, notes: 1, message: "CVE-2026-1111 (critical, pkg:golang/golang.org/x/net@v0.30.0) is allowed until 2026-12-31: not reachable"},
		{name: "exception expired", policy: `{"maxOpen":{"critical":0},"allow":[{"id":"CVE-2026-1111","expires":"2026-03-31"}]}`,
			now: june, block: []string{"maxOpen"}, notes: 1, message: "the exception for CVE-2026-1111 expired on 2026-03-31"},
		{name: "no scan with limits", policy: `{"maxOpen":{"critical":0}}`, rel: bare, block: []string{"maxOpen"}, message: "no vulnerability scan"},
		{name: "required signer missing", policy: `{"requiredSigners":[{"name":"security","publicKey":` + quote(publicPEM(t, other)) + `}]}`,
			block: []string{"requiredSigners"}, message: "not signed by security"},
		{name: "required signer present", policy: `{"requiredSigners":[{"name":"release","publicKey":` + quote(publicPEM(t, key)) + `}]}`},
		{name: "builder accepted", policy: `{"builders":["` + release.DefaultBuilderID + `"]}`},
		{name: "builder refused", policy: `{"builders":["https://ci.example.com/builder"]}`, block: []string{"builders"}},
		{name: "source matches", policy: `{"sources":["https://example.com/acme/*"]}`},
		{name: "source refused", policy: `{"sources":["https://example.com/other/*"]}`, block: []string{"sources"},
			message: "source repository https://example.com/acme/shop matches none of https://example.com/other/*"},
		{name: "sbom present", policy: `{"requireSBOM":true}`},
		{name: "sbom missing", policy: `{"requireSBOM":true}`, rel: bare, block: []string{"requireSBOM"}},
		{name: "clean", policy: `{"requireClean":true}`},
		{name: "build fresh", policy: `{"maxBuildAge":"30d"}`, now: created.Add(24 * time.Hour)},
		{name: "build too old", policy: `{"maxBuildAge":"30d"}`, now: june, block: []string{"maxBuildAge"}, message: "the build is 151 days old"},
		{name: "scan too old", policy: `{"maxScanAge":"72h"}`, now: june, block: []string{"maxScanAge"}},
		{name: "scan fresh", policy: `{"maxScanAge":"72h"}`, now: created.Add(time.Hour)},
		{name: "no scan for age", policy: `{"maxScanAge":"72h"}`, rel: bare, block: []string{"maxScanAge"}},
		{name: "environment refused", policy: `{"environments":["staging"]}`, block: []string{"environments"}},
		{name: "environment allowed", policy: `{"environments":["staging","prod"]}`},
		{name: "cel rules pass", policy: `{"rules":[
			{"name":"release-facts","expr":"release.app == 'shop' && release.environment == 'prod' && release.version == 1 && 'PORT' in release.vars && 'DB_PASSWORD' in release.secrets"},
			{"name":"build-facts","expr":"build.files.exists(f, f.path == 'bin/server') && build.source.revision.size() == 40 && build.processes.exists(p, p.name == 'web')"},
			{"name":"summary","expr":"summary.sbom.components == 3 && summary.vulnerabilities.suppressed.exists(s, s.id == 'CVE-2026-2222')"},
			{"name":"signed","expr":"size(signers) == 1"},
			{"name":"time","expr":"now - release.created < duration('24h')"}]}`},
		{name: "cel rule fails", policy: `{"rules":[{"name":"no-x-net","expr":"!summary.vulnerabilities.findings.exists(f, f.package.startsWith('pkg:golang/golang.org/x/net'))","message":"x/net must be upgraded"}]}`,
			block: []string{"no-x-net"}, message: "x/net must be upgraded"},
		{name: "cel evaluation error is no-go", policy: `{"rules":[{"name":"index","expr":"summary.vulnerabilities.scans[5].scanner.name == 'trivy'"}]}`,
			block: []string{"index"}, message: "cannot evaluate"},
		{name: "every finding listed", policy: `{"maxOpen":{"critical":0,"medium":0},"environments":["dev"],"builders":["x"],"rules":[{"name":"never","expr":"false"}]}`,
			block: []string{"maxOpen", "maxOpen", "builders", "environments", "never"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustPolicy(t, c.policy)
			rel, s := r, sum
			if c.rel != nil {
				rel, s = c.rel, c.rel.Summary()
			}
			now := c.now
			if now.IsZero() {
				now = at(2)
			}
			d := p.Evaluate(release.Input{Release: rel, Summary: s, Signers: signers, Now: now})
			assert.Equal(t, c.block, rules(d), "blocking findings: %+v", d.Findings)
			assert.Equal(t, len(c.block) == 0, d.Go())
			assert.Equal(t, len(c.block)+c.notes, len(d.Findings), "%+v", d.Findings)
			assert.Equal(t, p.Digest(), d.Policy)
			assert.Equal(t, rel.Digest(), d.Release.Digest)
			assert.Equal(t, now, d.Time)
			if c.message != "" {
				var all []string
				for _, f := range d.Findings {
					all = append(all, f.Message)
				}
				assert.Contains(t, strings.Join(all, "\n"), c.message)
			}
			err := d.Err()
			if d.Go() {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, release.ErrNoGo)
				var ng *release.NoGoError
				require.ErrorAs(t, err, &ng)
				assert.Same(t, d, ng.Decision)
			}
		})
	}

	t.Run("no release", func(t *testing.T) {
		d := mustPolicy(t, `{}`).Evaluate(release.Input{})
		assert.False(t, d.Go())
		assert.ErrorIs(t, d.Err(), release.ErrNoGo)
	})
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestParsePolicyErrors(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"unknown field", "{\n  \"maxOpen\": {\"critical\": 0},\n  \"maxopen\": 1\n}", `policy.json:3:`},
		{"unknown field message", `{"requireSbom": true}`, `unknown field "requireSbom"`},
		{"syntax", `{"rules": [}`, `policy.json:1:12: invalid policy`},
		{"severity", `{"maxOpen":{"severe":0}}`, `policy.json: maxOpen: invalid policy: severity "severe"`},
		{"negative", `{"maxOpen":{"high":-1}}`, `maxOpen.high: invalid policy: negative limit -1`},
		{"expiry", `{"allow":[{"id":"CVE-1","expires":"next year"}]}`, `allow[0].expires: invalid policy: "next year": want a date`},
		{"empty id", `{"allow":[{"id":"","expires":"2026-01-01"}]}`, `allow[0].id: invalid policy: empty`},
		{"key", `{"requiredSigners":[{"name":"x","publicKey":"not a key"}]}`, `requiredSigners[0].publicKey: invalid policy: not a PEM public key`},
		{"duration", `{"maxBuildAge":"a month"}`, `duration "a month"`},
		{"pattern", `{"sources":["https://[x"]}`, `sources[0]: invalid policy: pattern`},
		{"cel syntax", `{"rules":[{"name":"ok","expr":"true"},{"name":"broken","expr":"summary.sbom.components >"}]}`, `policy.json: rules[1] "broken" at 1:`},
		{"cel type", `{"rules":[{"name":"typed","expr":"summary.sbom.components == 'three'"}]}`, `rules[0] "typed" at 1:25: invalid policy: found no matching overload`},
		{"cel field", `{"rules":[{"name":"field","expr":"release.enviroment == 'prod'"}]}`, `rules[0] "field" at 1:8: invalid policy: undefined field 'enviroment'`},
		{"cel not bool", `{"rules":[{"name":"count","expr":"release.version"}]}`, `want bool`},
		{"typed name", `{"rules":[{"name":"maxOpen","expr":"true"}]}`, `rules[0] "maxOpen": invalid policy: the name of a typed rule`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := release.ParsePolicy([]byte(c.doc), "policy.json")
			require.Error(t, err)
			assert.ErrorIs(t, err, release.ErrInvalidPolicy)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	t.Run("every problem at once", func(t *testing.T) {
		_, err := release.ParsePolicy([]byte(`{"maxOpen":{"severe":0},"environments":[""],"rules":[{"name":"a","expr":"nope"}]}`), "p.json")
		require.Error(t, err)
		for _, want := range []string{"maxOpen", "environments[0]", `rules[0] "a"`} {
			assert.Contains(t, err.Error(), want)
		}
	})
}

func TestPolicyDigest(t *testing.T) {
	a := mustPolicy(t, `{"maxOpen":{"critical":0,"high":2},"maxBuildAge":"30d"}`)
	b := mustPolicy(t, "{\n  \"maxBuildAge\": \"720h\",\n  \"maxOpen\": {\"high\": 2, \"critical\": 0}\n}\n")
	c := mustPolicy(t, `{"maxOpen":{"critical":0,"high":3},"maxBuildAge":"30d"}`)
	assert.Equal(t, a.Digest(), b.Digest(), "layout, key order and the unit of a duration do not change the digest")
	assert.NotEqual(t, a.Digest(), c.Digest())
	spec := a.Spec()
	spec.MaxOpen["high"] = 9
	assert.Equal(t, 2, a.Spec().MaxOpen["high"], "Spec returns a copy")
	again, err := release.NewPolicy(a.Spec())
	require.NoError(t, err)
	assert.Equal(t, a.Digest(), again.Digest())
}

// TestVerifyWithPolicy decides go / no-go in the call that verifies, and
// sees evidence attested after the release: a VEX statement turns the
// no-go into a go, and a new scan's critical finding back into a no-go.
func TestVerifyWithPolicy(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key := newKey(t)
			trusted := []signature.Verifier{key}
			r, err := release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			pol := mustPolicy(t, `{"maxOpen":{"critical":0},"requireSBOM":true}`)
			opts := release.VerifyOptions{Policy: pol, Now: at(2)}

			v, err := release.Verify(ctx, dst, "prod", trusted, opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, release.ErrNoGo)
			var ve *release.VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "policy", ve.Check)
			require.NotNil(t, v, "a no-go returns what verified, with the decision")
			require.NotNil(t, v.Decision)
			assert.False(t, v.Decision.Go())
			assert.Equal(t, []string{"maxOpen"}, rules(v.Decision))
			assert.Equal(t, []string{"CVE-2026-1111"}, v.Decision.Findings[0].Evidence)
			assert.Equal(t, r.Summary(), v.Summary, "nothing attested later: the signed summary")

			// A VEX statement attested later marks the finding not_affected.
			ref, err := release.AttestEvidence(ctx, dst, r, attest.PredicateOpenVEX, []byte(vexCritical), key, release.SignOptions{})
			require.NoError(t, err)
			assert.Equal(t, attest.PredicateOpenVEX, ref.PredicateType)
			v, err = release.Verify(ctx, dst, "prod", trusted, opts)
			require.NoError(t, err)
			require.True(t, v.Decision.Go(), "%+v", v.Decision.Findings)
			assert.Equal(t, 0, v.Summary.Vulnerabilities.Open.Critical)
			assert.Len(t, v.Summary.Evidence, 4)
			assert.Contains(t, v.Summary.Evidence, ref)
			assert.Equal(t, 1, r.Summary().Vulnerabilities.Open.Critical, "the signed summary is unchanged")

			// A VEX document signed by an untrusted key changes nothing.
			stranger := newKey(t)
			_, err = attest.Attest(ctx, dst, r.Descriptor(), attest.PredicateVuln, json.RawMessage(scanNewCritical), stranger, attest.SignOptions{})
			require.NoError(t, err)
			_, err = release.Verify(ctx, dst, "prod", trusted, opts)
			require.NoError(t, err, "evidence by an untrusted key is not read")

			// A new scan finds another critical vulnerability.
			_, err = release.AttestEvidence(ctx, dst, r, attest.PredicateVuln, []byte(scanNewCritical), key, release.SignOptions{})
			require.NoError(t, err)
			v, err = release.Verify(ctx, dst, "prod", trusted, opts)
			require.ErrorIs(t, err, release.ErrNoGo)
			assert.Contains(t, v.Decision.Findings[0].Message, "CVE-2026-9999")
			assert.Equal(t, 1, v.Summary.Vulnerabilities.Open.Critical)

			// Without a policy, verification still succeeds: the
			// release's own summary holds.
			_, err = release.Verify(ctx, dst, "prod", trusted, release.VerifyOptions{})
			assert.NoError(t, err)
		})
	}
}

func TestVerifyRequiredSigner(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key, security := newKey(t), newKey(t)
	r, err := release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	pol := mustPolicy(t, `{"requiredSigners":[{"name":"security team","publicKey":`+quote(publicPEM(t, security))+`}]}`)
	v, err := release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{Policy: pol})
	require.ErrorIs(t, err, release.ErrNoGo)
	assert.Equal(t, "not signed by security team", v.Decision.Findings[0].Message)

	require.NoError(t, attest.Sign(ctx, dst, r.Descriptor(), security, attest.SignOptions{}))
	v, err = release.Verify(ctx, dst, "prod", []signature.Verifier{key}, release.VerifyOptions{Policy: pol})
	require.NoError(t, err)
	assert.True(t, v.Decision.Go())

	// The co-signer's key is not trusted for anything else: a release
	// signed by it alone does not verify.
	_, err = release.Verify(ctx, dst, "prod", []signature.Verifier{newKey(t)}, release.VerifyOptions{Policy: pol})
	assert.ErrorIs(t, err, release.ErrUntrustedKey)
}

func TestDecisionAttestation(t *testing.T) {
	for _, s := range stores(t) {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			dst := s.open(t).(graphTarget)
			key, gate := newKey(t), newKey(t)
			trusted := []signature.Verifier{key}
			r, err := release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
			require.NoError(t, err)
			require.NoError(t, err)
			require.NotNil(t, r)
			requireGate := release.VerifyOptions{DecisionKeys: []signature.Verifier{gate}}

			_, err = release.Verify(ctx, dst, "prod", trusted, requireGate)
			assert.ErrorIs(t, err, release.ErrNoDecision, "no decision recorded yet")

			// The gate decides no-go and records it.
			v, err := release.Verify(ctx, dst, "prod", trusted, release.VerifyOptions{Policy: mustPolicy(t, `{"maxOpen":{"critical":0}}`), Now: at(2)})
			require.ErrorIs(t, err, release.ErrNoGo)
			rec, err := release.RecordDecision(ctx, dst, r, v.Decision, gate, release.DecisionOptions{DecidedBy: "gate@example.com"})
			require.NoError(t, err)
			assert.Equal(t, "gate@example.com", rec.DecidedBy)
			got, err := release.Verify(ctx, dst, "prod", trusted, requireGate)
			assert.ErrorIs(t, err, release.ErrNoGo, "the newest decision by the gate is no-go")
			var ve *release.VerifyError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "decision", ve.Check)
			require.NotNil(t, got.Recorded)
			assert.Equal(t, "gate@example.com", got.Recorded.DecidedBy)

			// A go decision by another key does not count.
			v, err = release.Verify(ctx, dst, "prod", trusted, release.VerifyOptions{Policy: mustPolicy(t, `{}`), Now: at(3)})
			require.NoError(t, err)
			_, err = release.RecordDecision(ctx, dst, r, v.Decision, key, release.DecisionOptions{DecidedBy: "someone"})
			require.NoError(t, err)
			_, err = release.Verify(ctx, dst, "prod", trusted, requireGate)
			assert.ErrorIs(t, err, release.ErrNoGo)

			// A newer go by the gate does.
			_, err = release.RecordDecision(ctx, dst, r, v.Decision, gate, release.DecisionOptions{DecidedBy: "gate@example.com"})
			require.NoError(t, err)
			got, err = release.Verify(ctx, dst, "prod", trusted, requireGate)
			require.NoError(t, err)
			assert.True(t, got.Recorded.Go())
			assert.Equal(t, at(3), got.Recorded.Time)
			assert.Equal(t, r.Digest(), got.Recorded.Release.Digest)
		})
	}
}

func TestRecordDecisionRefusesAnotherRelease(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key := newKey(t)
	b := newEvidenceBuild(t, dst, "shop", "v1")
	r1, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	r2, err := release.New(ctx, dst, b, newConfig(t, "shop", "prod", "debug"), release.Options{Created: at(2), Signer: key})
	require.NoError(t, err)
	d := mustPolicy(t, `{}`).Evaluate(release.Input{Release: r1, Summary: r1.Summary(), Now: at(3)})
	_, err = release.RecordDecision(ctx, dst, r2, d, key, release.DecisionOptions{})
	assert.ErrorIs(t, err, release.ErrInvalidOptions)
}

func TestParseDecision(t *testing.T) {
	good := `{"decision":"no-go","release":{"app":"shop","environment":"prod","version":1,"digest":"sha256:` + strings.Repeat("a", 64) + `"},"policy":"sha256:` + strings.Repeat("b", 64) + `","time":"2026-01-01T00:00:00Z","findings":[{"rule":"maxOpen","message":"m","blocking":true}]}`
	d, err := release.ParseDecision([]byte(good))
	require.NoError(t, err)
	assert.False(t, d.Go())
	for name, bad := range map[string]string{
		"verdict":        strings.Replace(good, `"no-go"`, `"maybe"`, 1),
		"go with blocks": strings.Replace(good, `"no-go"`, `"go"`, 1),
		"unknown field":  strings.Replace(good, `"policy"`, `"extra":1,"policy"`, 1),
		"digest":         strings.Replace(good, `"sha256:aaaa`, `"sha256:zz`, 1),
		"no time":        strings.Replace(good, `"time":"2026-01-01T00:00:00Z",`, ``, 1),
		"not json":       `{"decision":`,
	} {
		_, err := release.ParseDecision([]byte(bad))
		assert.True(t, errors.Is(err, release.ErrMalformed), "%s: %v", name, err)
	}
}

func TestAttestEvidenceRefusesBadInput(t *testing.T) {
	ctx := t.Context()
	dst := memory.New()
	key := newKey(t)
	r, err := release.New(ctx, dst, newEvidenceBuild(t, dst, "shop", "v1"), newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1), Signer: key})
	require.NoError(t, err)
	referrers := func() int {
		preds, err := dst.Predecessors(ctx, r.Descriptor())
		require.NoError(t, err)
		return len(preds)
	}
	att, err := dst.Resolve(ctx, attest.LegacyTag(r.Digest(), ".att"))
	require.NoError(t, err)
	before := referrers()
	for name, c := range map[string]struct {
		typ, data string
		want      error
	}{
		"not json":     {attest.PredicateOpenVEX, `{"@context":`, attest.ErrMalformed},
		"bad vex":      {attest.PredicateOpenVEX, `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"status":"maybe"}]}`, attest.ErrMalformed},
		"bad scan":     {attest.PredicateVuln, `{"scanner":{}}`, attest.ErrMalformed},
		"not evidence": {attest.PredicateSLSAProvenance, `{}`, release.ErrInvalidOptions},
		"sbom refused": {attest.PredicateCycloneDX, `{}`, release.ErrInvalidOptions},
	} {
		_, err := release.AttestEvidence(ctx, dst, r, c.typ, []byte(c.data), key, release.SignOptions{})
		assert.ErrorIs(t, err, c.want, name)
	}
	assert.Equal(t, before, referrers(), "no referrer stored")
	again, err := dst.Resolve(ctx, attest.LegacyTag(r.Digest(), ".att"))
	require.NoError(t, err)
	assert.Equal(t, att.Digest, again.Digest, "the legacy .att tag is unchanged")
}
