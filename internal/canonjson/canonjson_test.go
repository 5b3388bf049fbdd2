package canonjson

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type doc struct {
	Name string            `json:"name"`
	Tags map[string]string `json:"tags,omitempty"`
	N    int               `json:"n,omitempty"`
}

func TestMarshalIsDeterministic(t *testing.T) {
	v := doc{Name: "<a&b>", Tags: map[string]string{"z": "1", "a": "2", "m": "3"}}
	first, err := Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, `{"name":"<a&b>","tags":{"a":"2","m":"3","z":"1"}}`, string(first), "sorted keys, no HTML escaping, no newline")
	for range 20 {
		again, err := Marshal(v)
		require.NoError(t, err)
		assert.Equal(t, first, again)
	}
}

func TestUnmarshalIsStrict(t *testing.T) {
	var d doc
	require.NoError(t, Unmarshal([]byte(`{"name":"x","n":1}`), &d))
	assert.Equal(t, doc{Name: "x", N: 1}, d)

	for input, why := range map[string]string{
		`{"name":"x","extra":1}`:  "unknown field",
		`{"name":"x"} {}`:         "trailing data",
		`{"name":"x"}` + "\n":     "not canonical",
		`{ "name":"x"}`:           "not canonical",
		`{"n":1,"name":"x"}`:      "not canonical",
		`{"name":"x","n":0}`:      "not canonical",
		`{"name":"\u0078"}`:       "not canonical",
		`{"name":"x","tags":{}}`:  "not canonical",
		`{"name":"x","name":"y"}`: "not canonical",
	} {
		var d doc
		err := Unmarshal([]byte(input), &d)
		assert.Error(t, err, "%s: %s", why, input)
		if why == "not canonical" {
			assert.ErrorIs(t, err, ErrNotCanonical, input)
		}
	}
}
