package attest_test

import (
	"fmt"

	"github.com/slipway-dev/slipway/attest"
)

func ExampleSummary_Validate() {
	s := attest.Summary{Config: []attest.ConfigFinding{{Name: "BUILD_SHA", Rule: "high-entropy"}}}
	fmt.Println(s.Validate())
	s.Config = append(s.Config, attest.ConfigFinding{Name: "API_KEY", Rule: "name-key"})
	fmt.Println(s.Validate())
	// Output:
	// <nil>
	// attest: summary: config findings not sorted by name, or a name repeats
}
