package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/config"
)

func TestDiff(t *testing.T) {
	a := shop(t)
	b, err := config.New("shop", "prod", config.Spec{
		Env: map[string]string{"LOG_LEVEL": "debug", "WORKERS": "4", "PORT": "8080"},
		Secrets: map[string]string{
			"DB_PASSWORD": "vault://kv/shop/prod#db_password_v2",
			"API_KEY":     "env://SHOP_API_KEY",
		},
	}, config.Options{})
	require.NoError(t, err)

	got := config.Diff(a, b)
	want := []config.Change{
		{Name: "API_KEY", Kind: config.Added, New: config.Value{Text: "env://SHOP_API_KEY", Secret: true}},
		{Name: "DB_PASSWORD", Kind: config.Changed,
			Old: config.Value{Text: "vault://kv/shop/prod#db_password", Secret: true},
			New: config.Value{Text: "vault://kv/shop/prod#db_password_v2", Secret: true}},
		{Name: "LOG_LEVEL", Kind: config.Changed, Old: config.Value{Text: "info"}, New: config.Value{Text: "debug"}},
		{Name: "WORKERS", Kind: config.Added, New: config.Value{Text: "4"}},
	}
	assert.Equal(t, want, got)

	var lines []string
	for _, c := range got {
		lines = append(lines, c.String())
	}
	assert.Equal(t, []string{
		"+ API_KEY=secret(env://SHOP_API_KEY)",
		"~ DB_PASSWORD: secret(vault://kv/shop/prod#db_password) -> secret(vault://kv/shop/prod#db_password_v2)",
		"~ LOG_LEVEL: info -> debug",
		"+ WORKERS=4",
	}, lines)

	back := config.Diff(b, a)
	require.Len(t, back, 4)
	assert.Equal(t, "- API_KEY=secret(env://SHOP_API_KEY)", back[0].String())
	assert.Equal(t, "- WORKERS=4", back[3].String())
	assert.Equal(t, config.Removed, back[3].Kind)
	assert.Equal(t, config.Value{}, back[3].New)

	assert.Empty(t, config.Diff(a, a))
	assert.Empty(t, config.Diff(nil, nil))
}

func TestDiffPlainToSecret(t *testing.T) {
	a := shop(t)
	b, err := a.WithSecret("PORT", "env://PORT")
	require.NoError(t, err)
	got := config.Diff(a, b)
	require.Len(t, got, 1)
	assert.Equal(t, config.Change{Name: "PORT", Kind: config.Changed,
		Old: config.Value{Text: "8080"}, New: config.Value{Text: "env://PORT", Secret: true}}, got[0])
	assert.Equal(t, "~ PORT: 8080 -> secret(env://PORT)", got[0].String())

	// The same text, plain on one side and a reference on the other.
	c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"X": "env://X"}}, config.Options{})
	require.NoError(t, err)
	d, err := config.New("shop", "prod", config.Spec{Secrets: map[string]string{"X": "env://X"}}, config.Options{})
	require.NoError(t, err)
	require.Len(t, config.Diff(c, d), 1)
	assert.Equal(t, "~ X: env://X -> secret(env://X)", config.Diff(c, d)[0].String())
}

// TestDiffIgnoresAppAndEnvironment: the caller compares those.
func TestDiffIgnoresAppAndEnvironment(t *testing.T) {
	a := shop(t)
	b, err := config.Decode([]byte(`{"app":"cart","environment":"staging","env":{"LOG_LEVEL":"info","PORT":"8080"},"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"}}`))
	require.NoError(t, err)
	assert.Empty(t, config.Diff(a, b))
}

func TestDiffFromNothing(t *testing.T) {
	got := config.Diff(nil, shop(t))
	require.Len(t, got, 3)
	for _, c := range got {
		assert.Equal(t, config.Added, c.Kind)
	}
	assert.Equal(t, "DB_PASSWORD", got[0].Name)
	assert.Len(t, config.Diff(shop(t), nil), 3)
}

func TestValueString(t *testing.T) {
	for value, want := range map[config.Value]string{
		{Text: "8080"}:                          "8080",
		{Text: "a=b,c"}:                         "a=b,c",
		{Text: "ünïcode"}:                       "ünïcode",
		{Text: ""}:                              `""`,
		{Text: "two words"}:                     `"two words"`,
		{Text: "a -> b"}:                        `"a -> b"`,
		{Text: "line\nbreak"}:                   `"line\nbreak"`,
		{Text: `say "hi"`}:                      `"say \"hi\""`,
		{Text: `C:\dir`}:                        `"C:\\dir"`,
		{Text: "secret(x)"}:                     `"secret(x)"`,
		{Text: "env://X", Secret: true}:         "secret(env://X)",
		{Text: "vault://kv#f", Secret: true}:    "secret(vault://kv#f)",
		{Text: "tab\there"}:                     `"tab\there"`,
		{Text: "bell\a"}:                        `"bell\a"`,
		{Text: "nbsp\u00a0x"}:                   `"nbsp\u00a0x"`,
		{Text: "secret(env://X)", Secret: true}: "secret(secret(env://X))",
	} {
		assert.Equal(t, want, value.String(), "%#v", value)
	}
	assert.Equal(t, "+ E=\"\"", config.Change{Name: "E", Kind: config.Added}.String())
}

func TestChangeKindString(t *testing.T) {
	assert.Equal(t, "added", config.Added.String())
	assert.Equal(t, "removed", config.Removed.String())
	assert.Equal(t, "changed", config.Changed.String())
	assert.Equal(t, "ChangeKind(0)", config.ChangeKind(0).String())
	assert.Equal(t, "ChangeKind(9)", config.ChangeKind(9).String())
}
