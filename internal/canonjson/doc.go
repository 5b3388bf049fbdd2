// Package canonjson encodes values as slipway's canonical JSON: the bytes
// that are hashed and signed.
//
// Canonical here means: encoding/json's output for the value (struct fields
// in declaration order, map keys sorted), no HTML escaping, no indentation
// and no trailing newline. The same value therefore always gives the same
// bytes. Decoding is strict: unknown fields, trailing data and input that
// does not re-encode to the identical bytes are refused, so a reader accepts
// exactly what a writer would have produced.
package canonjson
