package fs

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"time"

	"github.com/spf13/afero"
)

// Unlock removes a stale lock, or any lock if removeAll. It returns the
// removed holder (for an unparseable lock file a LockInfo with only
// Refreshed set, to the file's modification time). A lock held by a live
// holder is refused with a *LockError unless removeAll. No lock present
// gives (nil, nil).
func Unlock(fsys afero.Fs, removeAll bool, host string, staleAfter time.Duration) (*LockInfo, error) {
	if staleAfter <= 0 {
		staleAfter = DefaultLockStaleAfter
	}
	st, err := readLock(fsys)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Lock %s lesen: %w", LockFileName, err)
	}
	if !removeAll && !st.stale(time.Now(), host, staleAfter) {
		return nil, &LockError{Path: LockFileName, Holder: st.info}
	}
	removed, err := removeIfUnchanged(fsys, st)
	if err != nil {
		return nil, fmt.Errorf("Lock %s entfernen: %w", LockFileName, err)
	}
	if !removed {
		return nil, fmt.Errorf("Lock %s hat sich während des Entfernens geändert, bitte erneut versuchen", LockFileName)
	}
	if st.info == nil {
		return &LockInfo{Refreshed: st.modTime}, nil
	}
	return st.info, nil
}
