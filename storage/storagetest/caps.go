package storagetest

import (
	"context"
	"errors"
	iofs "io/fs"
	"testing"

	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
)

func exclusive(c storage.Capabilities) bool { return c.ExclusiveCreate }
func cas(c storage.Capabilities) bool       { return c.CompareAndSwap && c.WriteCond != nil }
func lockable(c storage.Capabilities) bool {
	return c.ExclusiveCreate || c.CompareAndSwap && c.WriteCond != nil
}
func atomicRename(c storage.Capabilities) bool { return c.AtomicRename }
func implicitDirs(c storage.Capabilities) bool { return c.ImplicitDirs }

func not(f func(storage.Capabilities) bool) func(storage.Capabilities) bool {
	return func(c storage.Capabilities) bool { return !f(c) }
}

// testCapabilities: what every backend must declare consistently.
func testCapabilities(t *testing.T, a *storage.Archive) {
	c := a.Caps
	if a.Fs == nil {
		t.Fatal("Archive.Fs is nil")
	}
	if c.DefaultWorkers < 1 {
		t.Errorf("DefaultWorkers = %d, want at least 1", c.DefaultWorkers)
	}
	if (c.List == nil) != (c.ContentHash == nil) {
		t.Errorf("List and ContentHash must be offered together (List %v, ContentHash %v)", c.List != nil, c.ContentHash != nil)
	}
	if c.Links && c.Lstat == nil {
		t.Error("Links without Lstat: nothing could tell a link from its target")
	}
	if !c.AtomicRename && !c.AtomicWrite {
		t.Error("neither AtomicRename nor AtomicWrite: no file could be replaced safely")
	}
}

// testCaseSensitivity: CaseInsensitive is declared exactly when the
// storage treats "DATA.CSV" and "data.csv" as one file.
func testCaseSensitivity(t *testing.T, a *storage.Archive) {
	writeFile(t, a.Fs, "data.csv", "klein")
	_, err := a.Fs.Stat("DATA.CSV")
	switch {
	case a.Caps.CaseInsensitive && err != nil:
		t.Errorf("CaseInsensitive declared, but Stat(DATA.CSV) = %v", err)
	case !a.Caps.CaseInsensitive && err == nil:
		t.Error("CaseInsensitive not declared, but DATA.CSV finds data.csv")
	case !a.Caps.CaseInsensitive && !errors.Is(err, iofs.ErrNotExist):
		t.Errorf("Stat(DATA.CSV) = %v, want ErrNotExist", err)
	}
}

// testNoExclusiveCreateNoLock: on a storage without exclusive create the
// lock refuses instead of pretending to protect the archive.
func testNoExclusiveCreateNoLock(t *testing.T, a *storage.Archive) {
	l, err := lock.AcquireLock(context.Background(), a, lock.LockOptions{Operation: "export"})
	if l != nil {
		_ = l.Release()
	}
	if !errors.Is(err, lock.ErrNoExclusiveCreate) {
		t.Errorf("AcquireLock = %v, want ErrNoExclusiveCreate", err)
	}
}
