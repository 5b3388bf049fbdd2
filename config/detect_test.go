package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Token-shaped test values are put together from pieces, so that secret
// scanners reading this file do not take them for leaked credentials.
func fake(prefix string, parts ...string) string { return prefix + strings.Join(parts, "") }

const body36 = "Zq7XbK2mW9pL4vR8tY1nC5dF3gH6jS0aQe2M" // 36 letters and digits

// ruleCase is one row of the rule table: New with name=value must refuse
// it by rule want, or accept it when want is "". rule is the rule the row
// is about: a positive when want == rule, a near miss when want is "".
type ruleCase struct {
	rule, name, value, want string
}

var ruleCases = []ruleCase{
	// Value rules, under names that match no name rule.
	{"pem-private-key", "SETTING", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n", "pem-private-key"},
	{"pem-private-key", "SETTING", "-----BEGIN OPENSSH PRIVATE KEY-----", "pem-private-key"},
	{"pem-private-key", "SETTING", "-----BEGIN PRIVATE KEY-----", "pem-private-key"},
	{"pem-private-key", "SETTING", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYI\n-----END PUBLIC KEY-----", ""},
	{"pem-private-key", "TLS_CERT", "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----", ""},

	{"aws-access-key-id", "SETTING", fake("AKIA", "IOSFODNN7EXAMPLE"), "aws-access-key-id"},
	{"aws-access-key-id", "SETTING", fake("ASIA", "Q3EGUCWHDZK6VN2B"), "aws-access-key-id"},
	{"aws-access-key-id", "SETTING", strings.ToLower(fake("AKIA", "IOSFODNN7EXAMPLE")), ""},
	{"aws-access-key-id", "SETTING", fake("AKIA", "IOSFODNN7EXAMP"), ""},

	{"gcp-api-key", "SETTING", fake("AIza", "SyD", body36[:32]), "gcp-api-key"},
	{"gcp-api-key", "SETTING", fake("AIza", "SyD", "short"), ""},

	{"github-token", "SETTING", fake("ghp_", body36), "github-token"},
	{"github-token", "SETTING", fake("github_", "pat_", "11ABCDEFG0123456789_abcdefghij"), "github-token"},
	{"github-token", "SETTING", fake("ghp_", "short"), ""},

	{"gitlab-token", "SETTING", fake("glpat-", "xQ8vZ2mK7pL0nR4tW9yB"), "gitlab-token"},
	{"gitlab-token", "SETTING", fake("glpat-", "short"), ""},

	{"slack-token", "SETTING", fake("xoxb-", "2419283746-Qm3kZpX9"), "slack-token"},
	{"slack-token", "SETTING", fake("xoxb-", "1"), ""},

	{"stripe-key", "SETTING", fake("sk_", "live_", body36[:24]), "stripe-key"},
	{"stripe-key", "SETTING", fake("rk_", "test_", body36[:16]), "stripe-key"},
	{"stripe-key", "SETTING", fake("sk_", "live_", "short"), ""},

	{"npm-token", "SETTING", fake("npm_", body36), "npm-token"},
	{"npm-token", "SETTING", "npm_config_cache", ""},

	{"pypi-token", "SETTING", fake("pypi-", "AgEIcHlwaS5vcmc", body36, "_-xyz"), "pypi-token"},
	{"pypi-token", "SETTING", "pypi-simple-index", ""},

	{"openai-key", "SETTING", fake("sk-", "proj-", body36), "openai-key"},
	{"openai-key", "SETTING", "task-runner-queue", ""},

	{"google-oauth-token", "SETTING", fake("ya29.", "a0AfH6SMBx", body36[:20]), "google-oauth-token"},
	{"google-oauth-token", "SETTING", "ya29.short", ""},

	{"sendgrid-key", "SETTING", fake("SG.", "ngeVfQFYQlKU0ufo8x5d1A", ".", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr"), "sendgrid-key"},
	{"sendgrid-key", "SETTING", "SG.abc.def", ""},

	{"huggingface-token", "SETTING", fake("hf_", body36[:34]), "huggingface-token"},
	{"huggingface-token", "SETTING", "hf_transfer", ""},

	{"jwt", "SETTING", fake("eyJ", "hbGciOiJIUzI1NiJ9", ".eyJ", "zdWIiOiIxMjM0NTY3ODkwIn0", ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"), "jwt"},
	{"jwt", "SETTING", fake("eyJ", "hbGciOiJIUzI1NiJ9"), ""},

	{"url-password", "DATABASE_URL", "postgres://shop:hunter2@db.internal:5432/shop", "url-password"},
	{"url-password", "REDIS_URL", "redis://:hunter2@cache:6379/0", "url-password"},
	{"url-password", "DATABASE_URL", "postgres://shop@db.internal:5432/shop?sslmode=require", ""},
	{"url-password", "UPSTREAM", "http://api.internal:8080/v1?next=a@b", ""},

	{"high-entropy", "SETTING", "q8Z2vX7pL0mN4rT9wK3yB6cF1hJ5sD", "high-entropy"},
	{"high-entropy", "SETTING", "9f86d081884c7d659a2feaa0c55ad015", "high-entropy"},
	{"high-entropy", "SETTING", "  q8Z2vX7pL0mN4rT9wK3yB6cF1hJ5sD\n", "high-entropy"},
	{"high-entropy", "REQUEST_ID", "123e4567-e89b-12d3-a456-426614174000", ""},
	{"high-entropy", "SETTING", "the_quick_brown_fox_jumps_over_the_lazy_dog", ""},
	{"high-entropy", "SETTING", "payments-reconciliation-worker-eu-central1"[:40], ""},
	{"high-entropy", "SETTING", "ShopStagingCustomerPublicKafkaFr", ""},
	{"high-entropy", "SETTING", "q8Z2vX7pL0mN4rT9wK3", ""},
	{"high-entropy", "SETTING", "9f86d081884c7d659a2feaa0c55ad0", ""},
	{"high-entropy", "SETTING", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1", ""},
	{"high-entropy", "GREETING", "hello world, this is a long sentence 42", ""},

	// Name rules.
	{"name-password", "DB_PASSWORD", "hunter2", "name-password"},
	{"name-password", "dbPassword", "hunter2", "name-password"},
	{"name-password", "MYSQLPASSWORD", "hunter2", "name-password"},
	{"name-password", "REDIS_PASS", "hunter2", "name-password"},
	{"name-password", "MYSQL_PWD", "hunter2", "name-password"},
	{"name-password", "PWD", "/srv/shop", ""},
	{"name-password", "OLDPWD", "/srv", ""},
	{"name-password", "CACHE_BYPASS", "1", ""},
	{"name-password", "DB_PASSWORD", "true", ""},
	{"name-password", "DB_PASSWORD", "", ""},
	{"name-password", "PASSWORD_MIN_LENGTH", "12", ""},
	{"name-password", "DB_PASSWORD_FILE", "/run/secrets/db_password", ""},

	{"name-secret", "CLIENT_SECRET", "s3", "name-secret"},
	{"name-secret", "webhookSecret", "s3", "name-secret"},
	{"name-secret", "SECRET_NAME", "shop-db", ""},
	{"name-secret", "SECRETARY", "alice", ""},

	{"name-token", "API_TOKEN", "t0", "name-token"},
	{"name-token", "GITHUB_TOKEN", "t0", "name-token"},
	{"name-token", "TOKEN_URL", "https://auth.internal/token", ""},
	{"name-token", "TOKENIZER", "bert", ""},

	{"name-credential", "GOOGLE_APPLICATION_CREDENTIALS", "{}", "name-credential"},
	{"name-credential", "DB_CREDS", "a", "name-credential"},
	{"name-credential", "CREDENTIALS_FILE", "/etc/gcp.json", ""},
	{"name-credential", "INCREDIBLE_MODE", "on", ""},

	{"name-private", "PRIVATE_KEY", "abc", "name-private"},
	{"name-private", "JWT_PRIVATE", "abc", "name-private"},
	{"name-private", "PRIVATE_KEY_PATH", "/run/secrets/key.pem", ""},
	{"name-private", "PRIVATELY", "no", ""},

	{"name-key", "API_KEY", "abc", "name-key"},
	{"name-key", "STRIPE_APIKEY", "abc", "name-key"},
	{"name-key", "signingKey", "abc", "name-key"},
	{"name-key", "MASTER_KEYS", "abc", "name-key"},
	{"name-key", "AWS_ACCESS_KEY_ID", fake("AKIA", "IOSFODNN7EXAMP"), ""},
	{"name-key", "KEY_ID", "k1", ""},
	{"name-key", "KEYBOARD_LAYOUT", "us", ""},
	{"name-key", "MONKEY", "1", ""},
}

func TestRules(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			_, err := New("shop", "prod", Spec{Env: map[string]string{tc.name: tc.value}}, Options{})
			if tc.want == "" {
				assert.NoError(t, err, "near miss of %s refused", tc.rule)
				return
			}
			require.ErrorIs(t, err, ErrPlaintextSecret)
			var ve *VarError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.name, ve.Name)
			assert.Equal(t, tc.want, ve.Rule)
		})
	}
}

// TestRulesCovered: every rule has a positive row and a near miss.
func TestRulesCovered(t *testing.T) {
	positive, negative := map[string]bool{}, map[string]bool{}
	for _, tc := range ruleCases {
		if tc.want == "" {
			negative[tc.rule] = true
		} else {
			require.Equal(t, tc.rule, tc.want, "row %s=%q: a positive row expects its own rule", tc.name, tc.value)
			positive[tc.rule] = true
		}
	}
	for _, id := range ruleIDs() {
		assert.True(t, positive[id], "rule %s has no positive row", id)
		assert.True(t, negative[id], "rule %s has no near-miss row", id)
	}
}

// ruleIDs lists every rule ID, in the order the rules apply.
func ruleIDs() []string {
	var ids []string
	for _, r := range valueRules {
		ids = append(ids, r.id)
	}
	ids = append(ids, "high-entropy")
	for _, r := range nameRules {
		ids = append(ids, r.id)
	}
	return ids
}

func TestEntropyThresholds(t *testing.T) {
	// Just below and at the documented thresholds.
	atLength := "q8Z2vX7pL0mN4rT9wK3yB6cF" // 24 distinct characters: log2(24) bits each
	require.Len(t, atLength, EntropyMinLength)
	assert.GreaterOrEqual(t, entropy(atLength), EntropyMinBits)
	assert.True(t, highEntropy(atLength))
	assert.False(t, highEntropy(atLength[1:]), "shorter than EntropyMinLength")

	low := strings.Repeat("ab12", 8) // 2 bits per character
	assert.False(t, highEntropy(low))

	hex := "9f86d081884c7d659a2feaa0c55ad015"
	require.Len(t, hex, EntropyMinLengthHex)
	assert.GreaterOrEqual(t, entropy(hex), EntropyMinBitsHex)
	assert.True(t, highEntropy(hex))
	assert.False(t, highEntropy(strings.Repeat("ab", 16)), "hex below EntropyMinBitsHex")

	assert.InDelta(t, 0, entropy("aaaa"), 1e-9)
	assert.InDelta(t, 1, entropy("abab"), 1e-9)
	assert.InDelta(t, 2, entropy("abcd"), 1e-9)
}

func TestSplitName(t *testing.T) {
	for name, want := range map[string][]string{
		"DB_PASSWORD":   {"DB", "PASSWORD"},
		"dbPassword_v2": {"DB", "PASSWORD", "V2"},
		"APIKey":        {"APIKEY"},
		"_X__Y_":        {"X", "Y"},
		"_":             {""},
	} {
		assert.Equal(t, want, splitName(name), name)
	}
}

// TestReferenceRulesShareValueRules: a reference that looks like a secret
// value is refused by the rule that matches it.
func TestReferenceLooksLikeSecret(t *testing.T) {
	err := checkReference("vault://kv/" + fake("ghp_", body36))
	require.ErrorIs(t, err, ErrInvalidReference)
	assert.Contains(t, err.Error(), "github-token")
	assert.False(t, errors.Is(err, ErrPlaintextSecret))
}
