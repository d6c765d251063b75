package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/spf13/afero"

	s3backend "werkstatt-backup/backends/s3"
	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/storage"
)

func write(t *testing.T, fsys afero.Fs, name, content string) {
	t.Helper()
	if err := afero.WriteFile(fsys, name, []byte(content), 0o644); err != nil {
		t.Fatalf("WriteFile(%s): %v", name, err)
	}
}

// TestImplicitDirs covers what is S3's own in its folder semantics; what
// every object store promises (folders come with their first file and go
// with their last, MkdirAll creates nothing, listings, missing names) is
// the conformance suite's (storagetest, the Implicit subtests). Here: the
// declared capabilities, folder marker objects of other tools, the root
// under its empty name, a folder cannot be renamed, removing a folder
// with files is ENOTEMPTY and an emptied one succeeds, no Chtimes.
func TestImplicitDirs(t *testing.T) {
	srv := s3test.Start(t)
	a := srv.Open(s3test.Bucket, "implicit")
	fsys := a.Fs
	if !a.Caps.ImplicitDirs || a.Caps.AtomicRename || !a.Caps.AtomicWrite || !a.Caps.ExclusiveCreate || a.Caps.Links ||
		a.Caps.SyncAll != nil || a.Caps.Lstat != nil || a.Caps.SyncDir == nil || a.Caps.DefaultWorkers != s3backend.DefaultWorkers {
		t.Errorf("Caps = %+v, want ImplicitDirs, AtomicWrite, ExclusiveCreate, SyncDir, DefaultWorkers %d; no AtomicRename, Links, SyncAll, Lstat",
			a.Caps, s3backend.DefaultWorkers)
	}
	write(t, fsys, "2024/076329/data.csv", "123")
	write(t, fsys, "2024/076329/anhang/a.pdf", "")
	write(t, fsys, "2024/076329/a.txt", "")
	write(t, fsys, "2024/076329.txt", "x")
	if fi, err := fsys.Stat(""); err != nil || !fi.IsDir() {
		t.Errorf("Stat(\"\") = %v, %v; want the root folder", fi, err)
	}
	type ent struct {
		name string
		size int64
		dir  bool
	}
	check := func(got []os.FileInfo, want []ent) {
		t.Helper()
		var g []ent
		for _, e := range got {
			size := e.Size()
			if e.IsDir() {
				size = -1
			}
			g = append(g, ent{e.Name(), size, e.IsDir()})
		}
		if !slices.Equal(g, want) {
			t.Errorf("listing = %+v, want %+v", g, want)
		}
	}
	want := []ent{{"a.txt", 0, false}, {"anhang", -1, true}, {"data.csv", 3, false}}

	// A folder marker object ("name/", as S3 consoles create) is no entry.
	_, err := srv.Client().PutObject(context.Background(), s3test.Bucket, "implicit/2024/076329/", bytes.NewReader(nil), 0, minio.PutObjectOptions{DisableContentSha256: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := afero.ReadDir(fsys, "2024/076329")
	if err != nil {
		t.Fatal(err)
	}
	check(got, want)
	got, err = a.Caps.ReadDir(context.Background(), "2024/076329")
	if err != nil {
		t.Fatal(err)
	}
	check(got, want)

	if err := fsys.Rename("2024/076329", "2025"); err == nil {
		t.Error("Rename of a folder: nil, want an error")
	}
	if err := fsys.Remove("2024/076329"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("Remove of a folder with files: %v, want ENOTEMPTY", err)
	}
	if err := fsys.RemoveAll("2024/076329"); err != nil {
		t.Fatal(err)
	}
	got, _ = afero.ReadDir(fsys, "2024")
	check(got, []ent{{"076329.txt", 1, false}})
	if err := fsys.Remove("2024/076329"); err != nil {
		t.Errorf("Remove of an emptied folder: %v, want nil", err)
	}
	if err := fsys.Chtimes("x", zeroTime, zeroTime); err == nil {
		t.Error("Chtimes: nil, want an error (not possible on S3)")
	}
}

// TestWriteSemantics: a written file appears whole on Close, O_TRUNC and
// plain opens, Sync stores, Rename replaces by copy.
func TestWriteSemantics(t *testing.T) {
	srv := s3test.Start(t)
	fsys := srv.Open(s3test.Bucket, "write").Fs
	f, err := fsys.OpenFile("a.txt", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("hallo welt")); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat("a.txt"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Stat before Close: %v, want ErrNotExist (the PUT comes on Close)", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, "a.txt", "hallo welt")

	// Without O_TRUNC the content is kept and overwritten in place.
	f, err = fsys.OpenFile("a.txt", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("H"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, "a.txt", "Hallo welt") // stored by Sync
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, "a.txt", "Hallo")
	if _, err := fsys.OpenFile("fehlt.txt", os.O_WRONLY, 0); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("OpenFile of a missing file without O_CREATE: %v, want ErrNotExist", err)
	}
	f, err = fsys.OpenFile("a.txt", os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("!"))
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, "a.txt", "Hallo!")
	// An empty new file is stored on Close.
	f, err = fsys.Create("leer")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantContent(t, fsys, "leer", "")
	if err := f.Close(); !errors.Is(err, iofs.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
}

// TestExclusiveCreateIfMatch: an O_EXCL create stores its whole content
// with one PUT with If-None-Match: * (no empty object first: before its
// Close the name does not exist, and of two creates that both opened the
// second fails at Close); an existing name fails at open; later PUTs of
// the file are stored only over its own object (If-Match), so a file
// another client replaced meanwhile (a lock taken over) is not
// overwritten.
func TestExclusiveCreateIfMatch(t *testing.T) {
	srv := s3test.Start(t)
	fsys := srv.Open(s3test.Bucket, "excl").Fs
	const excl = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	f, err := fsys.OpenFile(".backup.lock", excl, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.Stat(".backup.lock"); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("Stat before the exclusive file's first Sync: %v, want ErrNotExist (no empty object)", err)
	}
	g, err := fsys.OpenFile(".backup.lock", excl, 0o644)
	if err != nil {
		t.Fatalf("second O_EXCL open before the first stored anything: %v", err)
	}
	_, _ = f.Write([]byte("mein lock"))
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	_, _ = g.Write([]byte("auch meiner"))
	if err := g.Close(); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("Close of the second O_EXCL create: %v, want ErrExist", err)
	}
	if _, err := fsys.OpenFile(".backup.lock", excl, 0o644); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("O_EXCL open of an existing name: %v, want ErrExist", err)
	}
	_, _ = f.Write([]byte(" v2"))
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantContent(t, fsys, ".backup.lock", "mein lock v2")

	f, err = fsys.OpenFile("zweiter.lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	write(t, fsys, "zweiter.lock", "fremd") // another run replaces it
	_, _ = f.Write([]byte("meins"))
	if err := f.Close(); err == nil {
		t.Error("Close after the file was replaced: nil, want an error")
	}
	wantContent(t, fsys, "zweiter.lock", "fremd")
}

func wantContent(t *testing.T, fsys afero.Fs, name, want string) {
	t.Helper()
	data, err := afero.ReadFile(fsys, name)
	if err != nil || string(data) != want {
		t.Errorf("%s = %q, %v; want %q", name, data, err, want)
	}
}

// TestListContentHash: List reports every file below a prefix in key
// order with its size and the hash ContentHash computes from the bytes,
// also for files written by Rename (server-side copy) and WriteFile.
func TestListContentHash(t *testing.T) {
	srv := s3test.Start(t)
	a := srv.Open(s3test.Bucket, "list")
	if a.Caps.List == nil || a.Caps.ContentHash == nil {
		t.Fatal("List/ContentHash not offered")
	}
	files := map[string]string{
		"2024/076329/data.csv":  "record_id\r\n1\r\n",
		"2024/076329/meta.json": "{}",
		"2024/076330/data.csv":  "",
		"2025/000001/data.csv":  string(bytes.Repeat([]byte("ä"), 70000)),
		"history/g1.json":       "1",
	}
	for name, content := range files {
		if name == "history/g1.json" {
			continue
		}
		if err := a.Caps.WriteFile(context.Background(), name, []byte(content), 0o644, true); err != nil {
			t.Fatal(err)
		}
	}
	write(t, a.Fs, "tmp.json", files["history/g1.json"])
	if err := a.Fs.Rename("tmp.json", "history/g1.json"); err != nil {
		t.Fatal(err)
	}
	var names []string
	err := a.Caps.List(context.Background(), "", func(e storage.Entry) error {
		names = append(names, e.Name)
		want, ok := files[e.Name]
		if !ok {
			t.Errorf("List reports %q, which was not written", e.Name)
			return nil
		}
		if e.Size != int64(len(want)) || e.Hash != a.Caps.ContentHash([]byte(want)) || e.ModTime.IsZero() {
			t.Errorf("List %s: size %d hash %s time %v; want size %d hash %s", e.Name, e.Size, e.Hash, e.ModTime, len(want), a.Caps.ContentHash([]byte(want)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(names) || len(names) != len(files) {
		t.Errorf("List names = %q, want all %d in lexical order", names, len(files))
	}
	names = nil
	_ = a.Caps.List(context.Background(), "2024", func(e storage.Entry) error { names = append(names, e.Name); return nil })
	if want := []string{"2024/076329/data.csv", "2024/076329/meta.json", "2024/076330/data.csv"}; !slices.Equal(names, want) {
		t.Errorf("List(2024) = %q, want %q", names, want)
	}
	stop := errors.New("stop")
	if err := a.Caps.List(context.Background(), "", func(storage.Entry) error { return stop }); err != stop {
		t.Errorf("List returns %v, want fn's error", err)
	}
	data, err := a.Caps.ReadFile(context.Background(), "2024/076329/data.csv", 5)
	if err != nil || string(data) != "record" {
		t.Errorf("ReadFile limit 5 = %q, %v; want %q", data, err, "record")
	}
}

// TestListManyPages: listings read every page (S3 returns 1,000 keys a
// request), folder listings and recursive ones alike.
func TestListManyPages(t *testing.T) {
	srv := s3test.Start(t)
	a := srv.Open(s3test.Bucket, "pages")
	const n = 1234
	names := make(chan string)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			var first error
			for name := range names {
				if err := a.Caps.WriteFile(context.Background(), name, []byte("x"), 0o644, false); err != nil && first == nil {
					first = err
				}
			}
			errs <- first
		}()
	}
	for i := range n {
		names <- fmt.Sprintf("2024/%06d/data.csv", i)
	}
	close(names)
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	dirs, err := a.Caps.ReadDir(context.Background(), "2024")
	if err != nil || len(dirs) != n {
		t.Errorf("ReadDir(2024): %d entries, %v; want %d", len(dirs), err, n)
	}
	count := 0
	if err := a.Caps.List(context.Background(), "", func(storage.Entry) error { count++; return nil }); err != nil || count != n {
		t.Errorf("List: %d entries, %v; want %d", count, err, n)
	}
	if err := a.Fs.RemoveAll("2024"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fs.Stat("2024"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Stat after RemoveAll of %d files: %v, want ErrNotExist", n, err)
	}
}

// TestExclusiveCreateAnswerLost: when the answer to the conditional PUT
// of an O_EXCL create (at its Close) is lost, the PUT is not retried (a
// retry would fail its own condition and report the file as someone
// else's): the error says the server was not reachable, not that the file
// exists.
func TestExclusiveCreateAnswerLost(t *testing.T) {
	srv := s3test.Start(t)
	p := newProxy(t, srv.Addr())
	a := open(t, context.Background(), location(t, srv, p.addr(), s3test.Bucket, "lost"), srv.Options(true, 0))
	var lost atomic.Int64
	p.loseAnswer = func(r *http.Request) bool {
		return r.Method == http.MethodPut && r.Header.Get("If-None-Match") == "*" && lost.Add(1) == 1
	}
	f, err := a.Fs.OpenFile(".backup.lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("lock"))
	err = f.Close()
	if errors.Is(err, iofs.ErrExist) || !errors.Is(err, s3backend.ErrUnreachable) {
		t.Fatalf("O_EXCL create whose answer was lost: %v, want ErrUnreachable, not ErrExist", err)
	}
	if n := lost.Load(); n != 1 {
		t.Errorf("%d conditional PUTs sent, want 1 (no retry)", n)
	}
}
