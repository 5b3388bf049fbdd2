package attest

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNormalizeJSONSurvivesAStatement(t *testing.T) {
	raw := []byte("{\n  \"b\": \"<a & b>\",\n  \"a\": [1, 2, \"\u2028\"]\n}\n")
	norm, err := NormalizeJSON(raw)
	require.NoError(t, err)
	assert.Equal(t, `{"b":"\u003ca \u0026 b\u003e","a":[1,2,"\u2028"]}`, string(norm))
	again, err := NormalizeJSON(norm)
	require.NoError(t, err)
	assert.Equal(t, norm, again, "normalizing twice changes nothing")

	st, err := NewStatement("app", digest.FromString("x"), PredicateCycloneDX, json.RawMessage(raw))
	require.NoError(t, err)
	payload, err := st.Bytes()
	require.NoError(t, err)
	back, err := ParseStatement(payload)
	require.NoError(t, err)
	assert.Equal(t, norm, []byte(back.Predicate), "the predicate a verifier reads is the normalized form")
	d, err := PredicateDigest(raw)
	require.NoError(t, err)
	assert.Equal(t, digest.FromBytes(back.Predicate), d)

	_, err = PredicateDigest([]byte("{"))
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestPredicateKind(t *testing.T) {
	for in, want := range map[string]string{
		"https://cyclonedx.org/bom":                       PredicateCycloneDX,
		"https://cyclonedx.org/bom/v1.4":                  PredicateCycloneDX,
		"https://spdx.dev/Document/v2.3":                  PredicateSPDX,
		"https://openvex.dev/ns":                          PredicateOpenVEX,
		"https://openvex.dev/ns/v0.2.0":                   PredicateOpenVEX,
		PredicateVuln:                                     PredicateVuln,
		"https://cyclonedx.org/bomb":                      "",
		"https://openvex.dev/nsfw":                        "",
		PredicateSLSAProvenance:                           "",
		"https://cosign.sigstore.dev/attestation/vuln/v2": "",
	} {
		assert.Equal(t, want, PredicateKind(in), in)
	}
}

func TestJSONErrorsGiveThePlace(t *testing.T) {
	data := []byte("{\n  \"a\": 1,\n  \"b\": [1, 2,, 3]\n}")
	var v any
	err := json.Unmarshal(data, &v)
	require.Error(t, err)
	pe := jsonError("scan.json", data, err)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, 14, pe.Column)
	assert.ErrorIs(t, pe, ErrMalformed)
	assert.True(t, strings.HasPrefix(pe.Error(), "scan.json:3:14: "), pe.Error())

	var typed struct {
		A struct {
			B []int `json:"b"`
		} `json:"a"`
	}
	data = []byte("{\"a\": {\n \"b\": [1, \"two\"]}}")
	err = json.Unmarshal(data, &typed)
	require.Error(t, err)
	pe = jsonError("x.json", data, err)
	assert.Equal(t, 2, pe.Line)
	assert.Equal(t, "a.b", pe.Path)
	assert.ErrorIs(t, pe, ErrMalformed)

	err = json.Unmarshal([]byte(`{"a": `), &v)
	pe = jsonError("t.json", []byte(`{"a": `), err)
	assert.ErrorIs(t, pe, ErrMalformed)
	assert.Equal(t, 1, pe.Line)
}

func TestLocate(t *testing.T) {
	data := []byte(`{"author": "x",
  "statements": [
    {"status": "fixed"},
    {"vulnerability": {"name": "CVE-1"}, "status": "maybe"}
  ]}`)
	pe := fieldError("vex.json", data, "statements[1].status", errors.New("unknown status"))
	assert.Equal(t, 4, pe.Line)
	assert.Equal(t, 52, pe.Column)
	assert.Equal(t, "vex.json:4:52: statements[1].status: unknown status", pe.Error())

	pe = fieldError("vex.json", data, "statements[1].vulnerability.name", errors.New("x"))
	assert.Equal(t, 4, pe.Line)
	assert.Equal(t, 32, pe.Column)

	pe = fieldError("vex.json", data, "author", errors.New("x"))
	assert.Equal(t, 1, pe.Line)
	assert.Equal(t, 12, pe.Column)

	pe = fieldError("vex.json", data, "missing.path", errors.New("x"))
	assert.Zero(t, pe.Line, "a path that is not there has no line")
	assert.Equal(t, "vex.json: missing.path: x", pe.Error())
}

func TestReadEvidenceLimit(t *testing.T) {
	_, err := ReadEvidence(strings.NewReader(strings.Repeat(" ", MaxEvidenceSize+1)), "big.json")
	assert.ErrorIs(t, err, ErrMalformed)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "big.json", pe.Source)
	b, err := ReadEvidence(strings.NewReader("{}"), "small.json")
	require.NoError(t, err)
	assert.Equal(t, "{}", string(b))
}
