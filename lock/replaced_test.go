package lock

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage/objtest"
)

// replaceAfterCreate is an object store on which another run's lock lands
// between our exclusive create and the write of our content, once: the
// race an object store's conditional PUT (If-Match) reports as
// storage.ErrReplaced when the content follows.
type replaceAfterCreate struct {
	afero.Fs
	store *objtest.Store
	other []byte
	done  bool
}

func (f *replaceAfterCreate) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err == nil && !f.done && name == LockFileName && flag&os.O_EXCL != 0 {
		f.done = true
		if err := f.store.Put(LockFileName, f.other); err != nil {
			return nil, err
		}
	}
	return file, err
}

// TestCreateLeavesAReplacedLockAlone: when the storage says our freshly
// created lock file was replaced by another run's before our content was
// stored, AcquireLock must neither remove that lock (it did: "we just
// created it, so it is ours") nor take it: it waits for it like any held
// lock and names its holder.
func TestCreateLeavesAReplacedLockAlone(t *testing.T) {
	store := objtest.New(time.Now)
	a := store.Archive(false)
	// The exclusive-create protocol (an empty object, then the content):
	// what the store's compare-and-swap, where declared, makes unneeded.
	a.Caps.CompareAndSwap, a.Caps.WriteCond = false, nil
	other := LockInfo{PID: 4711, Host: "anderer-rechner", MachineID: "m2", Operation: "export",
		Created: time.Now(), Refreshed: time.Now(), Token: "fremd"}
	fsys := &replaceAfterCreate{Fs: a.Fs, store: store, other: encodeLock(other)}

	l, err := AcquireLock(context.Background(), archOf(fsys, a.Caps), LockOptions{Operation: "verify"})
	if l != nil {
		l.Release()
		t.Fatal("AcquireLock took the lock although another run's lock replaced our create")
	}
	var le *LockError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.Token != "fremd" {
		t.Fatalf("AcquireLock = %v, want a LockError naming the other run", err)
	}
	raw, err := afero.ReadFile(a.Fs, LockFileName)
	if err != nil || !strings.Contains(string(raw), `"fremd"`) {
		t.Fatalf("the other run's lock is gone or changed: %q, %v", raw, err)
	}
}
