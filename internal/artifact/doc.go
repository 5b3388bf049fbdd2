// Package artifact holds the checks every slipway artifact reader applies
// to an OCI manifest before it reads the record: that it is an image
// manifest of the expected artifactType, of a format version the reader
// knows.
package artifact
