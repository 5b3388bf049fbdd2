package build_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/build"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDetectCI(t *testing.T) {
	github := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_REPOSITORY":   "acme/shop",
		"GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/release.yml@refs/heads/main",
		"GITHUB_RUN_ID":       "42",
		"GITHUB_RUN_ATTEMPT":  "2",
		"GITHUB_SHA":          "0123456789abcdef0123456789abcdef01234567",
		"GITHUB_TOKEN":        "ghs_secret",
	}
	ci, ok := build.DetectCI(envOf(github))
	require.True(t, ok)
	assert.Equal(t, build.CI{
		Name:       "GitHub Actions",
		Builder:    "https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main",
		Invocation: "https://github.com/acme/shop/actions/runs/42/attempts/2",
		Repository: "https://github.com/acme/shop",
		Revision:   "0123456789abcdef0123456789abcdef01234567",
	}, ci)
	assert.NotContains(t, ci.Builder+ci.Invocation+ci.Repository, "ghs_secret")

	gitlab := map[string]string{
		"GITLAB_CI":       "true",
		"CI_SERVER_URL":   "https://gitlab.example",
		"CI_PROJECT_PATH": "acme/shop",
		"CI_PROJECT_URL":  "https://gitlab.example/acme/shop",
		"CI_RUNNER_ID":    "7",
		"CI_JOB_URL":      "https://gitlab.example/acme/shop/-/jobs/99",
		"CI_COMMIT_SHA":   "89abcdef0123456789abcdef0123456789abcdef",
		"CI_JOB_TOKEN":    "glcbt-secret",
	}
	ci, ok = build.DetectCI(envOf(gitlab))
	require.True(t, ok)
	assert.Equal(t, build.CI{
		Name:       "GitLab CI",
		Builder:    "https://gitlab.example/acme/shop/-/runners/7",
		Invocation: "https://gitlab.example/acme/shop/-/jobs/99",
		Repository: "https://gitlab.example/acme/shop",
		Revision:   "89abcdef0123456789abcdef0123456789abcdef",
	}, ci)

	_, ok = build.DetectCI(envOf(map[string]string{}))
	assert.False(t, ok, "outside CI")
	delete(github, "GITHUB_WORKFLOW_REF")
	_, ok = build.DetectCI(envOf(github))
	assert.False(t, ok, "a missing variable is no detection, not a half-filled one")
}
