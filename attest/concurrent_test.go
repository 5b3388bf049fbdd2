package attest_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/slipway-dev/slipway/attest"
	"github.com/slipway-dev/slipway/internal/registrytest"
)

// TestConcurrentAttestationsAllKept: writers in one process, each with a
// client of its own, attest about one subject at once; every attestation
// is kept in both forms, none lost to another writer's update of the
// legacy tag or of the referrers tag. (Writers in other processes rely on
// the check-and-repeat of settle, which this test also runs through for
// the referrers tag, which oras-go updates.)
func TestConcurrentAttestationsAllKept(t *testing.T) {
	const writers = 8
	for _, reg := range registrytest.All(t) {
		t.Run(reg.Name, func(t *testing.T) {
			ctx := t.Context()
			subject := pushArtifact(t, reg.Repository(t, "acme/shop"), "hello")
			key := newKey(t)
			var wg sync.WaitGroup
			errs := make([]error, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dst := reg.Repository(t, "acme/shop") // a client of its own
					dst.SkipReferrersGC = true            // as slipway's CLI sets it: a writer never deletes an index another may have read
					_, errs[i] = attest.Attest(ctx, dst, subject, "https://example.com/run/v1", json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), key, attest.SignOptions{})
				}()
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err)
			}
			res, err := attest.Find(ctx, reg.Repository(t, "acme/shop"), subject, []signature.Verifier{key})
			require.NoError(t, err)
			forms := map[string]map[string]bool{attest.FormBundle: {}, attest.FormLegacy: {}}
			for _, e := range res.Attestations {
				forms[e.Form][string(e.Statement.Predicate)] = true
			}
			assert.Len(t, forms[attest.FormBundle], writers, "bundle referrers")
			assert.Len(t, forms[attest.FormLegacy], writers, "layers of the legacy .att tag")
		})
	}
}
