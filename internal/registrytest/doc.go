// Package registrytest gives tests real OCI registries listening on
// 127.0.0.1 only.
//
// Three kinds are available, and a registry test should cover all of them:
//
//   - "ggcr-referrers": go-containerregistry's in-process registry with the
//     OCI referrers API switched on ([New] with referrers true);
//   - "ggcr-tagschema": the same registry without the referrers API, so
//     clients fall back to the referrers tag schema ([New] with referrers
//     false);
//   - "distribution": Debian's docker-registry (github.com/docker/distribution
//     v2.8) run as a child process ([Distribution]); it has no referrers API
//     and is a real, independent implementation of the distribution spec.
//
// The shortest flow runs the same checks against every kind:
//
//	for _, reg := range registrytest.All(t) {
//		t.Run(reg.Name, func(t *testing.T) {
//			repo := reg.Repository(t, "acme/shop")
//			// push, tag, resolve, list referrers through repo
//		})
//	}
//
// The distribution kind needs docker-registry on PATH (Debian installs
// /usr/bin/docker-registry with apt-get install -y docker-registry). Without
// it the kind is skipped, or
// fails the test when the environment variable CI is "true".
//
// Every registry is stopped and its storage removed by t.Cleanup.
package registrytest
