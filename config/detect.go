package config

import (
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// The plaintext-secret rules, docs/config.md. Value rules come first: they
// are the more specific. Each has an ID that errors and findings name.
var valueRules = []struct {
	id string
	re *regexp.Regexp
}{
	{"pem-private-key", regexp.MustCompile(`-----BEGIN[A-Z0-9 ]* PRIVATE KEY( BLOCK)?-----`)},
	{"aws-access-key-id", regexp.MustCompile(`\b(AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA)[A-Z2-7]{16}\b`)},
	{"gcp-api-key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"github-token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`)},
	{"gitlab-token", regexp.MustCompile(`\bgl(pat|dt|rt|ptt|oas)-[A-Za-z0-9_-]{20,}`)},
	{"slack-token", regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{"stripe-key", regexp.MustCompile(`\b[rs]k_(live|test)_[A-Za-z0-9]{16,}`)},
	{"npm-token", regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{"pypi-token", regexp.MustCompile(`\bpypi-[A-Za-z0-9_-]{50,}`)},
	{"openai-key", regexp.MustCompile(`\bsk-(proj-|ant-)?[A-Za-z0-9_-]{20,}`)},
	{"google-oauth-token", regexp.MustCompile(`\bya29\.[0-9A-Za-z_-]{20,}`)},
	{"sendgrid-key", regexp.MustCompile(`\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b`)},
	{"huggingface-token", regexp.MustCompile(`\bhf_[A-Za-z0-9]{30,}\b`)},
	{"jwt", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`)},
	{"url-password", regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@`)},
}

// Thresholds of the high-entropy rule. A value matches when, spaces
// around it trimmed, it is either
//
//   - at least EntropyMinLength token characters (letters, digits and
//     the characters +/=_-) with at least one letter and one digit, and a
//     Shannon entropy of at least EntropyMinBits bits per character; or
//   - at least EntropyMinLengthHex hexadecimal digits with at least
//     EntropyMinBitsHex bits per character (their alphabet caps them at 4).
//
// UUIDs are identifiers, not secrets, and never match; nor do values
// without a digit, such as word-like identifiers (payments-worker-eu-west,
// ShopPaymentsWorker), which are often as varied as random strings.
const (
	EntropyMinLength    = 24
	EntropyMinBits      = 4.0
	EntropyMinLengthHex = 32
	EntropyMinBitsHex   = 3.0
)

var (
	tokenRE = regexp.MustCompile(`^[A-Za-z0-9+/=_-]+$`)
	hexRE   = regexp.MustCompile(`^[0-9a-fA-F]+$`)
	uuidRE  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	digitRE = regexp.MustCompile(`[0-9]`)
	alphaRE = regexp.MustCompile(`[A-Za-z]`)
)

// Name rules: words in a variable's name that say its value is a secret.
// A name is split into words at underscores and at lower-to-upper case
// changes (dbPassword_v2: DB, PASSWORD, V2). A word matches a rule when it
// ends with one of the rule's suffixes (DBPASSWORD) or equals one of its
// exact words: short words such as PASS would otherwise match BYPASS.
var nameRules = []struct {
	id       string
	suffixes []string
	exact    []string
}{
	{"name-password", []string{"PASSWORD", "PASSWORDS", "PASSWD", "PASSPHRASE"}, []string{"PASS", "PWD"}},
	{"name-secret", []string{"SECRET", "SECRETS"}, nil},
	{"name-token", []string{"TOKEN", "TOKENS"}, nil},
	{"name-credential", []string{"CREDENTIAL", "CREDENTIALS"}, []string{"CREDS"}},
	{"name-private", []string{"PRIVATE"}, nil},
	{"name-key", []string{"APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "SIGNINGKEY"}, nil},
}

// describing are last words of a name that make it about a secret rather
// than the secret itself: DB_PASSWORD_FILE, TOKEN_URL, PASSWORD_MIN_LENGTH.
// The value rules still apply to such variables.
var describing = map[string]bool{
	"FILE": true, "PATH": true, "DIR": true, "URL": true, "URI": true, "ENDPOINT": true,
	"HOST": true, "PORT": true, "NAME": true, "ID": true, "LENGTH": true, "LEN": true,
	"TTL": true, "TIMEOUT": true, "HEADER": true,
}

// harmless are values no name rule refuses: switches, not secrets.
var harmless = map[string]bool{
	"true": true, "false": true, "yes": true, "no": true, "on": true, "off": true,
	"enabled": true, "disabled": true, "none": true,
}

// detect returns the ID of the first rule the plain variable name=value
// matches, or "" if it matches none.
func detect(name, value string) string {
	if value == "" {
		return ""
	}
	if rule := detectValue(value); rule != "" {
		return rule
	}
	if harmless[strings.ToLower(strings.TrimSpace(value))] {
		return ""
	}
	return detectName(name)
}

// detectValue applies the value rules.
func detectValue(value string) string {
	if rule := detectPattern(value); rule != "" {
		return rule
	}
	if highEntropy(strings.TrimSpace(value)) {
		return "high-entropy"
	}
	return ""
}

// detectPattern applies the value rules but high-entropy.
func detectPattern(value string) string {
	for _, r := range valueRules {
		if r.re.MatchString(value) {
			return r.id
		}
	}
	return ""
}

func detectName(name string) string {
	if name == "PWD" || name == "OLDPWD" {
		return "" // the shell's working directory
	}
	words := splitName(name)
	last := words[len(words)-1]
	if describing[last] {
		return ""
	}
	for _, r := range nameRules {
		for _, w := range words {
			if slices.Contains(r.exact, w) || slices.ContainsFunc(r.suffixes, func(s string) bool { return strings.HasSuffix(w, s) }) {
				return r.id
			}
		}
	}
	// _KEY: a last word KEY or KEYS (API_KEY, MASTER_KEY), not KEY_ID.
	if last == "KEY" || last == "KEYS" {
		return "name-key"
	}
	return ""
}

// splitName splits a variable name into upper-case words at underscores and
// at lower-to-upper case changes: dbPassword_v2 gives DB, PASSWORD, V2.
func splitName(name string) []string {
	var words []string
	var cur strings.Builder
	prevLower := false
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, strings.ToUpper(cur.String()))
			cur.Reset()
		}
	}
	for _, r := range name {
		switch {
		case r == '_':
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur.WriteRune(r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	if len(words) == 0 {
		return []string{""}
	}
	return words
}

// highEntropy reports whether s is a long run of token characters random
// enough to be a key.
func highEntropy(s string) bool {
	switch {
	case uuidRE.MatchString(s):
		return false
	case hexRE.MatchString(s):
		return len(s) >= EntropyMinLengthHex && entropy(s) >= EntropyMinBitsHex
	case len(s) < EntropyMinLength || !tokenRE.MatchString(s) || !digitRE.MatchString(s) || !alphaRE.MatchString(s):
		return false
	}
	return entropy(s) >= EntropyMinBits
}

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}
