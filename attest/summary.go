package attest

import (
	"fmt"
	"regexp"
)

// Summary is the consolidated security view of a release, kept inside the
// signed release record so that no verdict can be swapped without breaking
// the signature. A field is empty when no evidence of its kind is attached;
// so far only the config findings are filled in.
type Summary struct {
	// Config lists the plain variables of the release's config that match
	// a plaintext-secret rule and were allowed by the config's author.
	Config []ConfigFinding `json:"config,omitempty"`
}

// ConfigFinding is a plain config variable that matched a plaintext-secret
// rule: its name and the rule's ID, never its value.
type ConfigFinding struct {
	Name string `json:"name"`
	Rule string `json:"rule"`
}

var (
	varRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	ruleRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// Validate checks that s is well formed: config findings sorted by name,
// each name a variable name and each rule an ID.
func (s Summary) Validate() error {
	for i, f := range s.Config {
		if !varRE.MatchString(f.Name) || !ruleRE.MatchString(f.Rule) {
			return fmt.Errorf("attest: summary: config finding %d: malformed name or rule", i)
		}
	}
	for i := 1; i < len(s.Config); i++ {
		if s.Config[i-1].Name >= s.Config[i].Name {
			return fmt.Errorf("attest: summary: config findings not sorted by name, or a name repeats")
		}
	}
	return nil
}
