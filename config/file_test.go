package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/config"
)

func TestParse(t *testing.T) {
	c, err := config.Parse([]byte(shopJSON), config.Options{})
	require.NoError(t, err)
	assert.Equal(t, shop(t).Digest(), c.Digest())

	c, err = config.Parse([]byte(`{"environment":"dev","app":"shop"}`), config.Options{})
	require.NoError(t, err)
	assert.Empty(t, c.Env())
	assert.Empty(t, c.Secrets())
}

// TestParseRefuses: every malformed document is refused with
// ErrInvalidConfig, naming what is wrong and where.
func TestParseRefuses(t *testing.T) {
	const head = `{"app":"shop","environment":"prod",`
	tests := []struct {
		name, input string
		want        []string // substrings of the message
	}{
		{"empty", ``, []string{"line 1, column 1", "unexpected end"}},
		{"truncated", `{"app":"shop"`, []string{"unexpected end"}},
		{"array", `[]`, []string{"want a JSON object, got an array"}},
		{"null", `null`, []string{"want a JSON object, got null"}},
		{"unknown field", head + `"envs":{}}`, []string{`unknown field "envs"`, "line 1, column 36"}},
		{"field case", `{"APP":"shop","environment":"prod"}`, []string{`unknown field "APP"`}},
		{"duplicate field", `{"app":"shop","app":"shop","environment":"prod"}`, []string{`field "app" appears twice`, "line 1, column 15"}},
		{"duplicate key", "{\"app\":\"shop\",\n \"environment\":\"prod\",\n \"env\":{\"A\":\"1\",\n   \"A\":\"2\"}}", []string{`env: "A" appears twice`, "line 4, column 4"}},
		{"escaped duplicate", head + `"secrets":{"A":"env://A","\u0041":"env://B"}}`, []string{`secrets: "A" appears twice`}},
		{"number", head + `"env":{"PORT":8080}}`, []string{`env: "PORT": want a string, got a number`}},
		{"boolean", head + `"env":{"DEBUG":true}}`, []string{`"DEBUG": want a string, got a boolean`}},
		{"null value", head + `"env":{"DEBUG":null}}`, []string{`"DEBUG": want a string, got null`}},
		{"object value", head + `"env":{"DEBUG":{}}}`, []string{`"DEBUG": want a string, got an object`}},
		{"array value", head + `"secrets":{"S":["env://S"]}}`, []string{`secrets: "S": want a string, got an array`}},
		{"env array", head + `"env":["PORT=8080"]}`, []string{"env: want an object of strings, got an array"}},
		{"env null", head + `"env":null}`, []string{"env: want an object of strings, got null"}},
		{"app number", `{"app":1,"environment":"prod"}`, []string{"app: want a string, got a number"}},
		{"trailing data", shopJSON + ` {}`, []string{"trailing data", "column 139"}},
		{"trailing garbage", shopJSON + "\nx", []string{"trailing data", "line 2, column 1"}},
		{"syntax", head + `"env":{"A":"1",}}`, []string{"line 1, column 51"}},
		{"too large", `{"app":"shop","environment":"prod","env":{"A":"` + strings.Repeat("a", config.MaxSize) + `"}}`, []string{"larger than 1048576 bytes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.input), config.Options{})
			require.ErrorIs(t, err, config.ErrInvalidConfig)
			assert.True(t, strings.HasPrefix(err.Error(), "config: invalid config: "), err.Error())
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestParseNeverQuotesValues: an error about a value names its variable,
// not the value.
func TestParseNeverQuotesValues(t *testing.T) {
	const head = `{"app":"shop","environment":"prod",`
	for _, input := range []string{
		head + `"env":{"PIN":12345678987654321}}`,
		head + `"env":{"PIN":["s3cr3t-v4lue"]}}`,
		head + `"env":{"PIN":{"v":"s3cr3t-v4lue"}}}`,
		head + `"env":{"PIN":s3cr3t-v4lue}}`,
		head + `"env":{"PIN":"1","PIN":"s3cr3t-v4lue"}}`,
		head + `"extra":"s3cr3t-v4lue"}`,
		head + `"env":{"DB_PASSWORD":"s3cr3t-v4lue"}}`,
	} {
		_, err := config.Parse([]byte(input), config.Options{})
		require.Error(t, err, input)
		assert.NotContains(t, err.Error(), "s3cr3t-v4lue")
		assert.NotContains(t, err.Error(), "12345678987654321")
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prod.json")
	require.NoError(t, os.WriteFile(path, []byte("{\n  \"app\": \"shop\",\n  \"environment\": \"prod\",\n  \"env\": {\"PORT\": \"8080\", \"LOG_LEVEL\": \"info\"},\n  \"secrets\": {\"DB_PASSWORD\": \"vault://kv/shop/prod#db_password\"}\n}\n"), 0o600))
	c, err := config.ReadFile(path, config.Options{})
	require.NoError(t, err)
	assert.Equal(t, shop(t).Digest(), c.Digest())

	_, err = config.ReadFile(filepath.Join(dir, "missing.json"), config.Options{})
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "config: "), err.Error())

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"app":"shop","environment":"prod","env":{"API_TOKEN":"t"}}`), 0o600))
	_, err = config.ReadFile(bad, config.Options{})
	require.ErrorIs(t, err, config.ErrPlaintextSecret)
	assert.Equal(t, `config: `+bad+`: "API_TOKEN": plaintext secret (rule name-token)`, err.Error())
	_, err = config.ReadFile(bad, config.Options{AllowPlaintext: []string{"API_TOKEN"}})
	require.NoError(t, err)

	big := filepath.Join(dir, "big.json")
	require.NoError(t, os.WriteFile(big, []byte(strings.Repeat(" ", config.MaxSize+1)), 0o600))
	_, err = config.ReadFile(big, config.Options{})
	require.ErrorIs(t, err, config.ErrInvalidConfig)
	assert.Contains(t, err.Error(), big)

	_, err = config.ReadFile(dir, config.Options{})
	require.Error(t, err, "a directory")
}
