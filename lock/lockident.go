package lock

import (
	"os"
	"strings"
	"sync"
)

// Identity says where a lock holder runs, precisely enough to tell "this
// very machine, since its last boot, in this pid namespace" from a machine
// that merely has the same host name (a container that inherits it, a
// cloned VM, two NAS boxes both called "backup", unshare -p). Fields the
// OS does not provide stay empty.
type Identity struct {
	Host      string // host name, for humans
	MachineID string // /etc/machine-id or /var/lib/dbus/machine-id
	BootID    string // /proc/sys/kernel/random/boot_id: changes on every boot
	PidNS     string // /proc/self/ns/pid, e.g. "pid:[4026531836]"
	PID       int
	// Start is when the process started (clock ticks after boot, from
	// /proc/<pid>/stat), 0 if unknown: with it a pid the kernel has given
	// to another process or thread since does not count as the holder.
	Start uint64
}

var (
	localOnce sync.Once
	localID   Identity
)

// LocalIdentity returns the identity of this process.
func LocalIdentity() Identity {
	localOnce.Do(func() {
		localID.Host, _ = os.Hostname()
		localID.MachineID = firstLine("/etc/machine-id", "/var/lib/dbus/machine-id")
		localID.BootID = firstLine("/proc/sys/kernel/random/boot_id")
		localID.PidNS, _ = os.Readlink("/proc/self/ns/pid")
	})
	id := localID
	id.PID = os.Getpid()
	id.Start = processStart(id.PID)
	return id
}

func firstLine(paths ...string) string {
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if s := strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]); s != "" {
			return s
		}
	}
	return ""
}

// samePidSpace reports whether info was written by a process whose pid
// means the same as ours: same machine, same boot, same pid namespace, all
// three known. Only then may a dead pid make a lock stale at once.
func (id Identity) samePidSpace(info LockInfo) bool {
	return id.MachineID != "" && id.BootID != "" && id.PidNS != "" &&
		info.MachineID == id.MachineID && info.BootID == id.BootID && info.PidNS == id.PidNS
}

// holderDead reports whether info's holder is certainly gone: it ran in
// our pid space and its pid no longer exists.
func (id Identity) holderDead(info *LockInfo) bool {
	return info != nil && info.PID > 0 && id.samePidSpace(*info) && !processAlive(info.PID, info.Start)
}
