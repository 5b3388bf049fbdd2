package build

import "strings"

// CI is what the environment of a CI job says about the job: who builds
// (the builder ID of SLSA provenance), which run, and from which source.
type CI struct {
	// Name names the CI system: "GitHub Actions" or "GitLab CI".
	Name string
	// Builder is the builder ID: on GitHub Actions the workflow
	// (<server>/<owner>/<repo>/.github/workflows/<file>@<ref>), on GitLab
	// CI the runner (<server>/<project>/-/runners/<id>).
	Builder string
	// Invocation is the URL of the run: the workflow run attempt, or the
	// GitLab job.
	Invocation string
	// Repository and Revision are the source the job checked out.
	Repository string
	Revision   string
}

// DetectCI reads the variables that GitHub Actions (GITHUB_ACTIONS=true)
// and GitLab CI (GITLAB_CI=true) set in every job, through getenv (pass
// os.Getenv). It returns ok=false outside both, or when a variable it
// needs is missing. Nothing is read but the variables named in the docs of
// [CI]'s fields; no token is ever read.
func DetectCI(getenv func(string) string) (ci CI, ok bool) {
	env := func(names ...string) ([]string, bool) {
		out := make([]string, len(names))
		for i, n := range names {
			if out[i] = strings.TrimSpace(getenv(n)); out[i] == "" {
				return nil, false
			}
		}
		return out, true
	}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		v, ok := env("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_WORKFLOW_REF", "GITHUB_RUN_ID", "GITHUB_SHA")
		if !ok {
			return CI{}, false
		}
		server, repo, workflow, run, sha := strings.TrimRight(v[0], "/"), v[1], v[2], v[3], v[4]
		ci = CI{
			Name:       "GitHub Actions",
			Builder:    server + "/" + workflow,
			Invocation: server + "/" + repo + "/actions/runs/" + run,
			Repository: server + "/" + repo,
			Revision:   sha,
		}
		if attempt := getenv("GITHUB_RUN_ATTEMPT"); attempt != "" {
			ci.Invocation += "/attempts/" + attempt
		}
		return ci, true
	case getenv("GITLAB_CI") == "true":
		v, ok := env("CI_SERVER_URL", "CI_PROJECT_PATH", "CI_RUNNER_ID", "CI_JOB_URL", "CI_PROJECT_URL", "CI_COMMIT_SHA")
		if !ok {
			return CI{}, false
		}
		return CI{
			Name:       "GitLab CI",
			Builder:    strings.TrimRight(v[0], "/") + "/" + v[1] + "/-/runners/" + v[2],
			Invocation: v[3],
			Repository: v[4],
			Revision:   v[5],
		}, true
	}
	return CI{}, false
}
