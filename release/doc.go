// Package release combines a build and a config into a release and keeps
// each app's releases per environment on an append-only, hash-chained
// ledger: the Twelve-Factor release stage.
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
//	r, err := release.New(ctx, repo, b, c, release.Options{Created: time.Now()})
//	...
//	entries, err := release.History(ctx, repo, "prod", release.HistoryOptions{})
//	...
//	back, err := release.Rollback(ctx, repo, "prod", 3, release.Options{Created: time.Now()})
//
// A rollback is a new version with an old build and config: history is
// never rewritten. [History] checks every link of the chain. Concurrent
// publishers never lose or fork a release: each lands on the ledger or
// gets [ErrConflict] and may try again. The format and the guarantees per
// kind of store are described in docs/format.md.
package release
