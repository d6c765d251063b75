package local

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
	"werkstatt-backup/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) *storage.Archive {
		return openArchive(t, t.TempDir(), storage.Options{})
	})
}

func openArchive(t *testing.T, path string, opts storage.Options) *storage.Archive {
	t.Helper()
	a, err := Backend{}.Open(context.Background(), Location{Path: path}, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return a
}

func open(t *testing.T, path string, opts storage.Options) afero.Fs {
	return openArchive(t, path, opts).Fs
}

// TestCapabilities: a local disk declares what the engine relies on, and
// on Linux the fast paths (syncfs for a batch commit among them).
func TestCapabilities(t *testing.T) {
	c := openArchive(t, t.TempDir(), storage.Options{}).Caps
	if !c.AtomicRename || !c.ExclusiveCreate || !c.Links || c.Lstat == nil || c.AtomicWrite || c.CaseInsensitive || c.DefaultWorkers != max(8, 4*runtime.NumCPU()) {
		t.Errorf("local archive declares %+v", c)
	}
	if linux := runtime.GOOS == "linux"; (c.SyncAll != nil) != linux || (c.ReadFile != nil) != linux || (c.ReadDir != nil) != linux || (c.WriteFile != nil) != linux {
		t.Errorf("fast paths on %s: SyncAll %v ReadFile %v ReadDir %v WriteFile %v", runtime.GOOS, c.SyncAll != nil, c.ReadFile != nil, c.ReadDir != nil, c.WriteFile != nil)
	}
}

func TestOpenMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "fehlt")
	_, err := Backend{}.Open(context.Background(), Location{Path: missing}, storage.Options{})
	if !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("err = %v, want errors.Is(err, fs.ErrNotExist)", err)
	}
	if want := "Verzeichnis " + missing + " existiert nicht"; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	if _, err := os.Stat(missing); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Open without Create made the directory: %v", err)
	}
}

func TestOpenCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "neu", "archiv")
	fsys := open(t, dir, storage.Options{Create: true})
	if err := afero.WriteFile(fsys, "a.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.txt")); err != nil {
		t.Errorf("file not under the archive root: %v", err)
	}
}

func TestOpenRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("test_archiv", 0o755); err != nil {
		t.Fatal(err)
	}
	fsys := open(t, "./test_archiv", storage.Options{})
	if err := afero.WriteFile(fsys, "a.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // the Fs keeps the absolute root
	if _, err := fsys.Stat("a.txt"); err != nil {
		t.Errorf("Stat after chdir: %v", err)
	}
}

func TestOpenNotADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "datei")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, create := range []bool{false, true} {
		_, err := Backend{}.Open(context.Background(), Location{Path: file}, storage.Options{Create: create})
		if err == nil || !strings.Contains(err.Error(), "kein Verzeichnis") {
			t.Errorf("Create=%v: err = %v, want \"... ist kein Verzeichnis\"", create, err)
		}
	}
}
