package backup

import (
	"os"
	"runtime/debug"
	"sync"
)

// scanMemoryLimit is the soft limit on the Go heap while verify or restore
// hold the whole archive in memory: about 800 bytes per backup once loaded
// (compact.go), 80 MB for 100,000 orders. Without a limit the garbage
// collector lets the heap grow to twice what is live before it runs again,
// and the process to over 200 MB; with it, the collector runs more often as
// the heap nears the limit, and a restore of 100,000 orders stays near
// 125 MB (SPEC 8: at most 150 MB). An archive too big for the limit still
// works: the collector then runs at most half the time. GOMEMLIMIT, if set,
// is left alone.
const scanMemoryLimit = 110 << 20

var memLimit struct {
	mu    sync.Mutex
	users int
	prev  int64
}

// boundMemory sets the soft memory limit for a verify or restore and
// returns the function that lifts it again; runs that overlap in one
// process (tests) share it.
func boundMemory() func() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	memLimit.mu.Lock()
	defer memLimit.mu.Unlock()
	if memLimit.users == 0 {
		memLimit.prev = debug.SetMemoryLimit(scanMemoryLimit)
	}
	memLimit.users++
	return func() {
		memLimit.mu.Lock()
		defer memLimit.mu.Unlock()
		if memLimit.users--; memLimit.users == 0 {
			debug.SetMemoryLimit(memLimit.prev)
		}
	}
}
