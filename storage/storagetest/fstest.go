// Package storagetest is the storage contract every backend must pass. A
// backend's test file calls Run with a function returning a fresh, empty
// *storage.Archive; what the suite expects follows the archive's declared
// Capabilities.
package storagetest

import (
	"errors"
	iofs "io/fs"
	"os"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// Run runs the storage contract against a fresh, empty archive made by
// open for each subtest (a backend's Open, say). The archive is closed at
// the end of the subtest.
func Run(t *testing.T, open func(t *testing.T) *storage.Archive) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, a *storage.Archive)
		need func(storage.Capabilities) bool // nil: every backend
	}{
		{"Capabilities", testCapabilities, nil},
		{"CaseSensitivity", testCaseSensitivity, nil},
		{"NoExclusiveCreateNoLock", testNoExclusiveCreateNoLock, not(exclusive)},
		{"WriteRead", testWriteRead, nil},
		{"UnicodeNames", testUnicodeNames, nil},
		{"ExclusiveCreate", testExclusiveCreate, exclusive},
		{"ExclusiveCreateConcurrent", testExclusiveCreateConcurrent, exclusive},
		{"RenameReplaces", testRenameReplaces, atomicRename},
		{"NotExist", testNotExist, nil},
		{"CreateNeedsParent", testCreateNeedsParent, not(implicitDirs)},
		{"MkdirAll", testMkdirAll, nil},
		{"ReadDir", testReadDir, nil},
		{"Remove", testRemove, nil},
		{"Sync", testSync, nil},
		{"WriteFileAtomic", testWriteFileAtomic, nil},
		{"WalkDirs", testWalkDirs, nil},
		{"WalkDirsParallel", testWalkDirsParallel, nil},
		{"ReadFileLimit", testReadFileLimit, nil},
		{"ReadDirAbility", testReadDirAbility, nil},
		{"LockContention", testLockContention, exclusive},
		{"LockWaitsForRelease", testLockWaitsForRelease, exclusive},
		{"LockStaleTakeover", testLockStaleTakeover, exclusive},
		{"LockRefresh", testLockRefresh, exclusive},
		{"LockRefreshKeepsItFresh", testLockRefreshKeepsItFresh, exclusive},
		{"LockUnderLoad", testLockUnderLoad, exclusive},
		{"Unlock", testUnlock, exclusive},
		{"ConcurrentWrites", testConcurrentWrites, nil},
		{"ConcurrentAtomicReplace", testConcurrentAtomicReplace, atomicRename},
	}
	for _, tc := range tests {
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
