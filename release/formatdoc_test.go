package release_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/doctest"
	"github.com/slipway-dev/slipway/release"
)

// TestFormatDoc checks that the config and release examples in
// docs/format.md are what config.New and release.New write, byte for byte:
// the build is the one of the build section, the config the one of the
// config section.
func TestFormatDoc(t *testing.T) {
	doc, _, v1, v2 := docLedger(t)
	rec, _ := v2.Record()
	if os.Getenv("SLIPWAY_PRINT_DOC") != "" {
		var p bytes.Buffer
		json.Indent(&p, rec, "", "  ")
		t.Logf("record:\n%s", p.String())
		p.Reset()
		json.Indent(&p, v2.Manifest(), "", "  ")
		t.Logf("manifest:\n%s\nv1 %s v2 %s", p.String(), v1.Digest(), v2.Digest())
	}
	assert.Equal(t, string(rec), string(doctest.JSONBlock(t, doc, "release-record")))
	assert.Equal(t, string(v2.Manifest()), string(doctest.JSONBlock(t, doc, "release-manifest")))
	assert.Contains(t, doc, "`"+v1.Digest().String()+"`")
	assert.Contains(t, doc, "`"+v2.Digest().String()+"`")
	for _, s := range []string{config.MediaType, release.MediaType, release.LockMediaType, release.ClaimMediaType,
		release.AnnotationRound, release.AnnotationRelease, release.ConfigTitle} {
		assert.Contains(t, doc, "`"+s+"`")
	}
}

// docLedger returns docs/format.md and a memory store holding the ledger
// its release section describes: the build of the build section and two
// releases to prod, v2 with the config of the config section and
// LOG_LEVEL=debug.
func docLedger(t *testing.T) (string, *memory.Store, *release.Release, *release.Release) {
	t.Helper()
	raw, err := os.ReadFile("../docs/format.md")
	require.NoError(t, err)
	doc := string(raw)
	ctx := t.Context()
	repo := memory.New()
	b, err := build.New(ctx, repo, "shop", build.Spec{
		Files: []build.File{
			{Name: "bin/shop", Reader: strings.NewReader("#!/bin/sh\necho shop\n"), Mode: 0o755},
			{Name: "bin/current", Linkname: "shop"},
			{Name: "Procfile", Reader: strings.NewReader("web: bin/shop\n")},
		},
		Source:    build.Source{Repository: "https://example.invalid/acme/shop", Revision: "4f1c2e9d0b8a7c6e5f4d3c2b1a09f8e7d6c5b4a3"},
		Builder:   "https://example.invalid/ci/runs/7",
		Processes: []build.Process{{Name: "web", Command: "bin/shop"}, {Name: "migrate", Command: "bin/shop migrate", Admin: true}},
		Created:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}, build.Options{})
	require.NoError(t, err)
	c, err := config.Parse(doctest.JSONBlock(t, doc, "config"), config.Options{})
	require.NoError(t, err)
	assert.Equal(t, string(doctest.JSONBlock(t, doc, "config")), string(c.Bytes()))

	v1, err := release.New(ctx, repo, b, c, release.Options{Created: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	c2, err := c.WithVar("LOG_LEVEL", "debug")
	require.NoError(t, err)
	v2, err := release.New(ctx, repo, b, c2, release.Options{Created: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	return doc, repo, v1, v2
}

// TestFormatDocSignatures checks the section on signatures and
// attestations against what release.Sign writes for v2 of the release
// section: statements, provenance, the legacy payload and config byte for
// byte; bundles and manifests byte for byte but for the values a new
// signature changes, which are taken from the page.
func TestFormatDocSignatures(t *testing.T) {
	doc, repo, _, v2 := docLedger(t)
	ctx := t.Context()
	key := newKey(t)
	require.NoError(t, release.Sign(ctx, repo, v2, key, release.SignOptions{}))
	res, err := attest.Verify(ctx, repo, v2.Descriptor(), []signature.Verifier{key}, attest.VerifyOptions{Require: []string{attest.PredicateSLSAProvenance}})
	require.NoError(t, err)
	fetch := func(d ocispec.Descriptor) []byte {
		raw, err := content.FetchAll(ctx, repo, d)
		require.NoError(t, err)
		return raw
	}
	pick := func(list []attest.Evidence, form string) attest.Evidence {
		for _, e := range list {
			if e.Form == form {
				return e
			}
		}
		t.Fatalf("no %s evidence", form)
		return attest.Evidence{}
	}
	sigBundle, sigLegacy := pick(res.Signatures, attest.FormBundle), pick(res.Signatures, attest.FormLegacy)
	provBundle, provLegacy := pick(res.Attestations, attest.FormBundle), pick(res.Attestations, attest.FormLegacy)

	bundleRaw := fetch(sigBundle.Layer)
	bundle, err := attest.ParseBundle(bundleRaw)
	require.NoError(t, err)
	provEnv, err := attest.ParseBundle(fetch(provBundle.Layer))
	require.NoError(t, err)
	provLegacyEnv, err := attest.ParseEnvelope(fetch(provLegacy.Layer))
	require.NoError(t, err)
	sigManifest := fetch(sigBundle.Source)
	legacyManifest, attManifest := fetch(sigLegacy.Source), fetch(provLegacy.Source)
	var lm ocispec.Manifest
	require.NoError(t, json.Unmarshal(legacyManifest, &lm))
	legacyConfig := fetch(lm.Config)
	if os.Getenv("SLIPWAY_PRINT_DOC") != "" {
		for name, raw := range map[string][]byte{
			"signature statement": bundle.Envelope.Payload, "provenance statement": provEnv.Envelope.Payload,
			"bundle": bundleRaw, "bundle manifest": sigManifest, "simple signing": fetch(sigLegacy.Layer),
			"legacy config": legacyConfig, "legacy manifest": legacyManifest, "att manifest": attManifest,
		} {
			var p bytes.Buffer
			json.Indent(&p, raw, "", "  ")
			t.Logf("%s:\n%s\n%s", name, raw, p.String())
		}
	}

	// Deterministic: byte for byte.
	assert.Equal(t, string(doctest.JSONBlock(t, doc, "signature-statement")), string(bundle.Envelope.Payload))
	assert.Equal(t, string(doctest.JSONBlock(t, doc, "provenance-statement")), string(provEnv.Envelope.Payload))
	assert.Equal(t, string(provEnv.Envelope.Payload), string(provLegacyEnv.Payload), "both forms sign the same statement")
	st, err := attest.NewStatement(v2.App(), v2.Digest(), attest.PredicateSLSAProvenance, release.Provenance(v2))
	require.NoError(t, err)
	stBytes, err := st.Bytes()
	require.NoError(t, err)
	assert.Equal(t, string(stBytes), string(provEnv.Envelope.Payload), "the statement is release.Provenance's")
	assert.Equal(t, string(doctest.JSONBlock(t, doc, "simple-signing")), string(fetch(sigLegacy.Layer)))
	assert.Equal(t, string(doctest.JSONBlock(t, doc, "legacy-sig-config")), string(legacyConfig))

	// Random in part: the page's values put in place of this signature's.
	docBundle, err := attest.ParseBundle(doctest.JSONBlock(t, doc, "bundle"))
	require.NoError(t, err)
	require.Len(t, docBundle.Envelope.Signatures, 1)
	b64 := base64.StdEncoding.EncodeToString
	assert.Equal(t, string(doctest.JSONBlock(t, doc, "bundle")), replace(bundleRaw,
		`"hint":"`+bundle.KeyHint+`"`, `"hint":"`+docBundle.KeyHint+`"`,
		`"sig":"`+b64(bundle.Envelope.Signatures[0].Sig)+`"`, `"sig":"`+b64(docBundle.Envelope.Signatures[0].Sig)+`"`))
	layerOf := func(raw []byte, i int) ocispec.Descriptor {
		var m ocispec.Manifest
		require.NoError(t, json.Unmarshal(raw, &m))
		if i < 0 {
			return m.Config
		}
		require.Greater(t, len(m.Layers), i)
		return m.Layers[i]
	}
	descField := func(d ocispec.Descriptor) string { return fmt.Sprintf(`"digest":"%s","size":%d`, d.Digest, d.Size) }
	docManifest := doctest.JSONBlock(t, doc, "bundle-manifest")
	assert.Equal(t, string(docManifest), replace(sigManifest, descField(layerOf(sigManifest, 0)), descField(layerOf(docManifest, 0))))
	docLegacy := doctest.JSONBlock(t, doc, "legacy-sig-manifest")
	annotation := func(raw []byte) string {
		return `"` + attest.AnnotationLegacySignature + `":"` + layerOf(raw, 0).Annotations[attest.AnnotationLegacySignature] + `"`
	}
	assert.Equal(t, string(docLegacy), replace(legacyManifest, annotation(legacyManifest), annotation(docLegacy)))
	docAtt := doctest.JSONBlock(t, doc, "legacy-att-manifest")
	assert.Equal(t, string(docAtt), replace(attManifest,
		descField(layerOf(attManifest, -1)), descField(layerOf(docAtt, -1)),
		descField(layerOf(attManifest, 0)), descField(layerOf(docAtt, 0))))
	assert.Empty(t, docBundle.Envelope.Signatures[0].KeyID, "DSSE signatures carry no keyid, which cosign would compare with its own")

	// Names, limits, and the anchor the provenance's buildType links to.
	for _, s := range []string{attest.BundleMediaType, attest.EnvelopeMediaType, attest.SimpleSigningMediaType, attest.PayloadType,
		attest.StatementType, attest.StatementTypeV01, attest.PredicateSign, attest.PredicateSLSAProvenance, attest.BuildTypeSlipway,
		attest.AnnotationBundleContent, attest.AnnotationBundlePredicateType, attest.AnnotationLegacySignature,
		attest.AnnotationLegacyPredicateType, release.DefaultBuilderID,
		attest.LegacyTag(v2.Digest(), ".sig"), attest.LegacyTag(v2.Digest(), ".att"),
		mib(attest.MaxManifestSize), mib(attest.MaxEnvelopeSize), mib(attest.MaxStatementSize), strconv.Itoa(attest.MaxReferrers)} {
		assert.Contains(t, doc, "`"+s+"`")
	}
	_, anchor, ok := strings.Cut(attest.BuildTypeSlipway, "#")
	require.True(t, ok)
	n := 0
	for _, slug := range headingSlugs(doc) {
		if slug == anchor {
			n++
		}
	}
	assert.Equal(t, 1, n, "one heading gives the anchor #%s", anchor)

	// Every tamper kind of the verification tests is in the table, with
	// its error.
	names := map[error]string{}
	for name, err := range map[string]error{
		"release.ErrNotSigned": release.ErrNotSigned, "release.ErrUntrustedKey": release.ErrUntrustedKey,
		"release.ErrSubjectMismatch": release.ErrSubjectMismatch, "release.ErrDigestMismatch": release.ErrDigestMismatch,
		"release.ErrMissingAttestation": release.ErrMissingAttestation, "release.ErrNotOnLedger": release.ErrNotOnLedger,
		"release.ErrNotHead": release.ErrNotHead, "release.ErrTagMismatch": release.ErrTagMismatch,
		"release.ErrBrokenChain": release.ErrBrokenChain, "release.ErrRecordMismatch": release.ErrRecordMismatch,
		"release.ErrUnknownVersion": release.ErrUnknownVersion, "attest.ErrMalformed": attest.ErrMalformed,
		"attest.ErrUnknownFormat": attest.ErrUnknownFormat, "release.ErrSummaryMismatch": release.ErrSummaryMismatch,
	} {
		names[err] = name
	}
	for _, row := range tampers() {
		name, ok := names[row.want]
		if assert.True(t, ok, "tamper %q: name its error here", row.name) {
			assert.Regexp(t, `\| `+regexp.QuoteMeta(row.name)+` \|[^\n]*`+"`"+regexp.QuoteMeta(name)+"`", doc, "tamper row %q", row.name)
		}
	}
}

// replace returns raw with each old string replaced by the new one that
// follows it; each old string must occur.
func replace(raw []byte, oldnew ...string) string {
	s := string(raw)
	for i := 0; i+1 < len(oldnew); i += 2 {
		if !strings.Contains(s, oldnew[i]) {
			return fmt.Sprintf("%s\n(%q does not occur)", s, oldnew[i])
		}
		s = strings.ReplaceAll(s, oldnew[i], oldnew[i+1])
	}
	return s
}

func mib(n int) string { return fmt.Sprintf("%d MiB", n>>20) }

// headingSlugs returns the anchors GitHub gives the headings of doc.
func headingSlugs(doc string) []string {
	var out []string
	fenced := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		title := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		var b strings.Builder
		for _, r := range title {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// TestFormatDocSummary checks the summary example of docs/format.md
// against the summary release.New writes for the evidence in testdata.
func TestFormatDocSummary(t *testing.T) {
	raw, err := os.ReadFile("../docs/format.md")
	require.NoError(t, err)
	dst := memory.New()
	b := newEvidenceBuild(t, dst, "shop", "v1")
	r, err := release.New(t.Context(), dst, b, newConfig(t, "shop", "prod", "info"), release.Options{Created: at(1)})
	require.NoError(t, err)
	got, err := json.Marshal(r.Summary())
	require.NoError(t, err)
	if os.Getenv("SLIPWAY_PRINT_DOC") != "" {
		var p bytes.Buffer
		require.NoError(t, json.Indent(&p, got, "", "  "))
		t.Logf("summary:\n%s", p.String())
	}
	assert.Equal(t, string(got), string(doctest.JSONBlock(t, string(raw), "evidence-summary")))
	for _, s := range []string{attest.PredicateCycloneDX, attest.PredicateSPDX, attest.PredicateVuln, attest.PredicateOpenVEX,
		attest.MediaTypeCycloneDX, attest.MediaTypeSPDX, attest.MediaTypeVuln, attest.MediaTypeOpenVEX} {
		assert.Contains(t, string(raw), "`"+s+"`")
	}
}

// TestFormatDocRevocation checks the revocation example of docs/format.md
// against the predicate release.Revoke signs about v2 of the release
// section, byte for byte, and that Verify refuses v2 for it.
func TestFormatDocRevocation(t *testing.T) {
	doc, repo, _, v2 := docLedger(t)
	ctx := t.Context()
	key := newKey(t)
	require.NoError(t, release.Sign(ctx, repo, v2, key, release.SignOptions{}))
	want := doctest.JSONBlock(t, doc, "revocation")
	ex, err := release.ParseRevocation(want)
	require.NoError(t, err, "the page's example parses")
	_, err = release.Revoke(ctx, repo, v2, key, release.RevokeOptions{Reason: ex.Reason, RevokedBy: ex.RevokedBy, Time: ex.Time})
	require.NoError(t, err)

	res, err := attest.Verify(ctx, repo, v2.Descriptor(), []signature.Verifier{key}, attest.VerifyOptions{Require: []string{release.PredicateRevocation}})
	require.NoError(t, err)
	var n int
	for _, a := range res.Attestations {
		if a.Statement.PredicateType == release.PredicateRevocation {
			n++
			assert.Equal(t, string(want), string(a.Statement.Predicate), a.Form)
		}
	}
	assert.Equal(t, 2, n, "as a bundle and in the .att tag")
	_, err = release.Verify(ctx, repo, "prod", []signature.Verifier{key}, release.VerifyOptions{})
	assert.ErrorIs(t, err, release.ErrRevoked)
	assert.Contains(t, doc, "`"+release.PredicateRevocation+"`")
}

// TestFormatDocAuditRecord: the audit record docs/format.md shows is one
// ParseAuditRecord reads, field for field.
func TestFormatDocAuditRecord(t *testing.T) {
	raw, err := os.ReadFile("../docs/format.md")
	require.NoError(t, err)
	block := doctest.JSONBlock(t, string(raw), "audit-record")
	a, err := release.ParseAuditRecord(block)
	require.NoError(t, err)
	again, err := json.Marshal(a)
	require.NoError(t, err)
	assert.JSONEq(t, string(block), string(again))
	assert.Equal(t, "migrate", a.Process)
}
