package release_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/memory"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/config"
	"github.com/slipway-dev/slipway/internal/registrytest"
)

// created is the fixed creation time of test builds and releases.
var created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// store is one kind of store a ledger can live in.
type store struct {
	name string
	open func(t *testing.T) oras.Target
}

// stores returns every kind of store: memory, an OCI layout, and each test
// registry.
func stores(t *testing.T) []store {
	out := []store{
		{"memory", func(t *testing.T) oras.Target { return memory.New() }},
		{"layout", func(t *testing.T) oras.Target {
			l, err := build.OpenLayout(t.Context(), t.TempDir())
			require.NoError(t, err)
			return l
		}},
	}
	for _, reg := range registrytest.All(t) {
		out = append(out, store{reg.Name, func(t *testing.T) oras.Target { return reg.Repository(t, "acme/shop") }})
	}
	return out
}

// newBuild stores a small build of app whose one binary holds body.
func newBuild(t testing.TB, dst oras.Target, app, body string) *build.Build {
	t.Helper()
	b, err := build.New(context.Background(), dst, app, build.Spec{
		Files: []build.File{
			{Name: "bin/server", Reader: strings.NewReader(body), Mode: 0o755},
			{Name: "README", Reader: strings.NewReader("shop\n")},
		},
		Source:    build.Source{Repository: "https://example.com/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567"},
		Processes: []build.Process{{Name: "web", Command: "bin/server"}, {Name: "migrate", Command: "bin/server migrate", Admin: true}},
		Created:   created,
	}, build.Options{})
	require.NoError(t, err)
	return b
}

// newEvidenceBuild is newBuild with evidence: the SBOM, Trivy scan and
// VEX document in testdata. Its summary: 3 components; open 1 critical
// (CVE-2026-1111) and 1 medium (CVE-2026-3333); CVE-2026-2222 suppressed.
func newEvidenceBuild(t testing.TB, dst oras.Target, app, body string) *build.Build {
	t.Helper()
	b, err := build.New(context.Background(), dst, app, build.Spec{
		Files: []build.File{
			{Name: "bin/server", Reader: strings.NewReader(body), Mode: 0o755},
		},
		Source:    build.Source{Repository: "https://example.com/acme/shop", Revision: "0123456789abcdef0123456789abcdef01234567"},
		Processes: []build.Process{{Name: "web", Command: "bin/server"}},
		Created:   created,
		SBOM:      "testdata/sbom.cdx.json",
		Scans:     []build.Scan{{Path: "testdata/trivy.json"}},
		VEX:       []string{"testdata/vex.json"},
	}, build.Options{})
	require.NoError(t, err)
	return b
}

// hideCritical returns rec, a record holding the summary of
// newEvidenceBuild's evidence, with the critical finding CVE-2026-1111
// dropped and the open critical count made 0: a summary that agrees with
// itself, not with the evidence.
func hideCritical(t testing.TB, rec []byte) []byte {
	t.Helper()
	lie := bytes.Replace(rec, []byte(`"open":{"critical":1,`), []byte(`"open":{"critical":0,`), 1)
	start := bytes.Index(lie, []byte(`{"id":"CVE-2026-1111"`))
	end := bytes.Index(lie, []byte(`"severity":"critical"},`))
	require.True(t, start > 0 && end > start, "the record lists the critical finding")
	return append(lie[:start:start], lie[end+len(`"severity":"critical"},`):]...)
}

// newConfig makes the config of app in env with LOG_LEVEL set to level.
func newConfig(t testing.TB, app, env, level string) *config.Config {
	t.Helper()
	c, err := config.New(app, env, config.Spec{
		Env:     map[string]string{"LOG_LEVEL": level, "PORT": "8080"},
		Secrets: map[string]string{"DB_PASSWORD": "vault://kv/" + app + "/" + env + "#db_password"},
	}, config.Options{})
	require.NoError(t, err)
	return c
}

func at(i int) time.Time { return created.Add(time.Duration(i) * time.Hour) }
