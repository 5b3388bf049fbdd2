package release

import (
	"log/slog"
	"time"
)

// Options are the optional settings of [New] and [Rollback]. The zero value
// is ready to use.
type Options struct {
	// Created is the release's creation time, stored to the second in UTC.
	// If zero, the time SOURCE_DATE_EPOCH names is used, and without it
	// the Unix epoch, so that the same inputs give the same release. A
	// deploy tool passes time.Now().
	Created time.Time
	// Logger receives a record of each step; if nil, nothing is logged.
	// Records name digests and tags, never config values.
	Logger *slog.Logger
	// Wait is how long a publisher to a store without [Updater] waits for
	// another publisher to finish adding a version before it takes the
	// version over; if zero, 2 seconds. It bounds the delay a publisher
	// interrupted midway causes; the ledger is safe with any value.
	Wait time.Duration
}

const defaultWait = 2 * time.Second

// HistoryOptions are the optional settings of [History]. The zero value is
// ready to use.
type HistoryOptions struct {
	// Limit is the most entries returned, newest first; if zero, the whole
	// history back to version 1 is read and checked.
	Limit int
}
