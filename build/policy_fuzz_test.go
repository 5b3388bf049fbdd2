package build_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/internal/canonjson"
)

// FuzzParsePolicy: no input panics ParsePolicy or Check; a policy that
// parses re-parses from the canonical JSON of its spec to the same spec
// and digest, and that JSON is a fixed point.
func FuzzParsePolicy(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"failOn":"critical","requireSBOM":true,"requireClean":true,"requireRevision":true,"forbiddenFiles":[".env","*.pem","config/*.key"],"maxFileSize":1048576}`,
		`{"rules":[{"name":"no-shell","expr":"!build.files.exists(f, f.path.endsWith('.sh'))","message":"shell scripts are not shipped"}]}`,
		`{"rules":[{"name":"no-critical","expr":"summary.vulnerabilities.open.critical == 0"},{"name":"web","expr":"build.processes.exists(p, p.name == \"web\")"}]}`,
		"{\n  \"failOn\": \"high\",\n  \"forbiddenFiles\": [ \"\\u002eenv\" ]\n}\n",
		`{"rules":[{"name":"idx","expr":"build.files[3].size < 10"}]}`,
		`{"failOn":"severe"}`,
		`{"failOnn":"high"}`,
		`{"forbiddenFiles":["["]}`,
		`{"maxFileSize":-1}`,
		`{"rules":[{"name":"x","expr":"build.nope"}]}`,
		`{"rules":[{"name":"sbom","expr":"true"}]}`,
		`null`,
		`{} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := build.ParsePolicy(data, "fuzz.json")
		if err != nil {
			assert.ErrorIs(t, err, build.ErrInvalidPolicy)
			return
		}
		canon, err := canonjson.Marshal(p.Spec())
		require.NoError(t, err)
		again, err := build.ParsePolicy(canon, "canonical.json")
		require.NoError(t, err, "%s", canon)
		assert.Equal(t, p.Digest(), again.Digest())
		assert.Equal(t, p.Spec(), again.Spec())
		twice, err := canonjson.Marshal(again.Spec())
		require.NoError(t, err)
		assert.Equal(t, string(canon), string(twice))

		// Whatever the rules say, checking never panics.
		p.Check(attest.Summary{}, build.Facts{})
		p.Check(attest.Summary{
			Vulnerabilities: &attest.VulnSummary{Findings: []attest.Finding{{ID: "CVE-1", Severity: attest.SeverityLow}}},
		}, build.Facts{App: "shop", Created: time.Unix(0, 0), Files: []build.FileFacts{{Path: "a/.env", Type: "file", Size: 1 << 40}}})
	})
}
