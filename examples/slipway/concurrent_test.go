package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/internal/registrytest"
)

// TestConcurrentReleases has a few publishers release to one ledger at the
// same time, as deploys from several CI jobs would: each lands, after
// retries said on stderr if another overtook it.
func TestConcurrentReleases(t *testing.T) {
	const publishers = 3
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	t.Setenv("SOURCE_DATE_EPOCH", sourceDateEpoch)
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			p := registryPlace(reg, "shop")
			storeBuild(t, p, appTree(t), "v1")
			configs := make([]string, publishers)
			for i := range configs {
				configs[i] = prodConfig(t, fmt.Sprintf("level-%d", i))
			}
			var wg sync.WaitGroup
			codes := make([]int, publishers)
			stdouts := make([]string, publishers)
			stderrs := make([]string, publishers)
			start := make(chan struct{})
			for i := range publishers {
				wg.Go(func() {
					var out, errOut bytes.Buffer
					<-start
					codes[i] = run(t.Context(), []string{"release", p.flag, "--build", "v1", "--config", configs[i], p.repo}, &out, &errOut)
					stdouts[i], stderrs[i] = out.String(), errOut.String()
				})
			}
			close(start)
			wg.Wait()
			retries := make([]int, publishers)
			for i := range publishers {
				require.Equal(t, exitOK, codes[i], "publisher %d: %s", i, stderrs[i])
				retries[i] = strings.Count(stderrs[i], "trying again")
			}
			t.Logf("retries of each publisher: %v", retries)
			var listed, landed []string
			for _, row := range historyRows(t, mustRun(t, "history", p.flag, p.repo+":prod")) {
				listed = append(listed, row[1])
			}
			for _, out := range stdouts {
				landed = append(landed, shortDigest(refDigest(t, lastLine(t, out))))
			}
			assert.ElementsMatch(t, landed, listed, "every release landed once, and nothing else")
		})
	}
}
