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

// testNotExist: a missing name is fs.ErrNotExist however it is reached,
// on every backend, and looking for it creates nothing.
func testNotExist(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	writeFile(t, fsys, "da.txt", "x")
	wantNotExist(t, "Rename missing", fsys.Rename("fehlt.txt", "neu.txt"))
	wantContent(t, fsys, "da.txt", "x")
	_, err := fsys.Open("fehlt.txt")
	wantNotExist(t, "Open missing", err)
	_, err = fsys.Open("fehlt/a.txt")
	wantNotExist(t, "Open in missing dir", err)
	_, err = fsys.OpenFile("fehlt.txt", os.O_WRONLY, 0)
	wantNotExist(t, "OpenFile missing without O_CREATE", err)
	for _, name := range []string{"fehlt.txt", "fehlt", "fehlt/a.txt"} {
		_, err = fsys.Stat(name)
		wantNotExist(t, "Stat "+name, err)
	}
	_, err = afero.ReadDir(fsys, "fehlt")
	wantNotExist(t, "ReadDir missing", err)
	_, err = a.ReadDir(t.Context(), "fehlt")
	wantNotExist(t, "Archive.ReadDir missing", err)
	// A disk says so; an object store cannot tell a name never written
	// from a folder just emptied and succeeds. Both mean "gone".
	if err := fsys.Remove("fehlt.txt"); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Remove missing: %v, want nil or fs.ErrNotExist", err)
	}
	if err := fsys.RemoveAll("fehlt"); err != nil {
		t.Errorf("RemoveAll missing: %v, want nil", err)
	}
	if got := names(t, fsys, "."); !slices.Equal(got, []string{"da.txt"}) {
		t.Errorf("ReadDir(.) = %q, want [da.txt]: looking for missing names created some", got)
	}
}

// testNotExistStandalone: where folders exist on their own, an empty
// folder holds no file, a rename into a missing folder fails and leaves
// the file, and removing a missing name says it is missing.
func testNotExistStandalone(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	writeFile(t, fsys, "da.txt", "x")
	mkdirAll(t, fsys, "leer")
	_, err := fsys.Stat("leer/fehlt.txt")
	wantNotExist(t, "Stat missing", err)
	wantNotExist(t, "Rename into missing dir", fsys.Rename("da.txt", "fehlt/da.txt"))
	wantContent(t, fsys, "da.txt", "x")
	wantNotExist(t, "Remove missing", fsys.Remove("fehlt.txt"))
}

// testNotExistImplicit: where folders are implicit (an object store), a
// folder made by MkdirAll alone does not exist, a name below a file does
// not exist (there is no "not a directory"), and a rename needs no
// target folder: the file arrives and its folder with it.
func testNotExistImplicit(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	writeFile(t, fsys, "da.txt", "x")
	mkdirAll(t, fsys, "leer")
	for _, name := range []string{"leer", "leer/fehlt.txt", "da.txt/x"} {
		_, err := fsys.Stat(name)
		wantNotExist(t, "Stat "+name, err)
		_, err = fsys.Open(name)
		wantNotExist(t, "Open "+name, err)
		_, err = afero.ReadDir(fsys, name)
		wantNotExist(t, "ReadDir "+name, err)
		_, err = a.ReadDir(t.Context(), name)
		wantNotExist(t, "Archive.ReadDir "+name, err)
	}
	if err := fsys.Rename("da.txt", "neu/da.txt"); err != nil {
		t.Fatalf("Rename into a folder that holds nothing yet: %v, want nil", err)
	}
	wantContent(t, fsys, "neu/da.txt", "x")
	_, err := fsys.Stat("da.txt")
	wantNotExist(t, "Stat of the renamed file", err)
	wantDir(t, fsys, "neu")
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

// testCreateImplicit: where folders are implicit, a file is created
// without its folder, which then exists with every parent; Mkdir below a
// missing folder succeeds and creates nothing.
func testCreateImplicit(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	writeFile(t, fsys, "2024/076329/data.csv", "id;nr\n")
	wantContent(t, fsys, "2024/076329/data.csv", "id;nr\n")
	for _, dir := range []string{"2024", "2024/076329"} {
		wantDir(t, fsys, dir)
	}
	if err := fsys.Mkdir("2025/000001", 0o755); err != nil {
		t.Errorf("Mkdir below a missing folder: %v, want nil (it creates nothing)", err)
	}
	_, err := fsys.Stat("2025")
	wantNotExist(t, "Stat after Mkdir", err)
}

// testMkdirAll: on every backend MkdirAll succeeds, again and again, a
// file written into the folder lands there and the folder and its parents
// exist; over or below a file it leaves the file alone.
func testMkdirAll(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329/anhang")
	mkdirAll(t, fsys, "2024/076329/anhang") // idempotent
	mkdirAll(t, fsys, "2024")
	writeFile(t, fsys, "2024/076329/anhang/a.pdf", "pdf")
	for _, dir := range []string{".", "2024", "2024/076329", "2024/076329/anhang"} {
		wantDir(t, fsys, dir)
	}
	wantContent(t, fsys, "2024/076329/anhang/a.pdf", "pdf")
	writeFile(t, fsys, "datei", "inhalt")
	_ = fsys.MkdirAll("datei", 0o755)     // an error where folders are
	_ = fsys.MkdirAll("datei/sub", 0o755) // standalone (MkdirAllStandalone)
	if fi, err := fsys.Stat("datei"); err != nil || fi.IsDir() {
		t.Errorf("Stat(datei) = %v, %v; want the file unchanged", fi, err)
	}
	wantContent(t, fsys, "datei", "inhalt")
	if fi, err := fsys.Stat("datei/sub"); err == nil {
		t.Errorf("Stat(datei/sub) = %v, nil; want an error: there is a file in the way", fi)
	}
}

// testMkdirAllStandalone: where folders exist on their own, MkdirAll
// makes empty folders and refuses where a file is in the way.
func testMkdirAllStandalone(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329/anhang")
	for _, dir := range []string{"2024", "2024/076329", "2024/076329/anhang"} {
		wantDir(t, fsys, dir)
	}
	if got := names(t, fsys, "2024/076329/anhang"); len(got) != 0 {
		t.Errorf("ReadDir of a new folder = %q, want empty", got)
	}
	writeFile(t, fsys, "datei", "inhalt")
	if err := fsys.MkdirAll("datei", 0o755); err == nil {
		t.Error("MkdirAll over a file: err = nil, want an error")
	}
	if err := fsys.MkdirAll("datei/sub", 0o755); err == nil {
		t.Error("MkdirAll below a file: err = nil, want an error")
	}
	wantContent(t, fsys, "datei", "inhalt")
}

// testMkdirAllImplicit: where folders are implicit, MkdirAll creates
// nothing anyone can see: no Stat, no Open, no entry in a listing.
func testMkdirAllImplicit(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "2024/076329/anhang")
	mkdirAll(t, fsys, "2024/076329/anhang")
	for _, dir := range []string{"2024", "2024/076329", "2024/076329/anhang"} {
		_, err := fsys.Stat(dir)
		wantNotExist(t, "Stat of a folder made by MkdirAll alone: "+dir, err)
		_, err = fsys.Open(dir)
		wantNotExist(t, "Open of a folder made by MkdirAll alone: "+dir, err)
	}
	wantDir(t, fsys, ".")
	if got := readDirBoth(t, a, "."); len(got) != 0 {
		t.Errorf("ReadDir(.) after MkdirAll alone = %+v, want empty", got)
	}
}

// testReadDir: a listing on every backend: files with their sizes and
// folders that hold files, in name order, the same through the backend's
// ReadDir and afero's.
func testReadDir(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "d/b-ordner")
	writeFile(t, fsys, "d/b-ordner/x.txt", "x")
	writeFile(t, fsys, "d/c.txt", "123")
	writeFile(t, fsys, "d/a.txt", "")
	// "b-ordner.txt" comes after the folder "b-ordner" by name, but
	// before its content "b-ordner/..." in an object store's key order.
	writeFile(t, fsys, "d/b-ordner.txt", "12")
	want := []dirEnt{{"a.txt", 0, false}, {"b-ordner", -1, true}, {"b-ordner.txt", 2, false}, {"c.txt", 3, false}}
	if got := readDirBoth(t, a, "d"); !slices.Equal(got, want) {
		t.Errorf("ReadDir = %+v, want %+v", got, want)
	}
	root := names(t, fsys, ".")
	if !slices.Equal(root, []string{"d"}) {
		t.Errorf("ReadDir(.) = %q, want [d]", root)
	}
}

// testReadDirStandalone: where folders exist on their own, an empty
// folder is listed.
func testReadDirStandalone(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "d/b-ordner")
	writeFile(t, fsys, "d/c.txt", "123")
	writeFile(t, fsys, "d/a.txt", "")
	want := []dirEnt{{"a.txt", 0, false}, {"b-ordner", -1, true}, {"c.txt", 3, false}}
	if got := readDirBoth(t, a, "d"); !slices.Equal(got, want) {
		t.Errorf("ReadDir = %+v, want %+v", got, want)
	}
	if got := names(t, fsys, "d/b-ordner"); len(got) != 0 {
		t.Errorf("ReadDir(d/b-ordner) = %q, want empty", got)
	}
}

// testReadDirImplicit: where folders are implicit, a folder appears in
// listings and in Stat as soon as a file lies below it (however deep: with
// every folder above), and disappears with its last file: its listing is
// then fs.ErrNotExist and removing it succeeds.
func testReadDirImplicit(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	mkdirAll(t, fsys, "d/leer")
	if got := names(t, fsys, "."); len(got) != 0 {
		t.Errorf("ReadDir(.) after MkdirAll alone = %q, want empty", got)
	}
	writeFile(t, fsys, "d/a.txt", "1")
	writeFile(t, fsys, "d/sub/tief/x.txt", "xy")
	if got, want := readDirBoth(t, a, "d"), []dirEnt{{"a.txt", 1, false}, {"sub", -1, true}}; !slices.Equal(got, want) {
		t.Errorf("ReadDir(d) = %+v, want %+v", got, want)
	}
	if got, want := readDirBoth(t, a, "d/sub"), []dirEnt{{"tief", -1, true}}; !slices.Equal(got, want) {
		t.Errorf("ReadDir(d/sub) = %+v, want %+v", got, want)
	}
	wantDir(t, fsys, "d/sub/tief")

	if err := fsys.Remove("d/sub/tief/x.txt"); err != nil {
		t.Fatal(err)
	}
	if got, want := readDirBoth(t, a, "d"), []dirEnt{{"a.txt", 1, false}}; !slices.Equal(got, want) {
		t.Errorf("ReadDir(d) after removing the last file below d/sub = %+v, want %+v", got, want)
	}
	for _, dir := range []string{"d/sub", "d/sub/tief"} {
		_, err := fsys.Stat(dir)
		wantNotExist(t, "Stat of an emptied folder: "+dir, err)
		_, err = afero.ReadDir(fsys, dir)
		wantNotExist(t, "ReadDir of an emptied folder: "+dir, err)
		_, err = a.ReadDir(t.Context(), dir)
		wantNotExist(t, "Archive.ReadDir of an emptied folder: "+dir, err)
	}
	if err := fsys.Remove("d/sub/tief"); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Remove of an emptied folder: %v, want nil or fs.ErrNotExist", err)
	}
	if err := fsys.Remove("d/a.txt"); err != nil {
		t.Fatal(err)
	}
	_, err := fsys.Stat("d")
	wantNotExist(t, "Stat of a folder after its last file", err)
	if got := names(t, fsys, "."); len(got) != 0 {
		t.Errorf("ReadDir(.) after removing every file = %q, want empty", got)
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
