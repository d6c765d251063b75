//go:build unix

package lock

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// processAlive reports whether the process with pid that started at start
// (0: unknown) still exists on this host. Only ESRCH counts as dead; EPERM
// means it exists but belongs to someone else, and any other error is
// taken as alive to stay on the safe side. With a start time, a pid that
// now names another process, or a thread (kill(2) finds threads too), is
// dead: pids are handed out again, after 32,768 on many systems, and a busy
// machine gets there in minutes.
func processAlive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return false
	}
	if start == 0 {
		return true
	}
	now := processStart(pid)
	return now == 0 || now == start
}

// processStart is the start time of process pid (field 22 of
// /proc/<pid>/stat, clock ticks after boot), 0 if it cannot be read. For
// a thread id that is not a process the start time of the thread is read:
// it differs from a process's that had the number before.
func processStart(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(s[i+1:]) // from field 3 on
	if len(fields) < 20 {
		return 0
	}
	n, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
