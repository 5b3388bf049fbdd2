package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type facts struct {
	Name    string    `json:"name"`
	Count   int       `json:"count,omitempty"`
	Tags    []string  `json:"tags"`
	Created time.Time `json:"created"`
	Inner   *inner    `json:"inner,omitempty"`
}

type inner struct {
	Level string `json:"level"`
}

func testEnv(t *testing.T) *Env {
	t.Helper()
	env, err := NewEnv(Var{Name: "facts", Of: facts{}}, Var{Name: "now", Of: time.Time{}}, Var{Name: "keys", Of: []string{}})
	require.NoError(t, err)
	return env
}

func TestCompileErrorsNameRuleAndPosition(t *testing.T) {
	env := testEnv(t)
	_, err := env.Compile("p.json", []Rule{
		{Name: "ok", Expr: "facts.count < 3"},
		{Name: "typo", Expr: "facts.cuont < 3"},
		{Name: "syntax", Expr: "facts.count <\n= 3"},
		{Name: "not-bool", Expr: "facts.count + 1"},
		{Name: "ok", Expr: "true"},
		{Name: "", Expr: "true"},
		{Name: "empty", Expr: " "},
		{Name: "types", Expr: `facts.count == "3"`},
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalid)
	msg := err.Error()
	for _, want := range []string{
		`p.json: rules[1] "typo" at 1:6: invalid policy: undefined field 'cuont'`,
		`p.json: rules[2] "syntax" at 2:1:`,
		`p.json: rules[3] "not-bool" at 1:1: invalid policy: expression is of type int, want bool`,
		`p.json: rules[4] "ok": invalid policy: another rule has this name`,
		`p.json: rules[5]: invalid policy: name ""`,
		`p.json: rules[6] "empty": invalid policy: empty expression`,
		`p.json: rules[7] "types" at 1:13: invalid policy: found no matching overload for '_==_'`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.NotContains(t, msg, "rules[0]")
	var ce *CompileError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 1, ce.Index)
	assert.Equal(t, "typo", ce.Rule)
}

func TestEvalReportsFailuresAndErrors(t *testing.T) {
	env := testEnv(t)
	p, err := env.Compile("", []Rule{
		{Name: "few", Expr: "facts.count < 3", Message: "too many"},
		{Name: "tagged", Expr: `"prod" in facts.tags`},
		{Name: "fresh", Expr: `now - facts.created < duration("24h")`},
		{Name: "level", Expr: `!has(facts.inner) || facts.inner.level != "bad"`},
		{Name: "keys", Expr: `keys.exists(k, k.startsWith("sha256:"))`},
		{Name: "divide", Expr: `10 / (facts.count - 5) != 0`},
		{Name: "costly", Expr: `[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, [1,2,3,4,5,6,7,8,9,10].all(e, [1,2,3,4,5,6,7,8,9,10].all(f, a+b+c+d+e+f > 0))))))`},
	})
	require.NoError(t, err)
	assert.Equal(t, 7, p.Len())
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	res := p.Eval(map[string]any{
		"facts": facts{Name: "a", Count: 5, Tags: []string{"dev"}, Created: now.Add(-48 * time.Hour), Inner: &inner{Level: "bad"}},
		"now":   now,
		"keys":  []string{"sha256:ab"},
	})
	var names []string
	for _, r := range res {
		names = append(names, r.Rule)
	}
	assert.Equal(t, []string{"few", "tagged", "fresh", "level", "divide", "costly"}, names)
	assert.Equal(t, "too many", res[0].Message)
	assert.Equal(t, `rule not satisfied: "prod" in facts.tags`, res[1].Message)
	assert.NoError(t, res[0].Err)
	assert.Error(t, res[4].Err, "division by zero is an error, not a pass")
	assert.True(t, strings.HasPrefix(res[4].Message, "cannot evaluate: "))
	assert.Error(t, res[5].Err, "a rule over the cost limit fails")

	res = p.Eval(map[string]any{
		"facts": facts{Count: 1, Tags: []string{"prod"}, Created: now},
		"now":   now,
		"keys":  []string{"sha256:ab"},
	})
	require.Len(t, res, 1)
	assert.Equal(t, "costly", res[0].Rule)
}

func TestEvalMissingVariableFailsClosed(t *testing.T) {
	env := testEnv(t)
	p, err := env.Compile("", []Rule{{Name: "n", Expr: "facts.count == 0"}})
	require.NoError(t, err)
	res := p.Eval(map[string]any{})
	require.Len(t, res, 1)
	assert.Error(t, res[0].Err)
}

func TestDecodeIsStrict(t *testing.T) {
	type doc struct {
		A int    `json:"a"`
		B string `json:"b"`
	}
	var d doc
	require.NoError(t, Decode([]byte(`{"a": 1, "b": "x"}`), "p.json", &d))
	assert.Equal(t, doc{A: 1, B: "x"}, d)
	for _, c := range []struct{ in, want string }{
		{"{\n \"a\": 1,\n \"c\": 2}", `p.json:3:2: invalid policy`},
		{"{\"a\": \"x\"}", `p.json:1:9: a: invalid policy`},
		{"{\"a\": 1,}", `p.json:1:9: invalid policy`},
		{"{\"a\": 1} {}", `p.json:1:10: invalid policy: data after the policy object`},
		{"[]", `p.json:1:1: invalid policy`},
	} {
		err := Decode([]byte(c.in), "p.json", &d)
		require.Error(t, err, c.in)
		assert.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), c.want, c.in)
	}
	// An unknown field is placed at its key, however deep, and the keys of
	// maps and of values that decode themselves are never unknown.
	type rule struct {
		Name string `json:"name"`
	}
	type nested struct {
		M     map[string]int `json:"m"`
		Rules []rule         `json:"rules"`
		Any   any            `json:"any"`
		When  time.Time      `json:"when"`
		Ptr   *rule          `json:"ptr"`
	}
	var n nested
	for _, c := range []struct{ in, want string }{
		{"{\"m\": {\"zzz\": 1}, \"any\": {\"x\": [{\"y\": 1}]}, \"rules\": [{\"name\": \"a\"},\n {\"name\": \"b\", \"nam\": \"c\"}]}", `p.json:2:16: invalid policy`},
		{"{\"ptr\": {\"name\": \"a\", \"x\": 1}}", `p.json:1:23: invalid policy`},
		{"{\"when\": \"2026-01-01T00:00:00Z\",\n\t\"rules\": [], \"name\": 1}", `p.json:2:15: invalid policy`},
		// encoding/json would take these for "rules" and "name".
		{"{\"Rules\": []}", `p.json:1:2: invalid policy: unknown field "Rules" (field names are case-sensitive)`},
		{"{\"rules\": [{\"name\": \"a\"},\n  {\"NAME\": \"b\"}]}", `p.json:2:4: invalid policy: unknown field "NAME"`},
	} {
		err := Decode([]byte(c.in), "p.json", &n)
		require.Error(t, err, c.in)
		assert.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), c.want, c.in)
	}

	err := Decode(make([]byte, MaxSize+1), "big.json", &d)
	assert.ErrorIs(t, err, ErrInvalid)
	big := filepath.Join(t.TempDir(), "big.json")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat(" ", MaxSize+1)), 0o644))
	_, err = ReadFile(big)
	assert.True(t, errors.Is(err, ErrInvalid))
	assert.ErrorContains(t, err, big+": invalid policy: larger than 1048576 bytes")
	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	for _, in := range []string{"null", "[]", "  ", `"x"`} {
		assert.ErrorContains(t, Decode([]byte(in), "p.json", &d), "p.json:1:1: invalid policy: want a JSON object", in)
	}
}

func TestDecodeNamesAreCaseSensitive(t *testing.T) {
	type item struct {
		ID string `json:"id"`
	}
	type doc struct {
		RequireSBOM bool            `json:"requireSBOM"`
		Items       []item          `json:"items"`
		Limits      map[string]item `json:"limits"`
	}
	var d doc
	require.NoError(t, Decode([]byte(`{"requireSBOM":true,"items":[{"id":"a"}],"limits":{"x":{"id":"b"}}}`), "p.json", &d))
	for in, want := range map[string]string{
		`{"requireSbom":true}`:              `p.json:1:2: invalid policy: unknown field "requireSbom" (field names are case-sensitive)`,
		`{"items":[{"id":"a"},{"ID":"b"}]}`: `p.json:1:23: invalid policy: unknown field "ID" (field names are case-sensitive)`,
	} {
		err := Decode([]byte(in), "p.json", &d)
		assert.ErrorIs(t, err, ErrInvalid, in)
		assert.ErrorContains(t, err, want, in)
	}
}
