package storagetest

import (
	"errors"
	iofs "io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/storage"
)

// testWriteFileAtomic: on every backend an atomic write (Replace) creates
// and replaces a file and leaves no temp file; SyncDir succeeds on the root,
// on a folder written into and on one MkdirAll has just made, which holds
// nothing yet (on an object store it does not exist: the history's first
// commit failed on that once).
func testWriteFileAtomic(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329")
	const name, tmp = "2024/076329/data.csv", "2024/076329/data.tmp.csv"
	if err := a.Replace(t.Context(), name, tmp, []byte("v1")); err != nil {
		t.Fatalf("Replace new file: %v", err)
	}
	wantContent(t, fsys, name, "v1")
	if err := a.Replace(t.Context(), name, tmp, []byte("version 2")); err != nil {
		t.Fatalf("Replace over the old content: %v", err)
	}
	wantContent(t, fsys, name, "version 2")
	if got := names(t, fsys, "2024/076329"); !slices.Equal(got, []string{"data.csv"}) {
		t.Errorf("ReadDir = %q, want [data.csv] (no temp file left)", got)
	}
	mkdirAll(t, fsys, "2025/leer")
	for _, dir := range []string{".", "2024/076329", "2025/leer"} {
		if err := a.SyncDir(t.Context(), dir); err != nil {
			t.Errorf("SyncDir(%q): %v", dir, err)
		}
	}
}

// testWriteFileAtomicStandalone: where folders exist on their own, an
// atomic write into a missing folder fails with fs.ErrNotExist and names
// the file it tried to write.
func testWriteFileAtomicStandalone(t *testing.T, a *storage.Archive) {
	err := a.Replace(t.Context(), "fehlt/data.csv", "fehlt/data.tmp.csv", []byte("x"))
	wantNotExist(t, "Replace into missing dir", err)
	written := "fehlt/data.tmp.csv"
	if a.Caps.AtomicWrite {
		written = "fehlt/data.csv" // no temp name
	}
	if err != nil && !strings.Contains(err.Error(), written) {
		t.Errorf("error %q does not name the file %s", err, written)
	}
}

// testWriteFileAtomicImplicit: where folders are implicit, an atomic
// write needs no MkdirAll: the file and its folder appear, no temp file
// is left, and the folder can be synced.
func testWriteFileAtomicImplicit(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	const name, tmp = "2024/076329/data.csv", "2024/076329/data.tmp.csv"
	if err := a.Replace(t.Context(), name, tmp, []byte("v1")); err != nil {
		t.Fatalf("Replace into a folder that holds nothing yet: %v", err)
	}
	wantContent(t, fsys, name, "v1")
	if err := a.Replace(t.Context(), name, tmp, []byte("version 2")); err != nil {
		t.Fatalf("Replace over the old content: %v", err)
	}
	wantContent(t, fsys, name, "version 2")
	wantDir(t, fsys, "2024")
	if got := names(t, fsys, "2024/076329"); !slices.Equal(got, []string{"data.csv"}) {
		t.Errorf("ReadDir = %q, want [data.csv] (no temp file left)", got)
	}
	if err := a.SyncDir(t.Context(), "2024/076329"); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
}

// walked is what a WalkDirs from root saw: the folders in order and the
// entry names of each.
func walked(t *testing.T, a *storage.Archive, root string) ([]string, map[string][]string) {
	t.Helper()
	var visited []string
	entriesOf := map[string][]string{}
	err := a.WalkDirs(t.Context(), root, func(dir string, entries []os.FileInfo, err error) error {
		if err != nil {
			t.Errorf("WalkDirs(%q): %v", dir, err)
		}
		visited = append(visited, dir)
		for _, e := range entries {
			entriesOf[dir] = append(entriesOf[dir], e.Name())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WalkDirs: %v", err)
	}
	return visited, entriesOf
}

// testWalkDirs: on every backend WalkDirs visits the folders that hold
// files in name order, with their entries; SkipDir skips a folder's
// subfolders and another error from fn ends the walk.
func testWalkDirs(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	for _, dir := range []string{"2023/000001", "2024/076330", "2024/076329/anhang", "2025"} {
		mkdirAll(t, fsys, dir)
	}
	for _, name := range []string{"2023/000001/data.csv", "2024/076330/data.csv", "2024/076329/data.csv",
		"2024/076329/anhang/a.pdf", "2025/data.csv", "liesmich.txt"} {
		writeFile(t, fsys, name, "x")
	}

	var visited []string
	entriesOf := map[string][]string{}
	err := a.WalkDirs(t.Context(), ".", func(dir string, entries []os.FileInfo, err error) error {
		if err != nil {
			t.Errorf("WalkDirs(%q): %v", dir, err)
		}
		visited = append(visited, dir)
		for _, e := range entries {
			entriesOf[dir] = append(entriesOf[dir], e.Name())
		}
		if dir == "2023" {
			return iofs.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WalkDirs: %v", err)
	}
	want := []string{".", "2023", "2024", "2024/076329", "2024/076329/anhang", "2024/076330", "2025"}
	if !slices.Equal(visited, want) {
		t.Errorf("visited %q, want %q", visited, want)
	}
	if got := entriesOf["."]; !slices.Equal(got, []string{"2023", "2024", "2025", "liesmich.txt"}) {
		t.Errorf("entries of . = %q, want [2023 2024 2025 liesmich.txt]", got)
	}
	if got := entriesOf["2024/076329"]; !slices.Equal(got, []string{"anhang", "data.csv"}) {
		t.Errorf("entries of 2024/076329 = %q, want [anhang data.csv]", got)
	}

	stop := errors.New("stop")
	visited = nil
	err = a.WalkDirs(t.Context(), "2024", func(dir string, _ []os.FileInfo, _ error) error {
		visited = append(visited, dir)
		if dir == "2024/076329" {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("WalkDirs returned %v, want the error from fn", err)
	}
	if want := []string{"2024", "2024/076329"}; !slices.Equal(visited, want) {
		t.Errorf("visited %q after stop, want %q", visited, want)
	}
}

// testWalkDirsStandalone: where folders exist on their own, WalkDirs
// visits empty ones too.
func testWalkDirsStandalone(t *testing.T, a *storage.Archive) {
	mkdirAll(t, a.Fs, "a/leer/tief")
	mkdirAll(t, a.Fs, "b")
	writeFile(t, a.Fs, "x.txt", "x")
	visited, entriesOf := walked(t, a, ".")
	if want := []string{".", "a", "a/leer", "a/leer/tief", "b"}; !slices.Equal(visited, want) {
		t.Errorf("visited %q, want %q", visited, want)
	}
	if got := entriesOf["."]; !slices.Equal(got, []string{"a", "b", "x.txt"}) {
		t.Errorf("entries of . = %q, want [a b x.txt]", got)
	}
}

// testWalkDirsImplicit: where folders are implicit, WalkDirs and
// WalkDirsParallel visit exactly the folders that hold files (written
// without MkdirAll), not one MkdirAll made, and none after its last file.
func testWalkDirsImplicit(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2023/leer")
	writeFile(t, fsys, "2024/076329/anhang/a.pdf", "x")
	writeFile(t, fsys, "liesmich.txt", "x")
	visited, entriesOf := walked(t, a, ".")
	want := []string{".", "2024", "2024/076329", "2024/076329/anhang"}
	if !slices.Equal(visited, want) {
		t.Errorf("visited %q, want %q", visited, want)
	}
	if got := entriesOf["."]; !slices.Equal(got, []string{"2024", "liesmich.txt"}) {
		t.Errorf("entries of . = %q, want [2024 liesmich.txt]", got)
	}
	par := parallelDirs(t, a)
	if !slices.Equal(par, want) {
		t.Errorf("WalkDirsParallel visited %q, want %q", par, want)
	}

	if err := fsys.Remove("2024/076329/anhang/a.pdf"); err != nil {
		t.Fatal(err)
	}
	visited, entriesOf = walked(t, a, ".")
	if !slices.Equal(visited, []string{"."}) {
		t.Errorf("visited %q after removing the only file in a folder, want [.]", visited)
	}
	if got := entriesOf["."]; !slices.Equal(got, []string{"liesmich.txt"}) {
		t.Errorf("entries of . = %q, want [liesmich.txt]", got)
	}
}
