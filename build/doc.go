// Package build makes immutable, content-addressed builds and stores them
// as OCI artifacts: the first of the Twelve-Factor stages build, release,
// run.
//
// A [Build] is an OCI image manifest with artifactType [MediaType]. Its
// config blob is the build record: app name, source repository and
// revision, dirty flag, builder, Go toolchain and module, declared
// processes, and every file with its mode and digest. Its layers are the
// files, one per regular file titled with its slash-separated path (so
// that `oras pull` writes the tree back), or a directory packed as one
// deterministic tar+gzip layer. A build may instead, or as well, adopt a
// container image made by other tools: the image becomes the manifest's
// subject.
//
// A build may carry evidence ([Spec.SBOM], [Spec.Scans], [Spec.VEX]): an
// SBOM (generated from the Go binaries' build info when none is given),
// vulnerability scans and VEX documents, each checked before anything is
// stored and kept as an untitled layer, ready to be attested about every
// release of the build. [Build.Summary] says what they add up to: open and
// suppressed vulnerabilities, the SBOM's size. [DetectCI] reads the
// builder and invocation from a GitHub Actions or GitLab CI environment.
//
// A [Policy] says what breaks a build: open vulnerabilities at or above a
// severity, a missing SBOM, a dirty tree, a missing revision, forbidden or
// oversized files, and CEL rules over the summary and the build's [Facts].
// Given in [Options.Policy], it is applied before anything is stored; a
// build that breaks it is not stored, and New returns a [*PolicyError]
// listing every finding. docs/policy.md describes the policy file.
//
// The shortest flow:
//
//	store, _ := build.OpenLayout(ctx, "slipway-demo")
//	b, err := build.New(ctx, store, "shop", build.Spec{Dir: "dist"}, build.Options{Tags: []string{"latest"}})
//	...
//	again, err := build.Load(ctx, store, "latest")
//
// New stores into any oras-go target: an OCI image layout ([Layout] or
// oras-go's content/oci), a registry (oras-go's registry/remote), or
// memory. Load reads from any read-only target and rejects what is not a
// valid v1 build with errors that [errors.Is] matches. The same inputs give
// the same bytes and digests: no file times, owners or wall-clock time are
// recorded, and the creation time comes from the caller or
// SOURCE_DATE_EPOCH.
//
// The artifact format is described in docs/format.md.
package build
