// Package attest holds what slipway states about a release and the
// evidence behind it. So far that is [Summary], the consolidated security
// view every release record carries; signed in-toto statements, DSSE
// envelopes and the evidence formats join it as the release stage grows
// (docs/format.md).
package attest
