package config

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docExample is a JSON block of docs/config.md and the marker before it.
type docExample struct {
	marker, arg, json string
	line              int
}

var docBlockRE = regexp.MustCompile("(?s)(?:<!-- ([a-z]+)(?:: ([^>]*?))? -->\\n)?```json\\n(.*?)```")

func readConfigDoc(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../docs/config.md")
	require.NoError(t, err)
	return string(raw)
}

func docExamples(t *testing.T, doc string) []docExample {
	t.Helper()
	var out []docExample
	for _, m := range docBlockRE.FindAllStringSubmatchIndex(doc, -1) {
		part := func(i int) string {
			if m[2*i] < 0 {
				return ""
			}
			return doc[m[2*i]:m[2*i+1]]
		}
		out = append(out, docExample{marker: part(1), arg: part(2), json: part(3), line: strings.Count(doc[:m[0]], "\n") + 1})
	}
	require.NotEmpty(t, out, "docs/config.md has no JSON examples")
	return out
}

// docHas is assert.Contains without printing the whole page on failure.
func docHas(t *testing.T, doc, s string, msgAndArgs ...any) {
	t.Helper()
	if !strings.Contains(doc, s) {
		assert.Fail(t, "docs/config.md does not say "+strconv.Quote(s), msgAndArgs...)
	}
}

var docSentinels = map[string]error{
	"ErrInvalidName":      ErrInvalidName,
	"ErrInvalidConfig":    ErrInvalidConfig,
	"ErrInvalidReference": ErrInvalidReference,
	"ErrPlaintextSecret":  ErrPlaintextSecret,
}

// TestConfigDoc checks every JSON example of docs/config.md against Parse
// and Decode: each is accepted or refused as the marker before it says.
func TestConfigDoc(t *testing.T) {
	doc := readConfigDoc(t)
	for _, ex := range docExamples(t, doc) {
		t.Run(fmt.Sprintf("line %d", ex.line), func(t *testing.T) {
			data := []byte(ex.json)
			switch ex.marker {
			case "valid":
				_, err := Parse(data, Options{})
				assert.NoError(t, err)
			case "canonical":
				canon := strings.TrimSuffix(ex.json, "\n")
				c, err := Decode([]byte(canon))
				require.NoError(t, err)
				docHas(t, doc, "`"+c.Digest().String()+"`", "the page states the digest")
				docHas(t, doc, "`"+MediaType+"`")
				// The first example of the page is this config, laid out.
				first := docExamples(t, doc)[0]
				p, err := Parse([]byte(first.json), Options{})
				require.NoError(t, err)
				assert.Equal(t, canon, string(p.Bytes()))
			case "refused":
				_, err := Parse(data, Options{})
				if kind, ok := docSentinels[ex.arg]; ok {
					assert.ErrorIs(t, err, kind)
					return
				}
				require.ErrorIs(t, err, ErrPlaintextSecret)
				var ve *VarError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, ex.arg, ve.Rule)
			case "allowed":
				name, rule, _ := strings.Cut(ex.arg, " ")
				_, err := Parse(data, Options{})
				require.ErrorIs(t, err, ErrPlaintextSecret, "refused without the allow-list")
				c, err := Parse(data, Options{AllowPlaintext: []string{name}})
				require.NoError(t, err)
				assert.Equal(t, []Finding{{Name: name, Rule: rule}}, c.Findings())
			default:
				t.Errorf("a JSON example without a marker (<!-- valid -->, <!-- canonical -->, <!-- refused: rule-or-ErrX -->, <!-- allowed: NAME rule -->): %q", ex.json)
			}
		})
	}
}

// TestConfigDocTables checks the page's tables against the code: every
// rule ID, the entropy thresholds and the limits.
func TestConfigDocTables(t *testing.T) {
	doc := readConfigDoc(t)
	for _, id := range ruleIDs() {
		docHas(t, doc, "| `"+id+"` |", "rule %s has no row", id)
	}
	start, end := strings.Index(doc, "### Value rules"), strings.Index(doc, "### Examples")
	require.True(t, start >= 0 && end > start, "the rule tables lie between ### Value rules and ### Examples")
	rows := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| ").FindAllStringSubmatch(doc[start:end], -1)
	known := map[string]bool{}
	for _, id := range ruleIDs() {
		known[id] = true
	}
	for _, row := range rows {
		assert.True(t, known[row[1]], "the page lists rule %s, which the code does not have", row[1])
	}
	for name, value := range map[string]float64{
		"EntropyMinLength": EntropyMinLength, "EntropyMinBits": EntropyMinBits,
		"EntropyMinLengthHex": EntropyMinLengthHex, "EntropyMinBitsHex": EntropyMinBitsHex,
	} {
		want := fmt.Sprintf("%g", value)
		if value == float64(int(value)) && strings.Contains(name, "Bits") {
			want = fmt.Sprintf("%.1f", value)
		}
		docHas(t, doc, "| `"+name+"` | "+want+" |")
	}
	for word := range describing {
		docHas(t, doc, "`"+word+"`", "describing word %s", word)
	}
	for value := range harmless {
		docHas(t, doc, "`"+value+"`", "harmless value %s", value)
	}
	assert.Equal(t, 64<<10, MaxValueSize)
	assert.Equal(t, 1<<20, MaxSize)
	assert.Equal(t, 64<<10, MaxSecretFileSize)
}

// TestConfigDocText checks the page's printed error and diff.
func TestConfigDocText(t *testing.T) {
	doc := readConfigDoc(t)
	_, err := Parse([]byte(`{"app": "shop", "environment": "prod", "env": {"DB_PASSWORD": "hunter2"}}`), Options{})
	require.Error(t, err)
	docHas(t, doc, "```text\n"+err.Error()+"\n```")

	old, err := Parse([]byte(`{"app":"shop","environment":"prod","env":{"LOG_LEVEL":"info","DEBUG":"1","PORT":"8080"},
		"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password"}}`), Options{})
	require.NoError(t, err)
	next, err := Parse([]byte(`{"app":"shop","environment":"prod","env":{"LOG_LEVEL":"debug"},
		"secrets":{"DB_PASSWORD":"vault://kv/shop/prod#db_password_v2","API_KEY":"env://SHOP_API_KEY","PORT":"env://SHOP_PORT"}}`), Options{})
	require.NoError(t, err)
	var lines []string
	for _, c := range Diff(old, next) {
		lines = append(lines, c.String())
	}
	docHas(t, doc, "```text\n"+strings.Join(lines, "\n")+"\n```")
}
