//go:build linux

package local

import (
	"bytes"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"werkstatt-backup/storage"
)

// The handle's WriteFile through the backend's WriteFile creates,
// truncates and reports a missing directory like the generic way, with
// the handle's mode less the umask.
func TestWriteFileFast(t *testing.T) {
	root := t.TempDir()
	a := openArchive(t, root, storage.Options{})
	if a.Caps.WriteFile == nil {
		t.Fatal("the local backend declares no WriteFile")
	}
	write := func(name string, data []byte, sync bool) error {
		_, err := a.WriteFile(t.Context(), name, data, storage.WriteOpts{Sync: sync})
		return err
	}
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	long := bytes.Repeat([]byte("x"), 10000)
	for _, data := range [][]byte{long, []byte("kurz"), nil} {
		for _, sync := range []bool{true, false} {
			if err := write("data.tmp.csv", data, sync); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(root, "data.tmp.csv"))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("after writing %d bytes (sync %v): %d bytes, %v", len(data), sync, len(got), err)
			}
		}
	}
	fi, err := os.Stat(filepath.Join(root, "data.tmp.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 (0644 less the umask 027)", fi.Mode().Perm())
	}

	err = write("fehlt/meta.tmp.json", []byte("{}"), true)
	if !errors.Is(err, iofs.ErrNotExist) || !strings.Contains(err.Error(), "fehlt/meta.tmp.json anlegen") {
		t.Errorf("missing directory: %v, want ErrNotExist naming fehlt/meta.tmp.json anlegen", err)
	}
	if err := os.Mkdir(filepath.Join(root, "ordner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := write("ordner", []byte("x"), true); err == nil {
		t.Error("writing over a directory succeeded")
	}
	if err := write("../ausserhalb", []byte("x"), true); err == nil {
		t.Error("wrote outside the archive root")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(root), "ausserhalb")); err == nil {
		t.Error("a file appeared beside the archive root")
	}
}

// Rename moves to a new name and replaces an existing file, and keeps
// os.Rename's refusals: a directory is not moved over another one.
func TestRenameFast(t *testing.T) {
	root := t.TempDir()
	a := openArchive(t, root, storage.Options{})
	fsys := a.Fs
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	content := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	gone := func(name string) {
		t.Helper()
		if _, err := os.Lstat(filepath.Join(root, name)); !errors.Is(err, iofs.ErrNotExist) {
			t.Errorf("%s still there: %v", name, err)
		}
	}

	write("data.tmp.csv", "neu")
	if err := fsys.Rename("data.tmp.csv", "data.csv"); err != nil {
		t.Fatal(err)
	}
	if got := content("data.csv"); got != "neu" {
		t.Errorf("data.csv = %q after a rename to a new name", got)
	}
	gone("data.tmp.csv")

	write("data.tmp.csv", "neuer")
	if err := fsys.Rename("data.tmp.csv", "data.csv"); err != nil {
		t.Fatal(err)
	}
	if got := content("data.csv"); got != "neuer" {
		t.Errorf("data.csv = %q after a rename over it", got)
	}
	gone("data.tmp.csv")

	if err := fsys.Rename("fehlt", "data.csv"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("renaming a missing file: %v, want ErrNotExist", err)
	}
	if got := content("data.csv"); got != "neuer" {
		t.Errorf("data.csv = %q after a failed rename", got)
	}

	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsys.Rename("a", "b"); err == nil {
		t.Error("moved a directory over an empty one (os.Rename refuses)")
	}
	if err := fsys.Rename("data.csv", "../ausserhalb"); err == nil {
		t.Error("renamed to outside the archive root")
	}
	if got := content("data.csv"); got != "neuer" {
		t.Errorf("data.csv = %q after a refused rename", got)
	}
}
