package build_test

import (
	"fmt"

	"github.com/slipway-dev/slipway/build"
)

// A build script reads its builder and source from the CI it runs in;
// here the environment of a GitHub Actions job is made up.
func ExampleDetectCI() {
	env := map[string]string{
		"GITHUB_ACTIONS":      "true",
		"GITHUB_SERVER_URL":   "https://github.com",
		"GITHUB_REPOSITORY":   "acme/shop",
		"GITHUB_WORKFLOW_REF": "acme/shop/.github/workflows/release.yml@refs/tags/v1.2.0",
		"GITHUB_RUN_ID":       "42",
		"GITHUB_RUN_ATTEMPT":  "1",
		"GITHUB_SHA":          "0123456789abcdef0123456789abcdef01234567",
	}
	ci, ok := build.DetectCI(func(k string) string { return env[k] }) // os.Getenv in a real build script
	if !ok {
		fmt.Println("not in CI")
		return
	}
	spec := build.Spec{
		Dir:        "dist",
		Builder:    ci.Builder,
		Invocation: ci.Invocation,
		Source:     build.Source{Repository: ci.Repository, Revision: ci.Revision},
	}
	fmt.Println(ci.Name)
	fmt.Println(spec.Builder)
	fmt.Println(spec.Invocation)
	// Output:
	// GitHub Actions
	// https://github.com/acme/shop/.github/workflows/release.yml@refs/tags/v1.2.0
	// https://github.com/acme/shop/actions/runs/42/attempts/1
}
