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

func testWriteRead(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	writeFile(t, fsys, "a.txt", "hallo\n")
	wantContent(t, fsys, "a.txt", "hallo\n")
	mkdirAll(t, fsys, "2024/076329")
	const csv = "id;nr\n1;076329\n"
	writeFile(t, fsys, "2024/076329/data.csv", csv)
	wantContent(t, fsys, "2024/076329/data.csv", csv)
	fi, err := fsys.Stat("2024/076329/data.csv")
	if err != nil {
		t.Fatal(err)
	}
	if fi.Name() != "data.csv" || fi.Size() != int64(len(csv)) || fi.IsDir() {
		t.Errorf("Stat = name %q size %d dir %v, want data.csv %d false", fi.Name(), fi.Size(), fi.IsDir(), len(csv))
	}
	writeFile(t, fsys, "a.txt", "x") // O_TRUNC shortens
	wantContent(t, fsys, "a.txt", "x")
}

func testUnicodeNames(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	const name = "Müller ß.txt"
	mkdirAll(t, fsys, "Kunden ä")
	writeFile(t, fsys, "Kunden ä/"+name, "Grüße")
	wantContent(t, fsys, "Kunden ä/"+name, "Grüße")
	if got := names(t, fsys, "Kunden ä"); !slices.Equal(got, []string{name}) {
		t.Errorf("ReadDir = %q, want [%q]", got, name)
	}
	if err := fsys.Rename("Kunden ä/"+name, "Kunden ä/Öl ü.txt"); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, "Kunden ä/Öl ü.txt", "Grüße")
}

func testExclusiveCreate(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	f, err := fsys.OpenFile("x.lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatalf("first O_EXCL create: %v", err)
	}
	if _, err := f.Write([]byte("erster")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = fsys.OpenFile("x.lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if !errors.Is(err, iofs.ErrExist) {
		t.Errorf("second O_EXCL create: err = %v, want errors.Is(err, fs.ErrExist)", err)
	}
	wantContent(t, fsys, "x.lock", "erster")
}

func testRenameReplaces(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329")
	writeFile(t, fsys, "2024/076329/data.csv", "alt")
	writeFile(t, fsys, "2024/076329/data.tmp.csv", "neu")
	if err := fsys.Rename("2024/076329/data.tmp.csv", "2024/076329/data.csv"); err != nil {
		t.Fatalf("Rename over existing file: %v", err)
	}
	wantContent(t, fsys, "2024/076329/data.csv", "neu")
	_, err := fsys.Stat("2024/076329/data.tmp.csv")
	wantNotExist(t, "Stat of renamed temp file", err)
	if got := names(t, fsys, "2024/076329"); !slices.Equal(got, []string{"data.csv"}) {
		t.Errorf("ReadDir after rename = %q, want [data.csv]", got)
	}
	mkdirAll(t, fsys, "2025")
	if err := fsys.Rename("2024/076329/data.csv", "2025/data.csv"); err != nil {
		t.Fatalf("Rename into other directory: %v", err)
	}
	wantContent(t, fsys, "2025/data.csv", "neu")
}

func testNotExist(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	writeFile(t, fsys, "da.txt", "x")
	mkdirAll(t, fsys, "leer")
	wantNotExist(t, "Rename missing", fsys.Rename("fehlt.txt", "neu.txt"))
	wantNotExist(t, "Rename into missing dir", fsys.Rename("da.txt", "fehlt/da.txt"))
	wantContent(t, fsys, "da.txt", "x")
	_, err := fsys.Open("fehlt.txt")
	wantNotExist(t, "Open missing", err)
	_, err = fsys.Open("fehlt/a.txt")
	wantNotExist(t, "Open in missing dir", err)
	_, err = fsys.Stat("leer/fehlt.txt")
	wantNotExist(t, "Stat missing", err)
	wantNotExist(t, "Remove missing", fsys.Remove("fehlt.txt"))
	_, err = afero.ReadDir(fsys, "fehlt")
	wantNotExist(t, "ReadDir missing", err)
	if err := fsys.RemoveAll("fehlt"); err != nil {
		t.Errorf("RemoveAll missing: %v, want nil", err)
	}
}

// testCreateNeedsParent: creating a file does not create its directory,
// as on every real filesystem; code that forgets MkdirAll must fail here.
func testCreateNeedsParent(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	_, err := fsys.OpenFile("2024/076329/data.csv", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	wantNotExist(t, "OpenFile(O_CREATE) in missing dir", err)
	_, err = fsys.Stat("2024")
	wantNotExist(t, "Stat of parent after failed create", err)
	wantNotExist(t, "Mkdir in missing dir", fsys.Mkdir("2024/076329", 0o755))
}

func testMkdirAll(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329/anhang")
	mkdirAll(t, fsys, "2024/076329/anhang") // idempotent
	mkdirAll(t, fsys, "2024")
	for _, dir := range []string{"2024", "2024/076329", "2024/076329/anhang"} {
		fi, err := fsys.Stat(dir)
		if err != nil || !fi.IsDir() {
			t.Errorf("Stat(%q) = %v, %v; want a directory", dir, fi, err)
		}
	}
	writeFile(t, fsys, "datei", "inhalt")
	if err := fsys.MkdirAll("datei", 0o755); err == nil {
		t.Error("MkdirAll over a file: err = nil, want an error")
	}
	if err := fsys.MkdirAll("datei/sub", 0o755); err == nil {
		t.Error("MkdirAll below a file: err = nil, want an error")
	}
	if fi, err := fsys.Stat("datei"); err != nil || fi.IsDir() {
		t.Errorf("Stat(datei) = %v, %v; want the file unchanged", fi, err)
	}
	wantContent(t, fsys, "datei", "inhalt")
}

func testReadDir(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "d/b-ordner")
	writeFile(t, fsys, "d/c.txt", "123")
	writeFile(t, fsys, "d/a.txt", "")
	entries, err := afero.ReadDir(fsys, "d")
	if err != nil {
		t.Fatal(err)
	}
	type ent struct {
		name string
		size int64
		dir  bool
	}
	var got []ent
	for _, e := range entries {
		size := e.Size()
		if e.IsDir() {
			size = -1 // directory sizes differ between backends
		}
		got = append(got, ent{e.Name(), size, e.IsDir()})
	}
	want := []ent{{"a.txt", 0, false}, {"b-ordner", -1, true}, {"c.txt", 3, false}}
	if !slices.Equal(got, want) {
		t.Errorf("ReadDir = %+v, want %+v", got, want)
	}
	root := names(t, fsys, ".")
	if !slices.Equal(root, []string{"d"}) {
		t.Errorf("ReadDir(.) = %q, want [d]", root)
	}
}

func testRemove(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "a/b/c")
	writeFile(t, fsys, "a/b/c/x.txt", "x")
	writeFile(t, fsys, "a/y.txt", "y")
	if err := fsys.Remove("a/b"); err == nil {
		t.Error("Remove of non-empty dir: err = nil, want an error")
	}
	wantContent(t, fsys, "a/b/c/x.txt", "x")
	if err := fsys.Remove("a/b/c/x.txt"); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Remove("a/b/c"); err != nil {
		t.Fatalf("Remove of empty dir: %v", err)
	}
	_, err := fsys.Stat("a/b/c")
	wantNotExist(t, "Stat after Remove", err)
	mkdirAll(t, fsys, "a/b/c")
	writeFile(t, fsys, "a/b/c/z.txt", "z")
	if err := fsys.RemoveAll("a"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "a/y.txt", "a/b/c/z.txt"} {
		_, err := fsys.Stat(p)
		wantNotExist(t, "Stat after RemoveAll: "+p, err)
	}
	if got := names(t, fsys, "."); len(got) != 0 {
		t.Errorf("root after RemoveAll = %q, want empty", got)
	}
}

func testSync(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	f, err := fsys.OpenFile("s.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("sync")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Errorf("Sync: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, "s.txt", "sync")
}
