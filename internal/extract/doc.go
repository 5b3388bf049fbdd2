// Package extract writes the entries of a build into a directory safely:
// the mechanism behind release.Open. Users call release.Open; this package
// is internal.
//
// [Extract] takes the entries a build record lists (regular files,
// symbolic links, directories packed as tar+gzip layers) and a source of
// their layers, and fails closed. Every entry path and every tar member
// name must be a relative, slash-separated path without empty, "." or ".."
// elements ([CheckPath]); every symbolic link must resolve inside the
// directory, following the other links of the build lexically, never the
// disk ([CheckLink]); hard links may only name an earlier file of the
// same packed directory; devices, FIFOs, sockets and setuid, setgid or
// sticky bits are refused; the bytes and entries written are limited; and
// every byte is checked against its digest as it streams.
//
// All writing goes through an [os.Root] opened on the target directory, so
// that no write can leave it, not even through a link planted there. The
// build is first written into a staging directory inside the target and
// moved into place only once every check passed and every digest
// matched: a failed extraction leaves no file of its own in the target.
package extract
