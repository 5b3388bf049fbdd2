package attest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/slipway-dev/slipway/attest"
)

func TestSummaryValidate(t *testing.T) {
	cases := []struct {
		name string
		s    attest.Summary
		ok   bool
	}{
		{"empty", attest.Summary{}, true},
		{"sorted", attest.Summary{Config: []attest.ConfigFinding{{"A", "jwt"}, {"B_KEY", "name-key"}}}, true},
		{"repeated name", attest.Summary{Config: []attest.ConfigFinding{{"A", "jwt"}, {"A", "name-key"}}}, false},
		{"bad variable name", attest.Summary{Config: []attest.ConfigFinding{{"1A", "jwt"}}}, false},
		{"bad rule", attest.Summary{Config: []attest.ConfigFinding{{"A", "Not A Rule"}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}
