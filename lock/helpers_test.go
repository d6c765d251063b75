package lock

import (
	"context"
	"errors"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// tempFs is an archive Fs on a fresh OS temp directory.
func tempFs(t *testing.T) afero.Fs {
	return afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())
}

// testCaps is what a local disk declares that the lock relies on.
var testCaps = storage.Capabilities{AtomicRename: true, ExclusiveCreate: true}

// TestNeedsExclusiveCreate: a storage that cannot create a file
// exclusively gets no lock (two runs could both believe they hold it),
// and unlock refuses as well, with a German error naming the lock file.
func TestNeedsExclusiveCreate(t *testing.T) {
	fsys := tempFs(t)
	caps := testCaps
	caps.ExclusiveCreate = false
	l, err := AcquireLock(context.Background(), archOf(fsys, caps), LockOptions{})
	if l != nil || !errors.Is(err, ErrNoExclusiveCreate) {
		t.Fatalf("AcquireLock without ExclusiveCreate = %v, %v; want ErrNoExclusiveCreate", l, err)
	}
	if want := "Lock " + LockFileName + ": das Speichersystem des Archivs kann keine Datei exklusiv anlegen"; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("error = %q, want it to start with %q", err, want)
	}
	if ok, _ := afero.Exists(fsys, LockFileName); ok {
		t.Error("a lock file was written all the same")
	}
	if _, err := Unlock(context.Background(), archOf(fsys, caps), UnlockOptions{RemoveAll: true}); !errors.Is(err, ErrNoExclusiveCreate) {
		t.Errorf("Unlock without ExclusiveCreate = %v", err)
	}
}

// archOf is fsys as an archive declaring caps.
func archOf(fsys afero.Fs, caps storage.Capabilities) *storage.Archive {
	return &storage.Archive{Fs: fsys, Caps: caps}
}
