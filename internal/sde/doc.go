// Package sde decides the creation time that slipway writes into artifacts:
// the caller's, else SOURCE_DATE_EPOCH, else the Unix epoch. It never reads
// the wall clock, so the same inputs give the same bytes.
//
// See https://reproducible-builds.org/specs/source-date-epoch/.
package sde
