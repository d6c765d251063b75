package backup

import (
	"os"
	"runtime/debug"
	"sync"
)

// scanMemoryLimit is the soft limit on the Go heap while verify or restore
// hold the whole archive in memory: some 600 bytes per backup once loaded
// (compact.go), about 60 MB live for 100,000 orders. Without a limit the
// garbage collector lets the heap grow to twice what is live before it
// runs again, and the process to over 200 MB; with it, the collector runs
// more often as the heap nears the limit, and verify, restore and
// restore --at of 100,000 orders stay near 120 MB (SPEC 8: at most 150
// MB), still with less CPU time than before the memory work held less
// (110 MB then: 130 MB peak). An archive too big for the limit still
// works: the collector then runs at most half the time. GOMEMLIMIT, if
// set, is left alone.
const scanMemoryLimit = 100 << 20

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
