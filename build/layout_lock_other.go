//go:build !unix || aix || (solaris && !illumos)

package build

import (
	"context"
	"sync"
)

// lockFile is the fallback for systems whose syscall package has no flock
// (Windows, Plan 9, WebAssembly, AIX, Solaris): it takes a lock that all
// Layouts of this process share for path, and nothing keeps other processes
// out. There, [Layout.Update] is exclusive within one process only, for
// handles that name the layout by the same absolute path; two processes
// that write one layout at once can lose each other's tags. No file is
// created. ctx can end the wait, and then lockFile returns ctx.Err().
func lockFile(ctx context.Context, path string) (release func(), err error) {
	v, _ := processLocks.LoadOrStore(path, make(chan struct{}, 1))
	held := v.(chan struct{})
	select {
	case held <- struct{}{}:
		return func() { <-held }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// processLocks maps the path of a layout's lock file to a channel holding
// one token while a Layout of this process holds that lock. It is package
// state, which slipway avoids, because it stands in for the kernel's table
// of file locks: the handles it must coordinate share nothing else.
var processLocks sync.Map
