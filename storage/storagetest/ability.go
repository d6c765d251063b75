package storagetest

import (
	"bytes"
	"errors"
	iofs "io/fs"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// The handle's methods that use a backend's fast paths
// (Capabilities.ReadFile, …) must give the same results as the generic
// way on every backend.

func testReadFileLimit(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329")
	big := string(bytes.Repeat([]byte("0123456789"), 7000)) // 70,000 bytes: more than one read
	writeFile(t, fsys, "2024/076329/data.csv", "record_id\r\n1\r\n")
	writeFile(t, fsys, "2024/076329/leer", "")
	writeFile(t, fsys, "2024/076329/gross", big)
	for _, c := range []struct {
		name  string
		limit int64
		want  string
	}{
		{"2024/076329/data.csv", 1 << 20, "record_id\r\n1\r\n"},
		{"2024/076329/data.csv", 14, "record_id\r\n1\r\n"},
		{"2024/076329/data.csv", 5, "record"},
		{"2024/076329/leer", 10, ""},
		{"2024/076329/gross", 1 << 20, big},
		{"2024/076329/gross", 70000, big},
		{"2024/076329/gross", 69999, big},
		{"2024/076329/gross", 65536, big[:65537]},
	} {
		got, err := a.ReadFile(t.Context(), c.name, c.limit)
		if err != nil || string(got) != c.want {
			t.Errorf("ReadFile(%s, %d) = %d bytes, %v; want %d bytes", c.name, c.limit, len(got), err, len(c.want))
		}
	}
	if _, err := a.ReadFile(t.Context(), "2024/fehlt/data.csv", 10); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want ErrNotExist", err)
	}
}

func testReadDirAbility(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329/anhang")
	writeFile(t, fsys, "2024/076329/data.csv", "12345")
	writeFile(t, fsys, "2024/076329/meta.json", "{}")
	writeFile(t, fsys, "2024/076329/Ä.txt", "")
	got, err := a.ReadDir(t.Context(), "2024/076329")
	if err != nil {
		t.Fatal(err)
	}
	want, err := afero.ReadDir(fsys, "2024/076329")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ReadDir: %d entries, afero.ReadDir %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name() != w.Name() || g.IsDir() != w.IsDir() || g.Mode().Type() != w.Mode().Type() || (!g.IsDir() && g.Size() != w.Size()) {
			t.Errorf("ReadDir[%d] = %s dir=%v %v %d, afero.ReadDir %s dir=%v %v %d",
				i, g.Name(), g.IsDir(), g.Mode().Type(), g.Size(), w.Name(), w.IsDir(), w.Mode().Type(), w.Size())
		}
	}
	if _, err := a.ReadDir(t.Context(), "2024/fehlt"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("ReadDir of a missing directory: %v, want ErrNotExist", err)
	}
	// A rename is durable after SyncDir, whichever way the backend does it.
	if err := fsys.Rename("2024/076329/Ä.txt", "2024/076329/B.txt"); err != nil {
		t.Fatal(err)
	}
	if err := a.SyncDir(t.Context(), "2024/076329"); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
}

func testWalkDirsParallel(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	for _, dir := range []string{"2023/000001", "2024/076330", "2024/076329/anhang", "2025"} {
		mkdirAll(t, fsys, dir)
	}
	writeFile(t, fsys, "2024/076329/data.csv", "x")
	var seq []string
	if err := a.WalkDirs(t.Context(), ".", func(dir string, _ []os.FileInfo, err error) error {
		seq = append(seq, dir)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	par := parallelDirs(t, a)
	if !slices.Equal(par, seq) {
		t.Errorf("WalkDirsParallel visited %q, WalkDirs %q", par, seq)
	}
}

// parallelDirs returns the folders WalkDirsParallel visits below the root,
// sorted.
func parallelDirs(t *testing.T, a *storage.Archive) []string {
	t.Helper()
	var mu sync.Mutex
	var dirs []string
	if err := a.WalkDirsParallel(t.Context(), ".", 4, func(dir string, _ []os.FileInfo, err error) error {
		mu.Lock()
		dirs = append(dirs, dir)
		mu.Unlock()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(dirs)
	return dirs
}
