package storagetest

import (
	"errors"
	iofs "io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/atomicfile"
	"werkstatt-backup/storage"
	"werkstatt-backup/walk"
)

func testWriteFileAtomic(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329")
	const name, tmp = "2024/076329/data.csv", "2024/076329/data.tmp.csv"
	if err := atomicfile.WriteFileAtomic(fsys, a.Caps, name, tmp, []byte("v1"), 0o644); err != nil {
		t.Fatalf("WriteFileAtomic new file: %v", err)
	}
	wantContent(t, fsys, name, "v1")
	if err := atomicfile.WriteFileAtomic(fsys, a.Caps, name, tmp, []byte("version 2"), 0o644); err != nil {
		t.Fatalf("WriteFileAtomic replace: %v", err)
	}
	wantContent(t, fsys, name, "version 2")
	if got := names(t, fsys, "2024/076329"); !slices.Equal(got, []string{"data.csv"}) {
		t.Errorf("ReadDir = %q, want [data.csv] (no temp file left)", got)
	}
	err := atomicfile.WriteFileAtomic(fsys, a.Caps, "fehlt/data.csv", "fehlt/data.tmp.csv", []byte("x"), 0o644)
	wantNotExist(t, "WriteFileAtomic into missing dir", err)
	written := "fehlt/data.tmp.csv"
	if a.Caps.AtomicWrite {
		written = "fehlt/data.csv" // no temp name
	}
	if err != nil && !strings.Contains(err.Error(), written) {
		t.Errorf("error %q does not name the file %s", err, written)
	}
	for _, dir := range []string{".", "2024/076329"} {
		if err := atomicfile.SyncDir(fsys, a.Caps, dir); err != nil {
			t.Errorf("SyncDir(%q): %v", dir, err)
		}
	}
}

func testWalkDirs(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	for _, dir := range []string{"2023/000001", "2024/076330", "2024/076329/anhang", "2025"} {
		mkdirAll(t, fsys, dir)
	}
	writeFile(t, fsys, "2024/076329/data.csv", "x")
	writeFile(t, fsys, "liesmich.txt", "x")

	var visited []string
	entriesOf := map[string][]string{}
	err := walk.WalkDirs(fsys, a.Caps, ".", func(dir string, entries []os.FileInfo, err error) error {
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
	err = walk.WalkDirs(fsys, a.Caps, "2024", func(dir string, _ []os.FileInfo, _ error) error {
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
