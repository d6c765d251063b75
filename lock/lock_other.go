//go:build !unix

package lock

// processAlive cannot check other processes on this OS and assumes they
// are alive; such locks become stale only by age.
func processAlive(pid int, start uint64) bool {
	return pid > 0
}

// processStart is unknown on this OS.
func processStart(pid int) uint64 { return 0 }
