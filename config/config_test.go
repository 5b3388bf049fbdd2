package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/config"
)

const shopJSON = `{"app":"shop","environment":"prod","env":{"LOG_LEVEL":"info","PORT":"8080"},"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"}}`

func shop(t testing.TB) *config.Config {
	t.Helper()
	c, err := config.New("shop", "prod", config.Spec{
		Env:     map[string]string{"PORT": "8080", "LOG_LEVEL": "info"},
		Secrets: map[string]string{"DB_PASSWORD": "vault://kv/shop/prod#db_password"},
	}, config.Options{})
	require.NoError(t, err)
	return c
}

// errorTree returns err and every error it wraps, depth first.
func errorTree(err error) []error {
	if err == nil {
		return nil
	}
	out := []error{err}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, errorTree(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, errorTree(e)...)
		}
	}
	return out
}

// varErrors returns every *VarError in the tree of err.
func varErrors(err error) []*config.VarError {
	var out []*config.VarError
	for _, e := range errorTree(err) {
		if ve, ok := e.(*config.VarError); ok {
			out = append(out, ve)
		}
	}
	return out
}

func TestNew(t *testing.T) {
	c := shop(t)
	assert.Equal(t, "shop", c.App())
	assert.Equal(t, "prod", c.Environment())
	assert.Equal(t, map[string]string{"PORT": "8080", "LOG_LEVEL": "info"}, c.Env())
	assert.Equal(t, map[string]string{"DB_PASSWORD": "vault://kv/shop/prod#db_password"}, c.Secrets())
	assert.Empty(t, c.Findings())
	assert.Equal(t, shopJSON, string(c.Bytes()))

	d := c.Descriptor()
	assert.Equal(t, config.MediaType, d.MediaType)
	assert.Equal(t, digest.FromString(shopJSON), d.Digest)
	assert.Equal(t, c.Digest(), d.Digest)
	assert.Equal(t, int64(len(shopJSON)), d.Size)
}

func TestNewEmpty(t *testing.T) {
	c, err := config.New("shop", "dev", config.Spec{Env: map[string]string{}}, config.Options{})
	require.NoError(t, err)
	assert.Equal(t, `{"app":"shop","environment":"dev"}`, string(c.Bytes()))
	assert.NotNil(t, c.Env())
	assert.NotNil(t, c.Secrets())
	assert.Empty(t, c.Env())
}

// TestAccessorsCopy: nothing a caller gets or gave changes a config.
func TestAccessorsCopy(t *testing.T) {
	env := map[string]string{"PORT": "8080"}
	c, err := config.New("shop", "prod", config.Spec{Env: env}, config.Options{})
	require.NoError(t, err)
	digest := c.Digest()

	env["PORT"] = "1"
	c.Env()["PORT"] = "2"
	c.Secrets()["X"] = "env://X"
	b := c.Bytes()
	b[0] = 'x'
	assert.Equal(t, "8080", c.Env()["PORT"])
	assert.Empty(t, c.Secrets())
	assert.Equal(t, digest, c.Digest())
	assert.Equal(t, byte('{'), c.Bytes()[0])
}

func TestWithLeavesOriginal(t *testing.T) {
	c := shop(t)
	before, digest := c.Bytes(), c.Digest()

	next, err := c.WithVar("PORT", "9090")
	require.NoError(t, err)
	assert.Equal(t, "9090", next.Env()["PORT"])
	assert.NotEqual(t, digest, next.Digest())

	moved, err := c.WithVar("DB_PASSWORD", "unset")
	require.Error(t, err, "a plain DB_PASSWORD is refused by name")
	assert.Nil(t, moved)

	sec, err := c.WithSecret("PORT", "env://SHOP_PORT")
	require.NoError(t, err)
	assert.NotContains(t, sec.Env(), "PORT")
	assert.Equal(t, "env://SHOP_PORT", sec.Secrets()["PORT"])

	plain, err := sec.WithVar("PORT", "8080")
	require.NoError(t, err)
	assert.Equal(t, c.Digest(), plain.Digest(), "back where it started")

	less, err := c.Without("DB_PASSWORD")
	require.NoError(t, err)
	assert.Empty(t, less.Secrets())
	less, err = less.Without("NOT_THERE")
	require.NoError(t, err)
	assert.Len(t, less.Env(), 2)

	_, err = c.WithSecret("API", "not a reference")
	require.ErrorIs(t, err, config.ErrInvalidReference)

	assert.Equal(t, before, c.Bytes())
	assert.Equal(t, digest, c.Digest())
	assert.Equal(t, map[string]string{"PORT": "8080", "LOG_LEVEL": "info"}, c.Env())
}

func TestWithKeepsAllowList(t *testing.T) {
	c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"API_TOKEN": "public-demo"}},
		config.Options{AllowPlaintext: []string{"API_TOKEN"}})
	require.NoError(t, err)
	next, err := c.WithVar("PORT", "8080")
	require.NoError(t, err)
	assert.Equal(t, []config.Finding{{Name: "API_TOKEN", Rule: "name-token"}}, next.Findings())

	_, err = next.WithVar("OTHER_TOKEN", "x")
	require.ErrorIs(t, err, config.ErrPlaintextSecret, "the allow-list names variables, it does not switch the check off")

	// A decoded config admits its findings again.
	d, err := config.Decode(c.Bytes())
	require.NoError(t, err)
	next, err = d.WithVar("API_TOKEN", "another-demo")
	require.NoError(t, err)
	assert.Equal(t, []config.Finding{{Name: "API_TOKEN", Rule: "name-token"}}, next.Findings())
	_, err = d.WithVar("OTHER_TOKEN", "x")
	require.ErrorIs(t, err, config.ErrPlaintextSecret)
}

func TestAllowList(t *testing.T) {
	spec := config.Spec{Env: map[string]string{
		"PORT":           "8080",
		"PUBLIC_API_KEY": "pk-demo",                                  // name-key
		"BUILD_SHA":      "4f1c2e9d0b8a7c6e5f4d3c2b1a09f8e7d6c5b4a3", // high-entropy
	}}
	_, err := config.New("shop", "prod", spec, config.Options{})
	require.ErrorIs(t, err, config.ErrPlaintextSecret)

	c, err := config.New("shop", "prod", spec, config.Options{AllowPlaintext: []string{"PUBLIC_API_KEY", "BUILD_SHA", "UNUSED"}})
	require.NoError(t, err)
	want := []config.Finding{{Name: "BUILD_SHA", Rule: "high-entropy"}, {Name: "PUBLIC_API_KEY", Rule: "name-key"}}
	assert.Equal(t, want, c.Findings())
	assert.Equal(t, "pk-demo", c.Env()["PUBLIC_API_KEY"], "an allowed value is stored: it was declared not secret")

	d, err := config.Decode(c.Bytes())
	require.NoError(t, err)
	assert.Equal(t, want, d.Findings(), "the stored bytes carry the findings")
	assert.Equal(t, c.Digest(), d.Digest(), "the allow-list is not part of the config")

	_, err = config.New("shop", "prod", spec, config.Options{AllowPlaintext: []string{"PUBLIC_API_KEY"}})
	require.ErrorIs(t, err, config.ErrPlaintextSecret)
	bad := varErrors(err)
	require.Len(t, bad, 1)
	assert.Equal(t, "BUILD_SHA", bad[0].Name)
}

func TestJoinedErrorsNameEveryVariable(t *testing.T) {
	_, err := config.New("shop", "prod", config.Spec{
		Env: map[string]string{
			"DB_PASSWORD": "hunter2",
			"API_TOKEN":   "t0k3n",
			"PORT":        "8080",
			"9LIVES":      "x",
			"BOTH":        "1",
		},
		Secrets: map[string]string{
			"BOTH":      "env://BOTH",
			"STRIPE":    "stripe-key-in-plain-sight",
			"GOOD":      "env://GOOD",
			"UPPERCASE": "VAULT://kv/x",
		},
	}, config.Options{})
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "config: "), err.Error())

	got := map[string]error{}
	for _, ve := range varErrors(err) {
		got[ve.Name] = ve.Err
	}
	assert.Len(t, got, 6, "%v", err)
	assert.ErrorIs(t, got["DB_PASSWORD"], config.ErrPlaintextSecret)
	assert.ErrorIs(t, got["API_TOKEN"], config.ErrPlaintextSecret)
	assert.ErrorIs(t, got["9LIVES"], config.ErrInvalidName)
	assert.ErrorIs(t, got["BOTH"], config.ErrInvalidConfig)
	assert.ErrorIs(t, got["STRIPE"], config.ErrInvalidReference)
	assert.ErrorIs(t, got["UPPERCASE"], config.ErrInvalidReference)
	for _, kind := range []error{config.ErrPlaintextSecret, config.ErrInvalidName, config.ErrInvalidConfig, config.ErrInvalidReference} {
		assert.ErrorIs(t, err, kind)
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		app, env string
		ok       bool
	}{
		{"shop", "prod", true},
		{"shop-api", "eu-west-1", true},
		{"a", "b", true},
		{"shop", "prod-v3", false}, // ends like a ledger version tag
		{"shop", "v3", true},
		{"shop", "prod-v", true},
		{"shop", "prod-v3a", true},
		{"shop", "prod-V3", false},
		{"", "prod", false},
		{"shop", "", false},
		{"Shop", "prod", false},
		{"shop_api", "prod", false},
		{"-shop", "prod", false},
		{"shop-", "prod", false},
		{"shop", "pr od", false},
		{strings.Repeat("a", 63), "prod", true},
		{strings.Repeat("a", 64), "prod", false},
	}
	for _, tc := range tests {
		t.Run(tc.app+"@"+tc.env, func(t *testing.T) {
			_, err := config.New(tc.app, tc.env, config.Spec{}, config.Options{})
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, config.ErrInvalidName)
			}
		})
	}
}

func TestVariableNames(t *testing.T) {
	for name, ok := range map[string]bool{
		"PORT": true, "_X": true, "log_level": true, "A1": true, strings.Repeat("A", 256): true,
		"": false, "1A": false, "A-B": false, "A B": false, "A.B": false, "É": false, strings.Repeat("A", 257): false,
	} {
		_, err := config.New("shop", "prod", config.Spec{Env: map[string]string{name: "1"}}, config.Options{})
		_, serr := config.New("shop", "prod", config.Spec{Secrets: map[string]string{name: "env://X"}}, config.Options{})
		if ok {
			assert.NoError(t, err, name)
			assert.NoError(t, serr, name)
		} else {
			assert.ErrorIs(t, err, config.ErrInvalidName, name)
			assert.ErrorIs(t, serr, config.ErrInvalidName, name)
		}
	}
}

func TestValues(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		err         error
	}{
		{"ok", "multi\nline value with spaces and ünïcode", nil},
		{"largest", strings.Repeat("a", config.MaxValueSize), nil},
		{"too large", strings.Repeat("a", config.MaxValueSize+1), config.ErrInvalidConfig},
		{"NUL", "a\x00b", config.ErrInvalidConfig},
		{"not UTF-8", "a\xffb", config.ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"V": tc.value}}, config.Options{})
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			d, err := config.Decode(c.Bytes())
			require.NoError(t, err)
			assert.Equal(t, c.Env(), d.Env())
		})
	}
}

func TestReferences(t *testing.T) {
	for _, tc := range []struct {
		ref string
		ok  bool
	}{
		{"vault://kv/shop/prod#db_password", true},
		{"env://DB_PASSWORD", true},
		{"file:///run/secrets/db", true},
		{"awssm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop", true},
		{"vault://kv/shop?version=3", true},
		{"", false},
		{"DB_PASSWORD", false},                         // no scheme
		{"/run/secrets/db", false},                     // no scheme
		{"Vault://kv/shop", false},                     // uppercase scheme
		{"ENV://X", false},                             // uppercase scheme
		{"1vault://kv", false},                         // scheme starts with a digit
		{"vault://", false},                            // names nothing
		{"vault://admin:hunter2@vault:8200/kv", false}, // credentials
		{"vault://admin@vault:8200/kv", false},         // user information
		{"vault://kv/shop?token=hunter2", false},       // credential in the query
		{"vault://kv/shop?x=%zz", false},               // malformed query
		{"vault://kv/%zz", false},                      // not a URI
	} {
		t.Run(tc.ref, func(t *testing.T) {
			_, err := config.New("shop", "prod", config.Spec{Secrets: map[string]string{"S": tc.ref}}, config.Options{})
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, config.ErrInvalidReference)
			var ve *config.VarError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "S", ve.Name)
			if tc.ref != "" {
				assert.NotContains(t, err.Error(), tc.ref, "the reference is never echoed")
			}
			for _, part := range []string{"hunter2", "admin", "Vault", "VAULT", "ENV"} {
				assert.NotContains(t, err.Error(), part)
			}
		})
	}
}

func TestBothPlainAndSecret(t *testing.T) {
	_, err := config.New("shop", "prod", config.Spec{
		Env:     map[string]string{"X": "1"},
		Secrets: map[string]string{"X": "env://X"},
	}, config.Options{})
	require.ErrorIs(t, err, config.ErrInvalidConfig)
	var ve *config.VarError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "X", ve.Name)
}

// TestSecretShapedName: a name that looks like a secret value (key and
// value swapped) is refused and not shown.
func TestSecretShapedName(t *testing.T) {
	key := "AKIA" + "IOSFODNN7EXAMPLE"
	pem := "-----BEGIN PRIVATE KEY-----MIIE"
	for _, name := range []string{key, pem, strings.Repeat("N", 300)} {
		_, err := config.New("shop", "prod", config.Spec{Env: map[string]string{name: "AWS_ACCESS_KEY_ID"}}, config.Options{})
		require.Error(t, err)
		assert.NotContains(t, err.Error(), name)
		assert.Contains(t, err.Error(), "not shown")
	}
	_, err := config.New(key, "prod", config.Spec{}, config.Options{})
	require.ErrorIs(t, err, config.ErrInvalidName)
	assert.NotContains(t, err.Error(), key)
	_, err = config.New("shop", strings.Repeat("p", 1000), config.Spec{}, config.Options{})
	require.ErrorIs(t, err, config.ErrInvalidName)
	assert.Less(t, len(err.Error()), 300)
}

func TestDecode(t *testing.T) {
	c, err := config.Decode([]byte(shopJSON))
	require.NoError(t, err)
	assert.Equal(t, shop(t).Digest(), c.Digest())
	assert.Equal(t, shopJSON, string(c.Bytes()))

	for name, input := range map[string]string{
		"indented":        "{\n  \"app\": \"shop\",\n  \"environment\": \"prod\"\n}",
		"key order":       `{"environment":"prod","app":"shop"}`,
		"map order":       `{"app":"shop","environment":"prod","env":{"PORT":"8080","LOG_LEVEL":"info"}}`,
		"trailing ln":     `{"app":"shop","environment":"prod"}` + "\n",
		"empty env":       `{"app":"shop","environment":"prod","env":{}}`,
		"null env":        `{"app":"shop","environment":"prod","env":null}`,
		"escaped":         `{"app":"\u0073hop","environment":"prod"}`,
		"upper field":     `{"APP":"shop","environment":"prod"}`,
		"unknown field":   `{"app":"shop","environment":"prod","x":"1"}`,
		"duplicate":       `{"app":"shop","environment":"prod","env":{"A":"1","A":"1"}}`,
		"trailing data":   `{"app":"shop","environment":"prod"}{}`,
		"not JSON":        `app=shop`,
		"empty":           ``,
		"bad environment": `{"app":"shop","environment":"prod-v2"}`,
		"bad reference":   `{"app":"shop","environment":"prod","secrets":{"S":"nothing"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Decode([]byte(input))
			assert.Error(t, err)
		})
	}
	_, err = config.Decode([]byte(strings.Repeat(" ", config.MaxSize+1)))
	assert.ErrorIs(t, err, config.ErrInvalidConfig)
}

// TestDecodeReportsFindings: Decode refuses nothing for looking like a
// secret, but reports every match, so a release can show it.
func TestDecodeReportsFindings(t *testing.T) {
	stored := `{"app":"shop","environment":"prod","env":{"API_TOKEN":"public-demo","SEED":"q8Z2vX7pL0mN4rT9wK3yB6cF1hJ5sD"}}`
	c, err := config.Decode([]byte(stored))
	require.NoError(t, err)
	assert.Equal(t, []config.Finding{{Name: "API_TOKEN", Rule: "name-token"}, {Name: "SEED", Rule: "high-entropy"}}, c.Findings())
}

// TestDeterminism: the same content, however it was written, gives the
// same bytes and digest.
func TestDeterminism(t *testing.T) {
	want := shop(t)
	layouts := []string{
		shopJSON,
		`{"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"},"env":{"PORT":"8080","LOG_LEVEL":"info"},"environment":"prod","app":"shop"}`,
		"{\n\t\"app\": \"shop\",\n\t\"environment\": \"prod\",\n\t\"env\": {\n\t\t\"PORT\": \"8080\",\r\n\t\t\"LOG_LEVEL\": \"info\"\n\t},\n\t\"secrets\": {\"DB_PASSWORD\": \"vault://kv/shop/prod#db_password\"}\n}\n",
		`{"app":"\u0073hop","environment":"prod","env":{"LOG_LEVEL":"in\u0066o","PORT":"8080"},"secrets":{"DB_PASSWORD":"vault:\/\/kv\/shop\/prod#db_password"}}`,
	}
	for i, layout := range layouts {
		c, err := config.Parse([]byte(layout), config.Options{})
		require.NoError(t, err, "layout %d", i)
		assert.Equal(t, want.Bytes(), c.Bytes(), "layout %d", i)
		assert.Equal(t, want.Digest(), c.Digest(), "layout %d", i)
	}
	for range 20 {
		env := map[string]string{}
		for _, k := range []string{"Z", "A", "M", "B", "Y"} {
			env[k] = k
		}
		c, err := config.New("shop", "prod", config.Spec{Env: env}, config.Options{})
		require.NoError(t, err)
		assert.Equal(t, `{"app":"shop","environment":"prod","env":{"A":"A","B":"B","M":"M","Y":"Y","Z":"Z"}}`, string(c.Bytes()))
	}
	// No HTML escaping, no indentation, no newline.
	c, err := config.New("shop", "prod", config.Spec{Env: map[string]string{"HTML": "<a&b>"}}, config.Options{})
	require.NoError(t, err)
	assert.Equal(t, `{"app":"shop","environment":"prod","env":{"HTML":"<a&b>"}}`, string(c.Bytes()))
}

func TestErrorKindsAreDistinct(t *testing.T) {
	kinds := []error{config.ErrInvalidName, config.ErrInvalidConfig, config.ErrInvalidReference,
		config.ErrPlaintextSecret, config.ErrMediaType, config.ErrUnresolved}
	for i, a := range kinds {
		for j, b := range kinds {
			assert.Equal(t, i == j, errors.Is(a, b), "%v / %v", a, b)
		}
	}
	ve := &config.VarError{Name: "DB_PASSWORD", Rule: "name-password", Err: config.ErrPlaintextSecret}
	assert.Equal(t, `"DB_PASSWORD": plaintext secret (rule name-password)`, ve.Error())
	assert.ErrorIs(t, ve, config.ErrPlaintextSecret)
}
