// Package gobintest builds a small real Go binary for tests: a module
// example.com/tinyapp that imports testify (so its build info lists real
// dependencies), committed to a fresh git repository and tagged v1.2.3 (so
// it carries vcs.* settings), built with -ldflags setting a secret that no
// SBOM or record may repeat. It needs the go and git commands, and testify
// in the module cache, as this module's own tests do; nothing is fetched
// (GOPROXY=off).
package gobintest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Secret is the value -ldflags gives main.token.
const Secret = "hunter2"

// Module, Version and Deps describe the binary Build makes.
const (
	Module  = "example.com/tinyapp"
	Version = "v1.2.3"
)

// Deps are the modules the binary is built with, as purls.
var Deps = []string{"pkg:golang/github.com/stretchr/testify@v1.12.1", "pkg:golang/go.yaml.in/yaml/v3@v3.0.5"}

const mainGo = `package main

import (
	"fmt"

	"github.com/stretchr/testify/assert"
)

var token = "unset"

func main() { fmt.Println(assert.ObjectsAreEqual(token, "")) }
`

// Build builds the tiny app and returns the binary's path and the commit
// it was built from.
func Build(t testing.TB) (bin, revision string) {
	t.Helper()
	root := moduleRoot(t)
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	src := t.TempDir()
	files := map[string]string{
		"go.mod":  "module " + Module + "\n\ngo 1.26\n\nrequire github.com/stretchr/testify v1.12.1\n\nrequire go.yaml.in/yaml/v3 v3.0.5 // indirect\n",
		"go.sum":  string(gosum),
		"main.go": mainGo,
	}
	for name, text := range files {
		require.NoError(t, os.WriteFile(filepath.Join(src, name), []byte(text), 0o644))
	}
	run := func(name string, env []string, args ...string) string {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), name, args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), stderr.String())
		return strings.TrimSpace(string(out))
	}
	gitEnv := []string{
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=slipway", "GIT_AUTHOR_EMAIL=test@example.invalid", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=slipway", "GIT_COMMITTER_EMAIL=test@example.invalid", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z",
	}
	run("git", gitEnv, "init", "-q")
	run("git", gitEnv, "add", ".")
	run("git", gitEnv, "commit", "-q", "-m", "tiny app")
	run("git", gitEnv, "tag", Version)
	revision = run("git", gitEnv, "rev-parse", "HEAD")

	bin = filepath.Join(t.TempDir(), "tinyapp")
	run("go", []string{"GOPROXY=off", "GOWORK=off", "GOFLAGS=-mod=readonly"},
		"build", "-trimpath", "-buildvcs=true", "-ldflags=-X main.token="+Secret, "-o", bin, ".")
	return bin, revision
}

// moduleRoot is the directory of this module's go.mod.
func moduleRoot(t testing.TB) string {
	out, err := exec.CommandContext(t.Context(), "go", "env", "GOMOD").Output()
	require.NoError(t, err)
	gomod := strings.TrimSpace(string(out))
	require.NotEmpty(t, gomod, "not inside a module")
	return filepath.Dir(gomod)
}
