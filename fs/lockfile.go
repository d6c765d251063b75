package fs

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"time"

	"github.com/spf13/afero"
)

// LockFileName is the lock file at the archive root.
const LockFileName = ".backup.lock"

// Defaults used when LockOptions (or Stale's staleAfter) leave a value zero.
const (
	DefaultLockRefresh    = time.Minute
	DefaultLockStaleAfter = 10 * time.Minute
	DefaultLockPoll       = 200 * time.Millisecond
)

// LockInfo is the JSON content of the lock file.
type LockInfo struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	Operation string    `json:"operation"`
	Version   string    `json:"version"`
	Created   time.Time `json:"created"`
	Refreshed time.Time `json:"refreshed"`
	Token     string    `json:"token"` // random, identifies this holder
}

// Stale reports whether info describes a stale lock: same host and pid not
// alive, or Refreshed older than staleAfter (DefaultLockStaleAfter if <= 0).
func Stale(info LockInfo, now time.Time, host string, staleAfter time.Duration) bool {
	if staleAfter <= 0 {
		staleAfter = DefaultLockStaleAfter
	}
	if host != "" && info.Host == host && !processAlive(info.PID) {
		return true
	}
	return now.Sub(info.Refreshed) > staleAfter
}

// lockState is one reading of the lock file.
type lockState struct {
	info    *LockInfo // nil if the content cannot be parsed (empty or torn)
	raw     []byte
	modTime time.Time
}

// stale judges a parsed lock with Stale and an unparseable one by its
// modification time.
func (s lockState) stale(now time.Time, host string, staleAfter time.Duration) bool {
	if s.info == nil {
		return now.Sub(s.modTime) > staleAfter
	}
	return Stale(*s.info, now, host, staleAfter)
}

// readLock reads content and modification time through one handle, so
// both belong to the same file even if it is replaced meanwhile.
func readLock(fsys afero.Fs) (lockState, error) {
	f, err := fsys.Open(LockFileName)
	if err != nil {
		return lockState{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return lockState{}, err
	}
	raw, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return lockState{}, err
	}
	st := lockState{raw: raw, modTime: fi.ModTime()}
	var info LockInfo
	if json.Unmarshal(raw, &info) == nil {
		st.info = &info
	}
	return st, nil
}

// removeIfUnchanged re-reads the lock and removes it only if it is still
// byte for byte the one judged in st (same token, not refreshed since),
// which keeps the window for removing a fresh holder's lock small.
func removeIfUnchanged(fsys afero.Fs, st lockState) (bool, error) {
	cur, err := readLock(fsys)
	if errors.Is(err, iofs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !bytes.Equal(cur.raw, st.raw) || !cur.modTime.Equal(st.modTime) {
		return false, nil
	}
	if err := fsys.Remove(LockFileName); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
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
		_ = fsys.Remove(LockFileName) // we created it, so it is ours
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

// describeHolder formats "pid 4711 auf host werkstatt (export, seit ...)".
func describeHolder(info *LockInfo) string {
	if info == nil {
		return "unlesbare Lock-Datei (wird gerade angelegt oder ist beschädigt)"
	}
	op := info.Operation
	if op != "" {
		op += ", "
	}
	return fmt.Sprintf("pid %d auf host %s (%sseit %s)", info.PID, info.Host, op,
		info.Created.Local().Format("2006-01-02 15:04:05"))
}
