// Package fstest is the storage contract every backend must pass. A
// backend's test file calls Run with a function returning a fresh, empty
// archive Fs.
package fstest

import (
	"errors"
	iofs "io/fs"
	"os"
	"testing"

	"github.com/spf13/afero"
)

// Run runs the storage contract against a fresh, empty archive Fs made by
// newFs for each subtest.
func Run(t *testing.T, newFs func(t *testing.T) afero.Fs) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, fsys afero.Fs)
	}{
		{"WriteRead", testWriteRead},
		{"UnicodeNames", testUnicodeNames},
		{"ExclusiveCreate", testExclusiveCreate},
		{"ExclusiveCreateConcurrent", testExclusiveCreateConcurrent},
		{"RenameReplaces", testRenameReplaces},
		{"NotExist", testNotExist},
		{"CreateNeedsParent", testCreateNeedsParent},
		{"MkdirAll", testMkdirAll},
		{"ReadDir", testReadDir},
		{"Remove", testRemove},
		{"Sync", testSync},
		{"WriteFileAtomic", testWriteFileAtomic},
		{"WalkDirs", testWalkDirs},
		{"WalkDirsParallel", testWalkDirsParallel},
		{"ReadFileLimit", testReadFileLimit},
		{"ReadDirAbility", testReadDirAbility},
		{"LockContention", testLockContention},
		{"LockWaitsForRelease", testLockWaitsForRelease},
		{"LockStaleTakeover", testLockStaleTakeover},
		{"LockRefresh", testLockRefresh},
		{"LockRefreshKeepsItFresh", testLockRefreshKeepsItFresh},
		{"LockUnderLoad", testLockUnderLoad},
		{"Unlock", testUnlock},
		{"ConcurrentWrites", testConcurrentWrites},
		{"ConcurrentAtomicReplace", testConcurrentAtomicReplace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newFs(t))
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
