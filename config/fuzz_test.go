package config_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/config"
)

// fuzzSeeds are config documents, valid and nearly so.
var fuzzSeeds = []string{
	shopJSON,
	"{\n  \"app\": \"shop\",\n  \"environment\": \"prod\",\n  \"env\": {\"PORT\": \"8080\", \"LOG_LEVEL\": \"info\"},\n  \"secrets\": {\"DB_PASSWORD\": \"vault://kv/shop/prod#db_password\"}\n}\n",
	`{"secrets":{"B":"env://B","A":"file:///run/secrets/a"},"environment":"dev","app":"a"}`,
	`{"app":"shop","environment":"prod","env":{"GREETING":"h\u00e9llo <b>&amp;</b>\n","EMPTY":""}}`,
	`{"app":"shop","environment":"prod","env":{"API_TOKEN":"public-demo"}}`,
	`{"app":"shop","environment":"prod","env":{"X":"\u2028\ud83d\ude00\t"}}`,
	`{"app":"shop","environment":"prod-v3"}`,
	`{"app":"shop","environment":"prod","env":{"A":"1","A":"2"}}`,
	`{"app":"shop","environment":"prod","env":{"A":1}}`,
	`{"APP":"shop","environment":"prod"}`,
	`{"app":"shop","environment":"prod"} {}`,
}

// FuzzParse: whatever Parse accepts, Decode accepts in its stored form,
// giving the identical bytes, digest and variables.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
	}
	f.Add([]byte(`{"app":"shop","environment":"prod","env":{"API_TOKEN":"public-demo"}}`), true)
	f.Fuzz(func(t *testing.T, data []byte, allowAll bool) {
		var opts config.Options
		if allowAll {
			// Admit every plain variable, so that values matching a rule
			// reach the round trip too.
			opts.AllowPlaintext = allowEveryVariable(data)
		}
		c, err := config.Parse(data, opts)
		if err != nil {
			assert.True(t, isKnown(err), "an error of no known kind: %v", err)
			return
		}
		stored := c.Bytes()
		assert.LessOrEqual(t, len(stored), config.MaxSize)
		d, err := config.Decode(stored)
		require.NoError(t, err, "Decode of what Parse made: %s", stored)
		assert.Equal(t, stored, d.Bytes())
		assert.Equal(t, c.Digest(), d.Digest())
		assert.Equal(t, c.Descriptor(), d.Descriptor())
		assert.Equal(t, c.App(), d.App())
		assert.Equal(t, c.Environment(), d.Environment())
		assert.Equal(t, c.Env(), d.Env())
		assert.Equal(t, c.Secrets(), d.Secrets())
		assert.Equal(t, c.Findings(), d.Findings())
		assert.Empty(t, config.Diff(c, d))

		again, err := config.Parse(stored, opts)
		require.NoError(t, err, "Parse of the stored form")
		assert.Equal(t, stored, again.Bytes(), "the stored form is a fixed point")
	})
}

// allowEveryVariable returns the names of the plain variables of data, if
// it parses at all.
func allowEveryVariable(data []byte) []string {
	var names []string
	_, err := config.Parse(data, config.Options{})
	for _, ve := range varErrors(err) {
		if errors.Is(ve, config.ErrPlaintextSecret) {
			names = append(names, ve.Name)
		}
	}
	return names
}

// FuzzDecode: Decode accepts only canonical bytes, so what it accepts
// re-encodes to itself.
func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"app":"shop","environment":"prod","env":{"API_TOKEN":"public-demo","SEED":"q8Z2vX7pL0mN4rT9wK3yB6cF1hJ5sD"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Decode(data)
		if err != nil {
			assert.True(t, isKnown(err), "an error of no known kind: %v", err)
			return
		}
		assert.Equal(t, data, c.Bytes())
		assert.Equal(t, int64(len(data)), c.Descriptor().Size)
		d, err := config.Decode(c.Bytes())
		require.NoError(t, err)
		assert.Equal(t, c.Digest(), d.Digest())
		assert.Equal(t, c.Findings(), d.Findings())
	})
}

func isKnown(err error) bool {
	for _, kind := range []error{config.ErrInvalidName, config.ErrInvalidConfig, config.ErrInvalidReference, config.ErrPlaintextSecret} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}
