package fs

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// LockFileName is the lock file at the archive root.
const LockFileName = ".backup.lock"

// The lock's periods. A holder rewrites the lock every DefaultLockRefresh
// (a new Counter each time). A waiter that watches the lock file and sees
// its content unchanged for a whole DefaultLockLease on its own monotonic
// clock takes it over: a dead holder on another machine is replaced about
// three minutes after its last refresh. The holder itself stops writing
// once its last successful refresh is older than the lease minus
// DefaultLockLease/3, a minute before any waiter can take over.
const (
	DefaultLockRefresh = 30 * time.Second
	DefaultLockLease   = 3 * time.Minute
	DefaultLockPoll    = 200 * time.Millisecond
)

// TestLeaseEnv is an environment variable for tests only: a duration
// ("2s") that replaces DefaultLockLease (and scales the refresh period
// with it) in every run of the program, so lock tests need not wait
// minutes. It is not a setting: never set it in production.
const TestLeaseEnv = "ARCHIV_TEST_LOCK_LEASE"

// leaseFromEnv returns the lease TestLeaseEnv asks for, or 0.
func leaseFromEnv() time.Duration {
	d, err := time.ParseDuration(os.Getenv(TestLeaseEnv))
	if err != nil || d <= 0 {
		return 0
	}
	return d
}

// LockInfo is the JSON content of the lock file. Created and Refreshed are
// the holder's clock and only for humans: no decision depends on them.
type LockInfo struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	MachineID string    `json:"machine_id,omitempty"`
	BootID    string    `json:"boot_id,omitempty"`
	PidNS     string    `json:"pid_ns,omitempty"`
	Operation string    `json:"operation"`
	Version   string    `json:"version"`
	Created   time.Time `json:"created"`
	Refreshed time.Time `json:"refreshed"`
	Counter   uint64    `json:"counter"` // +1 on every refresh: what waiters watch
	Token     string    `json:"token"`   // random, identifies this holder
}

// lockState is one reading of the lock file.
type lockState struct {
	info *LockInfo // nil if the content cannot be parsed (empty or torn)
	raw  []byte
}

func readLock(fsys afero.Fs) (lockState, error) {
	f, err := fsys.Open(LockFileName)
	if err != nil {
		return lockState{}, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return lockState{}, err
	}
	info, _ := parseLock(raw)
	return lockState{info: info, raw: raw}, nil
}

// parseLock decodes a lock file; nil if it is no lock (no JSON object
// with a token).
func parseLock(raw []byte) (*LockInfo, error) {
	var info LockInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return nil, err
	}
	if info.Token == "" {
		return nil, errors.New("kein Token")
	}
	return &info, nil
}

// removeIf removes the lock file if keep says its content is the one the
// caller means (the stale lock it judged, or its own). It first renames the
// file aside under a name only this caller uses, so of two runs acting at
// once only one gets any given file; then it looks at what it got. If that
// is not the file meant (someone replaced it meanwhile, e.g. a second
// waiter that took over first), it is put back with an exclusive create;
// should a third run have created a lock in that instant, the displaced
// holder finds a foreign token at its next refresh and stops writing.
func removeIf(fsys afero.Fs, aside string, match func(raw []byte) bool) (bool, error) {
	if err := fsys.Rename(LockFileName, aside); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	raw, rerr := afero.ReadFile(fsys, aside)
	if rerr == nil && match(raw) {
		if err := fsys.Remove(aside); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return true, fmt.Errorf("%s entfernen: %w", aside, err)
		}
		return true, nil
	}
	if rerr != nil {
		// Cannot tell what it is: put it back as it was.
		if err := fsys.Rename(aside, LockFileName); err != nil {
			return false, fmt.Errorf("%s zurück nach %s: %w", aside, LockFileName, err)
		}
		return false, rerr
	}
	if err := createLockFile(fsys, raw); err != nil && !errors.Is(err, iofs.ErrExist) {
		return false, fmt.Errorf("fremden Lock zurücklegen: %w", err)
	}
	_ = fsys.Remove(aside)
	return false, nil
}

// createLockFile creates the lock file exclusively and writes data. The
// error wraps iofs.ErrExist if a lock file is already there.
func createLockFile(fsys afero.Fs, data []byte) error {
	f, err := fsys.OpenFile(LockFileName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := f.Write(data)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = fsys.Remove(LockFileName) // we just created it, so it is ours
		return fmt.Errorf("Lock %s schreiben: %w", LockFileName, err)
	}
	return nil
}

func encodeLock(info LockInfo) []byte {
	data, err := json.Marshal(info)
	if err != nil {
		panic(err) // LockInfo always marshals
	}
	return append(data, '\n')
}

func newToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("Lock-Token erzeugen: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// DescribeHolder formats "pid 4711 auf host werkstatt (export, seit ...)",
// or says that the lock file cannot be read (info nil).
func DescribeHolder(info *LockInfo) string {
	if info == nil {
		return "unlesbare Lock-Datei (leer oder beschädigt: wird gerade angelegt, oder ihr Schreiber brach ab)"
	}
	var parts []string
	if info.Operation != "" {
		parts = append(parts, info.Operation)
	}
	if !info.Created.IsZero() {
		parts = append(parts, "seit "+info.Created.Local().Format("2006-01-02 15:04:05"))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("pid %d auf host %s", info.PID, info.Host)
	}
	return fmt.Sprintf("pid %d auf host %s (%s)", info.PID, info.Host, strings.Join(parts, ", "))
}
