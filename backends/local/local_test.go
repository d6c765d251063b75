package local

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	wfs "werkstatt-backup/fs"
	"werkstatt-backup/fs/fstest"
)

func TestConformance(t *testing.T) {
	fstest.Run(t, func(t *testing.T) afero.Fs {
		return open(t, t.TempDir(), wfs.OpenOptions{})
	})
}

func open(t *testing.T, path string, opts wfs.OpenOptions) afero.Fs {
	t.Helper()
	fsys, err := Backend{}.Open(context.Background(), wfs.Location{Scheme: "file", Path: path}, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	return fsys
}

func TestOpenMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "fehlt")
	_, err := Backend{}.Open(context.Background(), wfs.Location{Scheme: "file", Path: missing}, wfs.OpenOptions{})
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
	fsys := open(t, dir, wfs.OpenOptions{Create: true})
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
	fsys := open(t, "./test_archiv", wfs.OpenOptions{})
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
		_, err := Backend{}.Open(context.Background(), wfs.Location{Scheme: "file", Path: file}, wfs.OpenOptions{Create: create})
		if err == nil || !strings.Contains(err.Error(), "kein Verzeichnis") {
			t.Errorf("Create=%v: err = %v, want \"... ist kein Verzeichnis\"", create, err)
		}
	}
}
