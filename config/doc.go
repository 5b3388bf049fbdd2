// Package config holds one deploy's configuration, kept apart from the
// build: the Twelve-Factor "config" between build and release.
//
// A [Config] names its app and environment and holds plain variables and
// secret references: URIs such as vault://kv/shop/prod#db_password,
// env://NAME or file:///run/secrets/db, never secret values. [New] and
// [Parse] refuse a plain variable that looks like a plaintext secret, by
// its name or by the shape of its value, and name the variable and the
// rule but never the value. A config is stored as canonical JSON of media
// type [MediaType]; its digest is its identity.
//
// The shortest flow:
//
//	c, err := config.ReadFile("prod.json", config.Options{})
//	...
//	fmt.Println(c.Digest())
//
// [Diff] lists the variables that differ between two configs, secret
// references shown as references.
//
// Secret references are resolved only when a release runs, by
// [Config.Resolve] with a [Resolver] the caller supplies, such as
// [Schemes] of an [EnvResolver] and a [FileResolver]; making a release
// never resolves them. The file format, the rules and the resolvers are
// described in docs/config.md.
package config
