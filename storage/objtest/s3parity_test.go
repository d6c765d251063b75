package objtest

import (
	"errors"
	iofs "io/fs"
	"os"
	"sync"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
	"werkstatt-backup/storage/storagetest"
)

// TestConformance runs the storage contract on the double, with and
// without Object Lock, as every backend's tests run it.
func TestConformance(t *testing.T) {
	for _, lock := range []bool{false, true} {
		name := "ohneObjectLock"
		if lock {
			name = "mitObjectLock"
		}
		t.Run(name, func(t *testing.T) {
			storagetest.Run(t, func(*testing.T) *storage.Archive { return New(nil).Archive(lock) })
		})
	}
}

// TestEmptyBucketRoot: the archive root exists while the bucket is empty,
// as on S3 (backends/s3 Stat and Open of the root list instead of looking
// for an object), so that a first export into an empty bucket finds its
// archive; it stays when the last object is removed, and it is no file.
func TestEmptyBucketRoot(t *testing.T) {
	fsys := New(nil).Archive(false).Fs
	wantEmptyRoot := func(when string) {
		t.Helper()
		for _, name := range []string{".", "", "/"} {
			fi, err := fsys.Stat(name)
			if err != nil || !fi.IsDir() {
				t.Errorf("%s: Stat(%q) = %v, %v; want a folder", when, name, fi, err)
			}
			f, err := fsys.Open(name)
			if err != nil {
				t.Errorf("%s: Open(%q): %v", when, name, err)
				continue
			}
			if fi, err := f.Stat(); err != nil || !fi.IsDir() {
				t.Errorf("%s: Open(%q).Stat() = %v, %v; want a folder", when, name, fi, err)
			}
			if names, err := f.Readdirnames(-1); err != nil || len(names) != 0 {
				t.Errorf("%s: Readdirnames of %q = %q, %v; want none", when, name, names, err)
			}
			_ = f.Close()
		}
		if fis, err := afero.ReadDir(fsys, "."); err != nil || len(fis) != 0 {
			t.Errorf("%s: ReadDir(.) = %v, %v; want empty", when, fis, err)
		}
	}
	wantEmptyRoot("leerer Bucket")
	if err := afero.WriteFile(fsys, "2024/1/data.csv", []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if names, err := afero.ReadDir(fsys, "."); err != nil || len(names) != 1 || names[0].Name() != "2024" || !names[0].IsDir() {
		t.Errorf("ReadDir(.) with one object = %v, %v; want the folder 2024", names, err)
	}
	if err := fsys.Remove("2024/1/data.csv"); err != nil {
		t.Fatal(err)
	}
	wantEmptyRoot("nach dem Löschen des letzten Objekts")
	for _, flag := range []int{os.O_WRONLY | os.O_CREATE | os.O_TRUNC, os.O_WRONLY | os.O_CREATE | os.O_EXCL} {
		if f, err := fsys.OpenFile(".", flag, 0o644); !errors.Is(err, syscall.EISDIR) {
			if err == nil {
				_ = f.Close()
			}
			t.Errorf("OpenFile(., %#x) = %v; want EISDIR", flag, err)
		}
	}
}

// TestExclusiveCreateWhole: O_CREATE|O_EXCL stores the whole content
// with one conditional PUT (If-None-Match: *) at its first Sync or Close,
// as backends/s3 does: no empty object is stored first, so before that
// the name does not exist (a writer killed then leaves nothing); an open
// of an existing name fails at once (a HEAD), and of two creates that
// both opened the second fails at its Close with fs.ErrExist.
func TestExclusiveCreateWhole(t *testing.T) {
	s := New(nil)
	fsys := s.Archive(false).Fs
	const excl = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	f, err := fsys.OpenFile(".backup.lock", excl, 0o644)
	if err != nil {
		t.Fatalf("first exclusive create: %v", err)
	}
	if _, err := fsys.Stat(".backup.lock"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Stat after the exclusive open = %v; want fs.ErrNotExist (no empty object)", err)
	}
	g, err := fsys.OpenFile(".backup.lock", excl, 0o644)
	if err != nil {
		t.Fatalf("second exclusive create while nothing is stored: %v", err)
	}
	if _, err := f.Write([]byte("inhalt")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close of the winner: %v", err)
	}
	_, _ = g.Write([]byte("verloren"))
	err = g.Close()
	var pe *os.PathError
	if !errors.Is(err, iofs.ErrExist) || !errors.As(err, &pe) || pe.Path != ".backup.lock" {
		t.Errorf("Close of the second create: %v, want *os.PathError .backup.lock wrapping fs.ErrExist", err)
	}
	if _, err := fsys.OpenFile(".backup.lock", excl, 0o644); !errors.Is(err, iofs.ErrExist) {
		t.Errorf("exclusive open of an existing name: %v, want fs.ErrExist", err)
	}
	if b, err := afero.ReadFile(fsys, ".backup.lock"); err != nil || string(b) != "inhalt" {
		t.Errorf("content = %q, %v; want inhalt", b, err)
	}
	if c := s.Counts(); c.Puts != 2 {
		t.Errorf("Puts = %d, want 2 (the winner's content, the refused second one)", c.Puts)
	}
	// A file created exclusively and closed unwritten is stored empty
	// with one PUT.
	s.ResetCounts()
	h, err := fsys.OpenFile("leer", excl, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := fsys.Stat("leer"); err != nil || fi.Size() != 0 {
		t.Errorf("unwritten exclusive file: %v, %v", fi, err)
	}
	if c := s.Counts(); c.Puts != 1 {
		t.Errorf("Puts = %d, want 1", c.Puts)
	}
}

// TestExclusiveCreateRace: of many simultaneous exclusive creates of one
// name, all opened before any is closed, exactly one stores its content;
// the others get fs.ErrExist at open or Close.
func TestExclusiveCreateRace(t *testing.T) {
	fsys := New(nil).Archive(false).Fs
	for round := range 50 {
		var (
			mu   sync.Mutex
			open []afero.File
			wg   sync.WaitGroup
		)
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				f, err := fsys.OpenFile("x.lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					if !errors.Is(err, iofs.ErrExist) {
						t.Errorf("exclusive create: %v", err)
					}
					return
				}
				mu.Lock()
				open = append(open, f)
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i, f := range open {
			_, _ = f.Write([]byte{byte('a' + i)})
			switch err := f.Close(); {
			case err == nil:
				won++
			case !errors.Is(err, iofs.ErrExist):
				t.Fatalf("round %d: Close: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d exclusive creates stored their content, want exactly 1", round, won)
		}
		if err := fsys.Remove("x.lock"); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExclusiveCreateCloseIsConditional: after its first Sync the later
// content of an exclusively created file is stored only over the object
// that Sync stored (If-Match on that object's ETag in backends/s3). If another client removed it, or
// removed it and created its own, Close fails and leaves the store as the
// other client left it: a lock taken over meanwhile is not overwritten and
// not brought back.
func TestExclusiveCreateCloseIsConditional(t *testing.T) {
	s := New(nil)
	fsys := s.Archive(false).Fs
	const excl = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	wantReplaced := func(what, op string, err error) {
		t.Helper()
		var pe *os.PathError
		if !errors.As(err, &pe) || pe.Op != op || pe.Path != ".backup.lock" || !errors.Is(err, errReplaced) {
			t.Errorf("%s: %s = %v; want *os.PathError %s .backup.lock: %v", what, op, err, op, errReplaced)
		}
	}

	// claim creates the lock exclusively and stores a first content.
	claim := func() afero.File {
		t.Helper()
		f, err := fsys.OpenFile(".backup.lock", excl, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("mein ")); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		return f
	}

	// Removed meanwhile (a takeover that deleted the lock).
	f := claim()
	if err := fsys.Remove(".backup.lock"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("alt")); err != nil {
		t.Fatal(err)
	}
	wantReplaced("nach dem Löschen", "close", f.Close())
	if _, err := fsys.Stat(".backup.lock"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Stat after the refused Close: %v; want the name still absent", err)
	}

	// Removed and created again by another client, who wrote its own.
	f = claim()
	if err := fsys.Remove(".backup.lock"); err != nil {
		t.Fatal(err)
	}
	if err := afero.WriteFile(fsys, ".backup.lock", []byte("fremd"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("alt")); err != nil {
		t.Fatal(err)
	}
	wantReplaced("nach dem Ersetzen", "sync", f.Sync())
	wantReplaced("nach dem Ersetzen", "close", f.Close())
	if b, err := afero.ReadFile(fsys, ".backup.lock"); err != nil || string(b) != "fremd" {
		t.Errorf("content = %q, %v; want the other client's", b, err)
	}

	// Undisturbed, Sync stores the content (one PUT, as on S3) and the
	// next Sync or Close, with nothing new, stores nothing; a later write
	// goes over the object the Sync stored.
	f, err := fsys.OpenFile("eigen.lock", excl, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	s.ResetCounts()
	if _, err := f.Write([]byte("eins")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if b, err := afero.ReadFile(fsys, "eigen.lock"); err != nil || string(b) != "eins" {
		t.Errorf("after Sync: %q, %v; want eins", b, err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("zwei")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close after Sync: %v", err)
	}
	if b, err := afero.ReadFile(fsys, "eigen.lock"); err != nil || string(b) != "einszwei" {
		t.Errorf("after Close: %q, %v; want einszwei", b, err)
	}
	if c := s.Counts(); c.Puts != 2 {
		t.Errorf("Puts = %d, want 2 (Sync, then Close with something new)", c.Puts)
	}
}

// TestRemoveNonEmptyFolder: removing a folder that still holds an object
// fails with syscall.ENOTEMPTY in an *os.PathError naming it, as on S3,
// afero and the disk, and removes nothing; the root likewise.
func TestRemoveNonEmptyFolder(t *testing.T) {
	fsys := New(nil).Archive(false).Fs
	if err := afero.WriteFile(fsys, "2024/1/data.csv", []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"2024", "2024/1", "."} {
		err := fsys.Remove(name)
		var pe *os.PathError
		if !errors.Is(err, syscall.ENOTEMPTY) || !errors.As(err, &pe) || pe.Op != "remove" || pe.Path != name {
			t.Errorf("Remove(%q) = %#v; want *os.PathError remove %s: ENOTEMPTY", name, err, name)
		}
	}
	if b, err := afero.ReadFile(fsys, "2024/1/data.csv"); err != nil || string(b) != "abc" {
		t.Errorf("after the refused removes: %q, %v", b, err)
	}
}
