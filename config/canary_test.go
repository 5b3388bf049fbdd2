package config_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/config"
)

// canary marks every planted secret value. Any output it shows up in is a
// leak.
const canary = "CANARY7f3e"

// canaries are plaintext secrets that carry the canary, each refused by
// the rule named. Token shapes are put together from pieces so that
// secret scanners do not take this file for a leak.
var canaries = []struct {
	name, value, rule string
}{
	{"SETTING_A", "ghp_" + canary + "Zq7XbK2mW9pL4vR8tY1nC5dF3g", "github-token"},
	{"SETTING_B", "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE" + canary + "IBAQQg\n-----END EC PRIVATE KEY-----\n", "pem-private-key"},
	{"SETTING_C", "postgres://shop:" + canary + "@db.internal/shop", "url-password"},
	{"SETTING_D", canary + "Q2vZ8pL0mN4rT9wK3yB6cF1hJ5", "high-entropy"},
	{"SETTING_E", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi" + canary + "In0.sig", "jwt"},
	{"DB_PASSWORD", canary + "-hunter2", "name-password"},
	{"API_TOKEN", canary, "name-token"},
}

func canaryEnv() map[string]string {
	env := map[string]string{"PORT": "8080"}
	for _, c := range canaries {
		env[c.name] = c.value
	}
	return env
}

// assertNoCanary fails if the canary is in any printing of err or of what
// it wraps.
func assertNoCanary(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	for _, text := range errorTexts(err) {
		if strings.Contains(text, canary) {
			t.Errorf("the canary leaked into an error: %s", text)
		}
	}
}

func TestCanaryNew(t *testing.T) {
	c, err := config.New("shop", "prod", config.Spec{Env: canaryEnv()}, config.Options{})
	assert.Nil(t, c)
	assertNoCanary(t, err)

	rules := map[string]string{}
	for _, ve := range varErrors(err) {
		require.ErrorIs(t, ve, config.ErrPlaintextSecret)
		rules[ve.Name] = ve.Rule
	}
	for _, c := range canaries {
		assert.Equal(t, c.rule, rules[c.name], "%s is refused by %s", c.name, c.rule)
		assert.Contains(t, err.Error(), strconv.Quote(c.name), "the error names the variable")
		assert.Contains(t, err.Error(), "rule "+c.rule, "the error names the rule")
	}
}

func TestCanaryParse(t *testing.T) {
	var doc strings.Builder
	doc.WriteString(`{"app":"shop","environment":"prod","env":{`)
	for i, c := range canaries {
		if i > 0 {
			doc.WriteString(",\n")
		}
		doc.WriteString(strconv.Quote(c.name) + ":" + strconv.Quote(c.value))
	}
	doc.WriteString(`}}`)
	_, err := config.Parse([]byte(doc.String()), config.Options{})
	assertNoCanary(t, err)
	assert.Len(t, varErrors(err), len(canaries))

	path := filepath.Join(t.TempDir(), "prod.json")
	require.NoError(t, os.WriteFile(path, []byte(doc.String()), 0o600))
	_, err = config.ReadFile(path, config.Options{})
	assertNoCanary(t, err)
	assert.Len(t, varErrors(err), len(canaries))

	const head = `{"app":"shop","environment":"prod",`
	for _, input := range []string{
		head + `"env":{"PIN":["` + canary + `"]}}`,
		head + `"env":{"PIN":{"v":"` + canary + `"}}}`,
		head + `"env":{"PIN":` + canary + `}}`,
		head + `"env":{"PIN":"1","PIN":"` + canary + `"}}`,
		head + `"extra":"` + canary + `"}`,
		head + `"env":{"ghp_` + canary + `Zq7XbK2mW9pL4vR8tY1nC5dF3g":"1"}}`, // a name that is a token
		head + `"secrets":{"S":"vault://root:` + canary + `@vault/kv"}}`,
		head + `"secrets":{"S":"VAULT://kv/` + canary + `"}}`,
		head + `"secrets":{"S":"` + canary + `"}}`,
		head + `"secrets":{"S":"vault://kv?token=` + canary + `"}}`,
		`{"app":"shop","environment":"prod-` + strings.Repeat(canary, 8) + `"}`, // too long to show
	} {
		_, err := config.Parse([]byte(input), config.Options{})
		assertNoCanary(t, err)
	}
}

func TestCanaryWith(t *testing.T) {
	base := shop(t)
	before := base.Bytes()
	for _, c := range canaries {
		next, err := base.WithVar(c.name, c.value)
		assert.Nil(t, next)
		assertNoCanary(t, err)
		var ve *config.VarError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, c.rule, ve.Rule)
	}
	for _, ref := range []string{"vault://root:" + canary + "@vault/kv", "https://vault/kv?password=" + canary, canary + ":x", "Vault://" + canary} {
		next, err := base.WithSecret("S", ref)
		assert.Nil(t, next)
		assertNoCanary(t, err)
	}
	assert.Equal(t, before, base.Bytes())
	assert.NotContains(t, string(base.Bytes()), canary)
}

// TestCanaryDecode: Decode accepts stored values that match a rule (the
// allow-list admitted them), but refuses a reference with credentials
// without showing it.
func TestCanaryDecode(t *testing.T) {
	for _, stored := range []string{
		`{"app":"shop","environment":"prod","secrets":{"S":"vault://root:` + canary + `@vault/kv"}}`,
		`{"app":"shop","environment":"prod","env":{"A":"` + canary + `","A":"` + canary + `"}}`,
		`{"app":"shop","environment":"prod","env":{"A":` + canary + `}}`,
		`{ "app":"shop","environment":"prod","env":{"A":"` + canary + `"}}`,
	} {
		_, err := config.Decode([]byte(stored))
		assertNoCanary(t, err)
	}
}

func TestCanaryResolve(t *testing.T) {
	s := config.Schemes{"env": config.EnvResolver{Lookup: lookup(map[string]string{"A": canary})}}
	// Valid references are shown in errors (they name secrets, they are
	// not secrets); these are not valid, so they may hold credentials.
	for _, ref := range []string{"vault://root:" + canary + "@vault/kv", "vault://kv?secret=" + canary, "Env://" + canary, canary} {
		_, err := s.Resolve(t.Context(), ref)
		assertNoCanary(t, err)
	}

	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat(canary, config.MaxSecretFileSize/len(canary)+1)), 0o600))
	_, err := config.FileResolver{Root: dir}.Resolve(t.Context(), "file://"+big)
	assertNoCanary(t, err)

	c, err := config.New("shop", "prod", config.Spec{Secrets: map[string]string{
		"A": "env://A", "B": "nul://b", "C": "file://" + big,
	}}, config.Options{})
	require.NoError(t, err)
	_, err = c.Resolve(t.Context(), config.Schemes{
		"env":  config.EnvResolver{Lookup: lookup(nil)},
		"nul":  config.ResolverFunc(func(context.Context, string) (string, error) { return canary + "\x00", nil }),
		"file": config.FileResolver{},
	})
	assertNoCanary(t, err)
}
