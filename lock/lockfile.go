package lock

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
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
	Start     uint64    `json:"start,omitempty"` // the holder's start time (Identity.Start)
	Operation string    `json:"operation"`
	Version   string    `json:"version"`
	Created   time.Time `json:"created"`
	Refreshed time.Time `json:"refreshed"`
	Counter   uint64    `json:"counter"` // +1 on every refresh: what waiters watch
	Token     string    `json:"token"`   // random, identifies this holder
	// Free marks a released lock on a store with compare-and-swap, where
	// the lock object is never deleted: its last holder wrote this record
	// (conditionally on its own) when it let go. The next run replaces it
	// conditionally on what it read.
	Free bool `json:"frei,omitempty"`
}

// lockState is one reading of the lock file.
type lockState struct {
	info *LockInfo // nil if the content cannot be parsed (empty or torn)
	raw  []byte
	tag  storage.Tag // for a conditional replace of exactly this content
}

// free reports whether the record is a released lock.
func (st lockState) free() bool { return st.info != nil && st.info.Free }

// maxLockSize bounds what is read of a lock file.
const maxLockSize = 64 << 10

func readLock(ctx context.Context, arch *storage.Archive) (lockState, error) {
	raw, tag, err := arch.ReadFileTag(ctx, LockFileName, maxLockSize)
	if err != nil {
		return lockState{}, err
	}
	info, _ := parseLock(raw)
	return lockState{info: info, raw: raw, tag: tag}, nil
}

// Held reads the archive's lock: held is false when there is none or it
// is a released ("frei") record; info is nil for a lock file that cannot
// be read as a lock (empty, damaged). For tests and status displays.
func Held(ctx context.Context, arch *storage.Archive) (held bool, info *LockInfo, err error) {
	st, err := readLock(ctx, arch)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil, nil
	}
	if err != nil {
		return false, nil, err
	}
	if st.free() {
		return false, st.info, nil
	}
	return true, st.info, nil
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

// removeIf removes the file name if match says its content is the one
// the caller means (the stale lock it judged, or its own). It first renames
// the file aside under a name only this caller uses, so of two runs acting
// at once only one gets any given file; then it looks at what it got. If
// that is not the file meant (someone replaced it meanwhile), it is put
// back with an exclusive create.
func removeIf(ctx context.Context, arch *storage.Archive, name, aside string, match func(raw []byte) bool) (bool, error) {
	fsys := arch.FS(ctx)
	if err := fsys.Rename(name, aside); err != nil {
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
		if err := fsys.Rename(aside, name); err != nil {
			return false, fmt.Errorf("%s zurück nach %s: %w", aside, name, err)
		}
		return false, rerr
	}
	if err := createWhole(ctx, arch, name, raw); err != nil && !errors.Is(err, iofs.ErrExist) {
		return false, fmt.Errorf("fremden Lock zurücklegen: %w", err)
	}
	_ = fsys.Remove(aside)
	return false, nil
}

// TakeoverFileName is held (created exclusively) by the one run that
// removes a stale lock, so that two waiters never act on it at once.
const TakeoverFileName = LockFileName + ".takeover"

// takeOver removes the stale lock judged (its content as read), unless
// another run is doing so right now or the lock changed meanwhile. Only
// one run at a time gets past TakeoverFileName; it checks that the lock is
// still the one judged before it renames it aside, so it never displaces a
// lock that another taker or a new run has created since. A marker left by
// a taker that died is removed once it has stayed unchanged for a lease
// (watched in mw).
//
// The marker names its taker as a lock file names its holder, so that a
// marker left by a taker killed in this very pid space (kill -9 in the
// middle of a takeover) is removed at once, not after a lease.
func takeOver(ctx context.Context, arch *storage.Archive, me Identity, token string, judged []byte, mw *watch, lease time.Duration) (bool, error) {
	fsys := arch.FS(ctx)
	marker := encodeLock(LockInfo{PID: me.PID, Host: me.Host, MachineID: me.MachineID, BootID: me.BootID, PidNS: me.PidNS, Start: me.Start,
		Operation: "takeover", Created: time.Now(), Token: token})
	err := createWhole(ctx, arch, TakeoverFileName, marker)
	if errors.Is(err, iofs.ErrExist) {
		raw, rerr := afero.ReadFile(fsys, TakeoverFileName)
		if rerr != nil {
			return false, nil // gone meanwhile: try again next round
		}
		taker, _ := parseLock(raw)
		if mw.see(raw, time.Now()); me.holderDead(taker) || time.Since(mw.since) >= lease {
			_, err := removeIf(ctx, arch, TakeoverFileName, TakeoverFileName+"."+token, func(got []byte) bool { return bytes.Equal(got, raw) })
			*mw = watch{}
			return false, err
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer fsys.Remove(TakeoverFileName)
	cur, err := readLock(ctx, arch)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil
	}
	if err != nil || !bytes.Equal(cur.raw, judged) {
		return false, err
	}
	return removeIf(ctx, arch, LockFileName, LockFileName+"."+token+".alt", func(raw []byte) bool { return bytes.Equal(raw, judged) })
}

// createWhole creates name with data if it does not exist, whole in one
// operation where the storage offers that (Caps.WriteCond): a run killed
// meanwhile leaves no empty or half file. The error wraps iofs.ErrExist if
// the file is already there.
func createWhole(ctx context.Context, arch *storage.Archive, name string, data []byte) error {
	_, err := arch.WriteFile(ctx, name, data, storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true})
	if err != nil && !errors.Is(err, iofs.ErrExist) {
		return fmt.Errorf("%s anlegen: %w", name, err)
	}
	return err
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
	if info.Free {
		return fmt.Sprintf("frei (zuletzt gehalten von pid %d auf host %s)", info.PID, info.Host)
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
