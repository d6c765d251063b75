//go:build unix

package lock

import (
	"errors"
	"syscall"
)

// processAlive reports whether a process with pid exists on this host.
// Only ESRCH counts as dead; EPERM means it exists but belongs to someone
// else, and any other error is taken as alive to stay on the safe side.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}
