//go:build unix && !aix && !(solaris && !illumos)

package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// The wait between two tries for a lock file held by someone else doubles
// from the first to the last of these.
const (
	firstLockWait = time.Millisecond
	lastLockWait  = 10 * time.Millisecond
)

// lockFile takes an exclusive flock(2) on the file at path, creating it if
// needed, and returns the function that releases it. It tries without
// blocking and waits between tries, so that ctx can end the wait; if it
// does, lockFile returns ctx.Err(). The lock is held by an open file of
// this call only (Go opens files close-on-exec), so it excludes other
// processes and the other calls of this process alike, and the kernel
// drops it when the process ends, however it ends. If the file does not
// exist and cannot be created for lack of rights or on a read-only file
// system, the error wraps errNoLockFile.
func lockFile(ctx context.Context, path string) (release func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		// flock needs no write access: lock the file through a read-only
		// descriptor if someone who may write has created it.
		var rerr error
		if f, rerr = os.Open(path); rerr == nil {
			err = nil
		} else if errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("%w: %w", errNoLockFile, err)
		}
	}
	if err != nil {
		return nil, err
	}
	wait := firstLockWait
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return func() { f.Close() }, nil // closing the only descriptor unlocks
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, &os.PathError{Op: "flock", Path: path, Err: err}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			f.Close()
			return nil, ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, lastLockWait)
	}
}
