package release_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/build"
	"github.com/slipway-dev/slipway/release"
)

var _ release.Updater = (*build.Layout)(nil)

// publishEnv makes the test binary a publisher to the layout it names.
const publishEnv = "SLIPWAY_TEST_PUBLISH_LAYOUT"

// TestPublisherProcess is the child of TestTwoProcesses: it adds
// releases to the ledger of the layout $SLIPWAY_TEST_PUBLISH_LAYOUT.
func TestPublisherProcess(t *testing.T) {
	dir := os.Getenv(publishEnv)
	if dir == "" {
		t.Skip("run by TestTwoProcesses")
	}
	id, err := strconv.Atoi(os.Getenv(publishEnv + "_ID"))
	require.NoError(t, err)
	publishMany(t, dir, id, 10)
}

func publishMany(t *testing.T, dir string, id, n int) {
	ctx := t.Context()
	l, err := build.OpenLayout(ctx, dir)
	require.NoError(t, err)
	b, err := build.Load(ctx, l, "build")
	require.NoError(t, err)
	for i := range n {
		c := newConfig(t, "shop", "prod", fmt.Sprintf("p%d-%d", id, i))
		_, err := release.New(ctx, l, b, c, release.Options{Created: at(i)})
		require.NoError(t, err, "a layout publisher never conflicts")
	}
}

// TestTwoProcesses has two processes, and two goroutines in this one,
// publish to one OCI layout at once: the layout's lock makes them take
// turns, so all 40 releases land, as versions 1 to 40 of one chain.
func TestTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	l, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	b := newBuild(t, l, "shop", "v1")
	require.NoError(t, l.Tag(t.Context(), b.Descriptor(), "build"))

	var children []*exec.Cmd
	for id := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPublisherProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), publishEnv+"="+dir, fmt.Sprintf("%s_ID=%d", publishEnv, id))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		require.NoError(t, cmd.Start())
		children = append(children, cmd)
	}
	done := make(chan struct{})
	for id := 2; id < 4; id++ {
		go func() {
			defer func() { done <- struct{}{} }()
			publishMany(t, dir, id, 10)
		}()
	}
	<-done
	<-done
	for _, c := range children {
		assert.NoError(t, c.Wait())
	}
	fresh, err := build.OpenLayout(t.Context(), dir)
	require.NoError(t, err)
	hist, err := release.History(t.Context(), fresh, "prod", release.HistoryOptions{})
	require.NoError(t, err)
	require.Len(t, hist, 40)
	configs := map[string]bool{}
	for i, e := range hist {
		assert.Equal(t, 40-i, e.Version)
		configs[e.Config.Digest.String()] = true
	}
	assert.Len(t, configs, 40, "every publisher's every release is on the ledger")
}
