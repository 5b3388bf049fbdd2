package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/internal/registrytest"
)

// runTree is an app whose processes print what they were given: its
// environment, its arguments, its working directory, its stdin; and one
// that exits with the status it is told.
func runTree(t *testing.T) string {
	t.Helper()
	return writeTree(t, map[string]file{
		"bin/hello":  {[]byte("#!/bin/sh\nprintf '%s|%s|' \"$LOG_LEVEL\" \"$PORT\"\nprintf '%s|' \"$@\"\necho\n"), 0o755},
		"bin/where":  {[]byte("#!/bin/sh\npwd\n"), 0o755},
		"bin/cat":    {[]byte("#!/bin/sh\nexec cat\n"), 0o755},
		"bin/secret": {[]byte("#!/bin/sh\nprintf '%s' \"$DB_PASSWORD\"\n"), 0o755},
		"bin/exit":   {[]byte("#!/bin/sh\nexit \"$1\"\n"), 0o755},
	})
}

// runRelease stores a signed release of runTree at p and returns the
// public key that verifies it.
func runRelease(t *testing.T, p place, config string) string {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "k")
	mustRun(t, "keygen", "--out", keys)
	mustRun(t, "build", p.flag, "--dir", runTree(t), "--app", "shop",
		"--process", "web=bin/hello", "--admin", "migrate=bin/hello migrate", "--process", "where=bin/where",
		"--process", "cat=bin/cat", "--process", "secret=bin/secret", "--process", "exit=bin/exit", "--admin", "fail=bin/exit 4", p.repo+":v1")
	mustRun(t, "release", p.flag, "--key", filepath.Join(keys, "slipway.key"), "--build", "v1", "--config", config, p.repo)
	return filepath.Join(keys, "slipway.pub")
}

func TestRun(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	const secret = "s3cr3t-run-test-value"
	t.Setenv("SHOP_DB_PASSWORD", secret)
	places := []place{layoutPlace(filepath.Join(t.TempDir(), "shop")), registryPlace(registrytest.New(t, true), "acme/shop")}
	for _, p := range places {
		t.Run(p.flag, func(t *testing.T) {
			pub := runRelease(t, p, prodConfig(t, "info"))
			ref := p.repo + ":prod"

			code, stdout, stderr := slipway(t, "run", p.flag, "--key", pub, ref, "web", "--", "world", "two words", "$(touch pwned)", "--flag")
			assert.Equal(t, exitOK, code, stderr)
			assert.Equal(t, "info|8080|world|two words|$(touch pwned)|--flag|\n", stdout)
			assert.Empty(t, stderr)

			code, stdout, stderr = slipway(t, "run", p.flag, "--key", pub, ref, "migrate", "up")
			assert.Equal(t, exitNo, code, "an admin one-off runs only through slipway admin")
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "migrate is an admin one-off: run it with slipway admin")

			code, stdout, _ = slipway(t, "run", p.flag, "--key", pub, ref, "secret")
			assert.Equal(t, exitOK, code)
			assert.Equal(t, secret, stdout, "env:// resolved from slipway's environment")

			code, _, stderr = slipway(t, "run", p.flag, "--key", pub, ref, "exit", "--", "3")
			assert.Equal(t, 3, code, "the process's exit status")
			assert.Empty(t, stderr)

			// The default directory is temporary.
			code, stdout, _ = slipway(t, "run", p.flag, "--key", pub, ref, "where")
			require.Equal(t, exitOK, code)
			tmp := strings.TrimSpace(stdout)
			assert.Contains(t, tmp, "slipway-run-")
			assert.NoDirExists(t, tmp, "removed once the process exited")

			// stdin is connected.
			in := filepath.Join(t.TempDir(), "stdin")
			require.NoError(t, os.WriteFile(in, []byte("from stdin\n"), 0o644))
			f, err := os.Open(in)
			require.NoError(t, err)
			defer f.Close()
			orig := os.Stdin
			os.Stdin = f
			code, stdout, _ = slipway(t, "run", p.flag, "--key", pub, ref, "cat")
			os.Stdin = orig
			assert.Equal(t, exitOK, code)
			assert.Equal(t, "from stdin\n", stdout)

			// --dir keeps the build; a second run needs --overwrite.
			dir := filepath.Join(t.TempDir(), "srv")
			code, stdout, stderr = slipway(t, "run", p.flag, "--key", pub, "--dir", dir, ref, "where")
			require.Equal(t, exitOK, code, stderr)
			assert.Equal(t, dir+"\n", stdout)
			assert.FileExists(t, filepath.Join(dir, "bin/hello"))
			code, stdout, stderr = slipway(t, "run", p.flag, "--key", pub, "--dir", dir, ref, "web")
			assert.Equal(t, exitError, code)
			assert.Empty(t, stdout)
			assert.Contains(t, stderr, "target directory not empty")
			assert.Contains(t, stderr, "--overwrite")
			code, stdout, _ = slipway(t, "run", p.flag, "--key", pub, "--dir", dir, "--overwrite", ref, "web")
			assert.Equal(t, exitOK, code)
			assert.Equal(t, "info|8080||\n", stdout, "printf repeats its format once without arguments")
		})
	}
}

// TestRunRefused: a release that does not verify, is no-go or does not
// declare the process is refused with exit status 1, the reason on stderr
// and nothing run; bad input exits 2.
func TestRunRefused(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	const secret = "s3cr3t-refused-value"
	t.Setenv("SHOP_DB_PASSWORD", secret)
	p := layoutPlace(filepath.Join(t.TempDir(), "shop"))
	pub := runRelease(t, p, prodConfig(t, "info"))
	ref := p.repo + ":prod"
	other := filepath.Join(t.TempDir(), "o")
	mustRun(t, "keygen", "--out", other)
	noGo := writeReleasePolicy(t, `{"environments":["staging"]}`)
	vault := layoutPlace(filepath.Join(t.TempDir(), "vault"))
	vaultPub := runRelease(t, vault, writeConfig(t, "prod", nil, map[string]string{"DB_PASSWORD": "vault://kv/shop/prod#db"}))
	unset := layoutPlace(filepath.Join(t.TempDir(), "unset"))
	unsetPub := runRelease(t, unset, writeConfig(t, "prod", nil, map[string]string{"DB_PASSWORD": "env://SHOP_UNSET_PASSWORD"}))

	rows := []struct {
		name  string
		args  []string
		code  int
		want  []string // in stderr
		usage bool
	}{
		{name: "untrusted key", args: []string{"run", p.flag, "--key", filepath.Join(other, "slipway.pub"), ref, "web"}, code: exitNo,
			want: []string{"refused " + ref, "signature: no trusted key signed it"}},
		{name: "no-go", args: []string{"run", p.flag, "--key", pub, "--policy", noGo, ref, "web"}, code: exitNo,
			want: []string{"refused " + ref, "policy: no-go", "environments"}},
		{name: "unknown process", args: []string{"run", p.flag, "--key", pub, ref, "worker"}, code: exitNo,
			want: []string{"refused " + ref, `"worker"`, "no such process", "web, migrate, where"}},
		{name: "vault reference", args: []string{"run", vault.flag, "--key", vaultPub, vault.repo + ":prod", "web"}, code: exitError,
			want: []string{`"DB_PASSWORD"`, `no resolver for scheme "vault"`, "env:// and file://"}},
		{name: "unset variable", args: []string{"run", unset.flag, "--key", unsetPub, unset.repo + ":prod", "web"}, code: exitError,
			want: []string{`"DB_PASSWORD"`, "SHOP_UNSET_PASSWORD is not set"}},
		{name: "no such tag", args: []string{"run", p.flag, "--key", pub, p.repo + ":nosuchtag", "web"}, code: exitError, want: []string{"nosuchtag"}},
		{name: "overwrite without dir", args: []string{"run", p.flag, "--key", pub, "--overwrite", ref, "web"}, code: exitError, want: []string{"--overwrite: needs --dir"}},
		{name: "missing PROCESS", args: []string{"run", p.flag, "--key", pub, ref}, code: exitError, want: []string{"want REF and PROCESS"}, usage: true},
		{name: "dash too early", args: []string{"run", p.flag, "--key", pub, ref, "--", "web"}, code: exitError, want: []string{"before --"}, usage: true},
		{name: "missing key", args: []string{"run", p.flag, ref, "web"}, code: exitError, want: []string{`"key" not set`}, usage: true},
		{name: "bad policy", args: []string{"run", p.flag, "--key", pub, "--policy", filepath.Join(t.TempDir(), "missing.json"), ref, "web"}, code: exitError,
			want: []string{"missing.json"}},
	}
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := slipway(t, tc.args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Empty(t, stdout, "nothing ran")
			for _, w := range tc.want {
				assert.Contains(t, stderr, w)
			}
			assert.Equal(t, tc.usage, strings.Contains(stderr, "Usage:"), stderr)
			assert.NotContains(t, stderr, secret)
		})
	}
}
