package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/build"
)

// TestDiffBuilds: every kind of build change between two releases, by
// version tag and by digest.
func TestDiffBuilds(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	const revA, revB = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	layout := filepath.Join(t.TempDir(), "shop")
	a := writeTree(t, map[string]file{
		"bin/server":        {[]byte("server v1"), 0o755},
		"public/index.html": {[]byte("<h1>shop</h1>"), 0o644},
		"public/old.html":   {[]byte("old"), 0o644},
	})
	require.NoError(t, os.Symlink("bin/server", filepath.Join(a, "current")))
	b := writeTree(t, map[string]file{
		"bin/server":        {[]byte("server v2, longer"), 0o755},
		"public/index.html": {[]byte("<h1>shop</h1>"), 0o600},
		"public/new.html":   {[]byte("new"), 0o644},
	})
	require.NoError(t, os.Symlink("public/index.html", filepath.Join(b, "current")))
	mustRun(t, "build", "--oci-layout", "--dir", a, "--app", "shop", "--source", "https://github.com/acme/shop", "--revision", revA,
		"--process", "web=bin/server", "--admin", "migrate=bin/server migrate", layout+":a")
	mustRun(t, "build", "--oci-layout", "--dir", b, "--app", "shop", "--source", "https://github.com/acme/shop", "--revision", revB,
		"--process", "web=bin/server --fast", "--process", "worker=bin/server work", layout+":b")
	prod := prodConfig(t, "info")
	v1 := lastLine(t, mustRun(t, "release", "--oci-layout", "--build", "a", "--config", prod, layout))
	mustRun(t, "release", "--oci-layout", "--build", "b", "--config", prod, layout)

	l, err := build.OpenLayout(t.Context(), layout)
	require.NoError(t, err)
	ba, err := build.Load(t.Context(), l, "a")
	require.NoError(t, err)
	bb, err := build.Load(t.Context(), l, "b")
	require.NoError(t, err)
	digestOf := func(b *build.Build, path string) string {
		for _, e := range b.Entries() {
			if e.Path == path {
				return shortDigest(e.Digest)
			}
		}
		t.Fatalf("no %s in the build", path)
		return ""
	}

	for _, args := range [][]string{
		{"diff", "--oci-layout", layout + ":prod-v1", layout + ":prod-v2"},
		{"diff", "--oci-layout", v1, "prod"},
		{"diff", "--oci-layout", "--exit-code", layout + ":prod-v1", "prod-v2"},
	} {
		code, stdout, stderr := slipway(t, args...)
		exit := exitOK
		if args[2] == "--exit-code" {
			exit = exitNo
		}
		require.Equal(t, exit, code, "stderr: %s", stderr)
		assert.Empty(t, stderr)
		want := strings.Join([]string{
			"Release 1: " + v1 + " (shop prod v1)",
			"Release 2: " + layout + "@",
			"Config: unchanged, ",
			"Build: " + shortDigest(ba.Digest()) + " -> " + shortDigest(bb.Digest()),
			"  ~ source revision: " + revA + " -> " + revB,
			`  - process migrate "bin/server migrate" (admin)`,
			`  ~ process web "bin/server" -> "bin/server --fast"`,
			`  + process worker "bin/server work"`,
			"  ~ file bin/server: content " + digestOf(ba, "bin/server") + " -> " + digestOf(bb, "bin/server") + ", size 9 -> 17 bytes",
			"  ~ link current: target bin/server -> public/index.html",
			"  ~ file public/index.html: mode -rw-r--r-- -> -rw-------",
			"  + file public/new.html (" + digestOf(bb, "public/new.html") + ", 3 bytes, -rw-r--r--)",
			"  - file public/old.html (" + digestOf(ba, "public/old.html") + ", 3 bytes, -rw-r--r--)",
		}, "\n")
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		wantLines := strings.Split(want, "\n")
		require.Len(t, lines, len(wantLines), stdout)
		for i, w := range wantLines {
			assert.True(t, strings.HasPrefix(lines[i], w), "line %d: %q, want %q…", i+1, lines[i], w)
		}
	}
}

// TestDiffHidesAllowedPlaintext: a value let in with --allow-plaintext is
// not shown by diff; its change is.
func TestDiffHidesAllowedPlaintext(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	const idA, idB = "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "ZyXwVuTsRqPoNmLkJiHgFeDcBa987654"
	layout := filepath.Join(t.TempDir(), "shop")
	storeBuild(t, layoutPlace(layout), appTree(t), "v1")
	for _, id := range []string{idA, idB} {
		mustRun(t, "release", "--oci-layout", "--build", "v1", "--allow-plaintext", "BUILD_ID",
			"--config", writeConfig(t, "prod", map[string]string{"BUILD_ID": id, "PORT": "8080"}, nil), layout)
	}
	out := mustRun(t, "diff", "--oci-layout", layout+":prod-v1", "prod-v2")
	assert.Contains(t, out, "  ~ BUILD_ID: [hidden:high-entropy] -> [hidden:high-entropy]\n")
	assert.NotContains(t, out, idA)
	assert.NotContains(t, out, idB)
	assert.Contains(t, out, "Build: unchanged, ")
}

func TestDiffBadInput(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	layout := filepath.Join(t.TempDir(), "shop")
	storeBuild(t, layoutPlace(layout), appTree(t), "v1")
	mustRun(t, "release", "--oci-layout", "--build", "v1", "--config", prodConfig(t, "info"), layout)

	for _, tc := range []struct {
		name  string
		args  []string
		want  []string
		usage bool
	}{
		{name: "one REF", args: []string{"diff", "--oci-layout", layout + ":prod"},
			want: []string{"want 2 arguments, REF1 and REF2, got 1"}, usage: true},
		{name: "REF1 without tag", args: []string{"diff", "--oci-layout", layout, "prod"},
			want: []string{"names no release"}},
		{name: "REF2 without tag", args: []string{"diff", "--oci-layout", layout + ":prod", layout},
			want: []string{"REF2", "names no release"}},
		{name: "REF2 unknown", args: []string{"diff", "--oci-layout", layout + ":prod", "prod-v7"},
			want: []string{"REF2 " + layout + ":prod-v7", "not found", "nothing is stored as " + layout + ":prod-v7"}},
		{name: "a build", args: []string{"diff", "--oci-layout", layout + ":prod", "v1"},
			want: []string{"REF2 " + layout + ":v1", "wrong media type"}},
	} {
		t.Run(tc.name, func(t *testing.T) { assertRefused(t, tc.args, tc.want, tc.usage) })
	}
}
