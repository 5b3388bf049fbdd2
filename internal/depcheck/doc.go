// Package depcheck holds the test that keeps slipway's imports one-way
// (STYLE.md section 3): attest and config import nothing of this module;
// build may import attest and internal packages; release may import build,
// config, attest and internal packages; examples import no internal package;
// internal packages import no public package.
//
// The rules are a table in depcheck_test.go, one row per package or package
// tree; a new package adds a row there. The test reads the module's import
// graph with go list, counting only non-test imports, and skips the rows of
// packages that do not exist yet. It has no API of its own.
package depcheck
