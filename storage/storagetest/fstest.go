// Package storagetest is the storage contract every backend must pass. A
// backend's test file calls Run with a function returning a fresh, empty
// *storage.Archive; what the suite expects follows the archive's declared
// Capabilities.
package storagetest

import (
	"errors"
	iofs "io/fs"
	"os"
	"slices"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// Run runs the storage contract against a fresh, empty archive made by
// open for each subtest (a backend's Open, say). The archive is closed at
// the end of the subtest.
func Run(t *testing.T, open func(t *testing.T) *storage.Archive) {
	t.Helper()
	for _, tc := range subtests() {
		t.Run(tc.name, func(t *testing.T) {
			a := open(t)
			if tc.need != nil && !tc.need(a.Caps) {
				_ = a.Close()
				t.Skip("the archive does not declare the capability this needs")
			}
			t.Cleanup(func() {
				if err := a.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, a)
		})
	}
}

// subtest is one part of the contract and the capabilities it needs.
type subtest struct {
	name string
	fn   func(t *testing.T, a *storage.Archive)
	need func(storage.Capabilities) bool // nil: every backend
}

// subtests is the contract. Where folders behave differently with
// Capabilities.ImplicitDirs, a subtest checks what holds on every
// backend, its "Standalone" variant what holds where folders exist on
// their own (a disk, SMB) and its "Implicit" variant what an object store
// promises instead; a backend passes exactly one of each pair, whichever
// its declaration selects, so a wrong declaration fails (see gate_test.go).
func subtests() []subtest {
	return []subtest{
		{"Capabilities", testCapabilities, nil},
		{"CaseSensitivity", testCaseSensitivity, nil},
		{"NoExclusiveCreateNoLock", testNoExclusiveCreateNoLock, not(lockable)},
		{"WriteRead", testWriteRead, nil},
		{"UnicodeNames", testUnicodeNames, nil},
		{"ExclusiveCreate", testExclusiveCreate, exclusive},
		{"ExclusiveCreateConcurrent", testExclusiveCreateConcurrent, exclusive},
		{"RenameReplaces", testRenameReplaces, atomicRename},
		{"NotExist", testNotExist, nil},
		{"NotExistStandalone", testNotExistStandalone, not(implicitDirs)},
		{"NotExistImplicit", testNotExistImplicit, implicitDirs},
		{"CreateNeedsParent", testCreateNeedsParent, not(implicitDirs)},
		{"CreateImplicit", testCreateImplicit, implicitDirs},
		{"MkdirAll", testMkdirAll, nil},
		{"MkdirAllStandalone", testMkdirAllStandalone, not(implicitDirs)},
		{"MkdirAllImplicit", testMkdirAllImplicit, implicitDirs},
		{"ReadDir", testReadDir, nil},
		{"ReadDirStandalone", testReadDirStandalone, not(implicitDirs)},
		{"ReadDirImplicit", testReadDirImplicit, implicitDirs},
		{"Remove", testRemove, nil},
		{"Sync", testSync, nil},
		{"WriteFileAtomic", testWriteFileAtomic, nil},
		{"WriteFileAtomicStandalone", testWriteFileAtomicStandalone, not(implicitDirs)},
		{"WriteFileAtomicImplicit", testWriteFileAtomicImplicit, implicitDirs},
		{"WalkDirs", testWalkDirs, nil},
		{"WalkDirsStandalone", testWalkDirsStandalone, not(implicitDirs)},
		{"WalkDirsImplicit", testWalkDirsImplicit, implicitDirs},
		{"WalkDirsParallel", testWalkDirsParallel, nil},
		{"ReadFileLimit", testReadFileLimit, nil},
		{"ReadDirAbility", testReadDirAbility, nil},
		{"LockContention", testLockContention, lockable},
		{"LockWaitsForRelease", testLockWaitsForRelease, lockable},
		{"LockStaleTakeover", testLockStaleTakeover, lockable},
		{"LockRefresh", testLockRefresh, lockable},
		{"LockRefreshKeepsItFresh", testLockRefreshKeepsItFresh, lockable},
		{"LockUnderLoad", testLockUnderLoad, lockable},
		{"Unlock", testUnlock, lockable},
		{"LockReplacedIsLost", testLockReplacedIsLost, cas},
		{"ConcurrentWrites", testConcurrentWrites, nil},
		{"ConcurrentAtomicReplace", testConcurrentAtomicReplace, atomicRename},
		{"CondIfAbsentConcurrent", testCondIfAbsentConcurrent, condCreate},
		{"CondIfMatch", testCondIfMatch, compareAndSwap},
		{"CondIfMatchConcurrent", testCondIfMatchConcurrent, compareAndSwap},
		{"CondRemove", testCondRemove, compareAndSwap},
		{"CondNoCompareAndSwap", testCondNoCompareAndSwap, not(compareAndSwap)},
		{"Versions", testVersions, versioned},
	}
}

func writeFile(t *testing.T, fsys afero.Fs, name, content string) {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatalf("OpenFile(%q): %v", name, err)
	}
	if _, err := f.Write([]byte(content)); err != nil {
		t.Fatalf("Write(%q): %v", name, err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close(%q): %v", name, err)
	}
}

func readFile(t *testing.T, fsys afero.Fs, name string) string {
	t.Helper()
	data, err := afero.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("ReadFile(%q): %v", name, err)
	}
	return string(data)
}

func wantContent(t *testing.T, fsys afero.Fs, name, want string) {
	t.Helper()
	if got := readFile(t, fsys, name); got != want {
		t.Errorf("%s = %q, want %q", name, got, want)
	}
}

func wantNotExist(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("%s: err = %v, want one satisfying errors.Is(err, fs.ErrNotExist)", what, err)
	}
}

func mkdirAll(t *testing.T, fsys afero.Fs, dir string) {
	t.Helper()
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("MkdirAll(%q): %v", dir, err)
	}
}

// names returns the entry names of dir in ReadDir order.
func names(t *testing.T, fsys afero.Fs, dir string) []string {
	t.Helper()
	entries, err := afero.ReadDir(fsys, dir)
	if err != nil {
		t.Fatalf("ReadDir(%q): %v", dir, err)
	}
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name()
	}
	return out
}

func wantDir(t *testing.T, fsys afero.Fs, dir string) {
	t.Helper()
	if fi, err := fsys.Stat(dir); err != nil || !fi.IsDir() {
		t.Errorf("Stat(%q) = %v, %v; want a directory", dir, fi, err)
	}
}

// dirEnt is a listing entry as the contract compares it; a directory's
// size is -1 (it differs between backends).
type dirEnt struct {
	name string
	size int64
	dir  bool
}

// readDirBoth lists dir through afero.ReadDir and through the handle's
// ReadDir (the backend's Capabilities.ReadDir where it has one); they
// must agree.
func readDirBoth(t *testing.T, a *storage.Archive, dir string) []dirEnt {
	t.Helper()
	conv := func(what string, fis []os.FileInfo, err error) []dirEnt {
		t.Helper()
		if err != nil {
			t.Fatalf("%s(%q): %v", what, dir, err)
		}
		out := []dirEnt{}
		for _, fi := range fis {
			e := dirEnt{fi.Name(), fi.Size(), fi.IsDir()}
			if e.dir {
				e.size = -1
			}
			out = append(out, e)
		}
		return out
	}
	fis, err := afero.ReadDir(a.Fs, dir)
	slow := conv("afero.ReadDir", fis, err)
	fis, err = a.ReadDir(t.Context(), dir)
	fast := conv("Archive.ReadDir", fis, err)
	if !slices.Equal(slow, fast) {
		t.Errorf("ReadDir(%q): Archive.ReadDir = %+v, afero.ReadDir %+v", dir, fast, slow)
	}
	return slow
}
