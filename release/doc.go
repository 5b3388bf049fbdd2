// Package release combines a build and a config into a release and keeps
// each app's releases per environment on an append-only, hash-chained
// ledger: the Twelve-Factor release stage. It signs releases and verifies
// them: their signatures, their provenance, their bytes and their place on
// the ledger.
//
// A [Release] is an OCI image manifest with artifactType [MediaType]. Its
// subject is the build manifest, so a registry lists every release of a
// build; its one layer is the config blob; its config blob is the release
// record: app, environment, version N, the build and config descriptors,
// the previous release's digest, the processes the build declares, and the
// security summary. The head of an environment's ledger is the tag named
// for the environment ("prod"); each version also gets its own tag
// ("prod-v7").
//
// The shortest flow:
//
//	r, err := release.New(ctx, repo, b, c, release.Options{Created: time.Now(), Signer: signer})
//	...
//	v, err := release.Verify(ctx, repo, "prod", []signature.Verifier{pub}, release.VerifyOptions{})
//	...
//	entries, err := release.History(ctx, repo, "prod", release.HistoryOptions{})
//	...
//	back, err := release.Rollback(ctx, repo, "prod", 3, release.Options{Created: time.Now(), Signer: signer})
//
// A rollback is a new version with an old build and config: history is
// never rewritten. [History] checks every link of the chain. Concurrent
// publishers never lose or fork a release: each lands on the ledger or
// gets [ErrConflict] and may try again.
//
// With [Options.Signer], [New] and [Rollback] sign a release before its
// version tag is written, so no reader finds it on the ledger unsigned;
// [Sign] signs one already there. A signature, SLSA provenance
// ([Provenance], made from the build record) and every piece of the
// build's evidence (SBOM, scans, VEX) are written as sigstore bundle
// referrers and as cosign's legacy tags, so cosign verify and
// verify-attestation accept them (package attest). [Verify] checks, in
// order and failing closed, the signature and required attestations, the
// security summary recomputed from the attested evidence ([ErrSummaryMismatch]),
// every blob of the release and its build, and the release's tags and its
// link to the one before; each failure is a [*VerifyError] naming the
// check and wrapping a sentinel for [errors.Is] ([ErrNotSigned],
// [ErrUntrustedKey], [ErrDigestMismatch], [ErrNotOnLedger], …).
//
// Go / no-go: a [Policy] (typed rules and CEL rules, loaded with
// [ReadPolicyFile] and compiled once) judges a release and returns a
// [Decision] listing every finding. [VerifyOptions.Policy] makes [Verify]
// decide in the same call, over the summary recomputed with every scan and
// VEX document attested about the release since ([AttestEvidence]); a
// no-go is an error wrapping [ErrNoGo]. [RecordDecision] signs a decision
// as an attestation, and [VerifyOptions.DecisionKeys] requires a go signed
// by one of those keys. docs/policy.md explains the policy language.
//
// [Revoke] signs a revocation of a release, with a reason. [Verify], and a
// [Verifier] at its next check, refuse a release a trusted key revoked
// with a [*RevokedError] ([ErrRevoked]), before any policy or decision is
// asked: a revocation is final.
//
// A service that decides go / no-go on every deploy or admission request
// uses a [Verifier]: it keeps each decision for a TTL, then checks the tag
// and the evidence attached to the release with a few cheap requests and
// verifies fully only when they changed.
//
// The run stage: [Open] verifies a release, then extracts its build into a
// directory safely (no path or link leaves it, no device or setuid file,
// size and count limits, every byte checked against its digest as it
// streams, nothing left behind on failure) and resolves its config's
// secret references with a caller's [config.Resolver]. The [Opened]
// release gives its processes, its environment ([Env], which never prints
// a secret value) and, for a declared process, a ready [exec.Cmd]
// ([Opened.Command]):
//
//	o, err := release.Open(ctx, repo, "prod", dir, []signature.Verifier{pub}, release.OpenOptions{Resolver: vault})
//	...
//	cmd, err := o.Command(ctx, "migrate", "--dry-run")
//
// docs/run.md describes the extraction rules, the environment and the
// commands.
//
// The format, the guarantees per kind of store, and what verification
// checks and returns for each kind of tampering are described in
// docs/format.md.
package release
