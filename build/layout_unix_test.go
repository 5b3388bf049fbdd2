//go:build unix && !aix && !(solaris && !illumos)

package build_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"

	"github.com/slipway-dev/slipway/build"
)

// The environment of a TestLayoutHelperProcess run: what to tag with, where,
// under which prefix, and the directory where it says it is ready and
// waits for the word to go.
const (
	helperModeEnv   = "SLIPWAY_LAYOUT_HELPER" // "layout" for a Layout, "oci" for oras-go's store
	helperDirEnv    = "SLIPWAY_LAYOUT_DIR"
	helperPrefixEnv = "SLIPWAY_LAYOUT_PREFIX"
	helperSyncEnv   = "SLIPWAY_LAYOUT_SYNC"
)

const tagsPerProcess = 25

// TestLayoutTagsFromTwoProcesses has two processes tag the same new layout
// at once, each through a handle opened before either wrote. Through
// Layouts every tag survives. Through oras-go's store, the control, each
// process rewrites index.json from a view that never holds the other's
// tags, so whichever saves last drops the other's: the test would catch a
// Layout that did the same.
func TestLayoutTagsFromTwoProcesses(t *testing.T) {
	for _, tc := range []struct {
		mode     string
		keepsAll bool
	}{
		{"layout", true},
		{"oci", false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "layout")
			if tc.mode == "oci" {
				// Created first: oras-go's stores would race to write the
				// empty index.json and could read each other's half.
				_, err := oci.New(dir)
				require.NoError(t, err)
			}
			syncDir := t.TempDir()
			prefixes := []string{"a", "b"}
			var outs []*bytes.Buffer
			var cmds []*exec.Cmd
			for _, p := range prefixes {
				cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLayoutHelperProcess$")
				cmd.Env = append(os.Environ(), helperModeEnv+"="+tc.mode, helperDirEnv+"="+dir, helperPrefixEnv+"="+p, helperSyncEnv+"="+syncDir)
				out := new(bytes.Buffer)
				cmd.Stdout, cmd.Stderr = out, out
				require.NoError(t, cmd.Start())
				cmds, outs = append(cmds, cmd), append(outs, out)
			}
			require.Eventually(t, func() bool {
				for _, p := range prefixes {
					if _, err := os.Stat(filepath.Join(syncDir, p)); err != nil {
						return false
					}
				}
				return true
			}, time.Minute, time.Millisecond, "both helpers open their stores")
			require.NoError(t, os.WriteFile(filepath.Join(syncDir, "go"), nil, 0o666))
			for i, cmd := range cmds {
				require.NoError(t, cmd.Wait(), "helper %s:\n%s", prefixes[i], outs[i])
			}

			found := 0
			if l, err := build.OpenLayout(t.Context(), dir); err == nil {
				for _, p := range prefixes {
					for i := range tagsPerProcess {
						if _, err := l.Resolve(t.Context(), helperTag(p, i)); err == nil {
							found++
						}
					}
				}
			} else {
				t.Logf("index.json is unreadable: %v", err)
			}
			t.Logf("%d of %d tags resolve", found, len(prefixes)*tagsPerProcess)
			if tc.keepsAll {
				assert.Equal(t, len(prefixes)*tagsPerProcess, found, "tags that resolve")
			} else {
				assert.Less(t, found, len(prefixes)*tagsPerProcess, "tags that resolve")
			}
		})
	}
}

func helperTag(prefix string, i int) string { return fmt.Sprintf("%s-%02d", prefix, i) }

// TestLayoutHelperProcess is one of the processes of
// TestLayoutTagsFromTwoProcesses; run on its own, it does nothing.
func TestLayoutHelperProcess(t *testing.T) {
	mode := os.Getenv(helperModeEnv)
	if mode == "" {
		t.Skip("a helper of TestLayoutTagsFromTwoProcesses")
	}
	dir, prefix, syncDir := os.Getenv(helperDirEnv), os.Getenv(helperPrefixEnv), os.Getenv(helperSyncEnv)
	var dst oras.Target
	var err error
	switch mode {
	case "layout":
		dst, err = build.OpenLayout(t.Context(), dir)
	case "oci":
		dst, err = oci.New(dir)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(syncDir, prefix), nil, 0o666))
	require.NoError(t, waitForFile(t.Context(), filepath.Join(syncDir, "go")))
	for i := range tagsPerProcess {
		desc, err := pushNote(t.Context(), dst, helperTag(prefix, i))
		require.NoError(t, err)
		require.NoError(t, dst.Tag(t.Context(), desc, helperTag(prefix, i)))
	}
}

func waitForFile(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if _, err := os.Stat(name); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}

// TestLayoutReadOnly opens layouts this process may read but not write:
// one a Layout wrote, with its lock file, and one without a lock file.
func TestLayoutReadOnly(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write to any directory")
	}
	for _, withLockFile := range []bool{true, false} {
		t.Run(fmt.Sprintf("lock file %t", withLockFile), func(t *testing.T) {
			dir := t.TempDir()
			l, err := build.OpenLayout(t.Context(), dir)
			require.NoError(t, err)
			desc, err := pushNote(t.Context(), l, "v1")
			require.NoError(t, err)
			require.NoError(t, l.Tag(t.Context(), desc, "v1"))
			if !withLockFile {
				require.NoError(t, os.Remove(filepath.Join(dir, "slipway.lock")))
			}
			require.NoError(t, os.Chmod(filepath.Join(dir, "index.json"), 0o444))
			require.NoError(t, os.Chmod(dir, 0o555))
			t.Cleanup(func() { os.Chmod(dir, 0o755) })

			ro, err := build.OpenLayout(t.Context(), dir)
			require.NoError(t, err)
			got, err := ro.Resolve(t.Context(), "v1")
			require.NoError(t, err)
			assert.Equal(t, desc.Digest, got.Digest)
			assert.ErrorIs(t, ro.Tag(t.Context(), desc, "v2"), fs.ErrPermission)
		})
	}
}
