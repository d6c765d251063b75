package mem

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
	"werkstatt-backup/storage/storagetest"
)

var seq atomic.Int64

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) *storage.Archive {
		return openArchive(t, fmt.Sprintf("fstest-%d", seq.Add(1)))
	})
}

// TestConformanceAtomicWrite: the contract holds for the test-only
// AtomicWrite declaration too, which the engine's tests use.
func TestConformanceAtomicWrite(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) *storage.Archive {
		a, _ := storagetest.AtomicWrite(openArchive(t, fmt.Sprintf("fstest-aw-%d", seq.Add(1))))
		return a
	})
}

func openArchive(t *testing.T, name string) *storage.Archive {
	t.Helper()
	t.Cleanup(func() { Reset(name) })
	a, err := Backend{}.Open(context.Background(), Location{Name: name}, storage.Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", name, err)
	}
	return a
}

func open(t *testing.T, name string) afero.Fs { return openArchive(t, name).Fs }

func TestSameNameSameData(t *testing.T) {
	if err := afero.WriteFile(open(t, "werkstatt"), "a.txt", []byte("export"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := afero.ReadFile(open(t, "werkstatt"), "a.txt")
	if err != nil || string(got) != "export" {
		t.Errorf("second Open sees %q, %v; want the exported data", got, err)
	}
	if _, err := open(t, "andere").Stat("a.txt"); err == nil {
		t.Error("another name sees the same data")
	}
	Reset("werkstatt")
	if _, err := open(t, "werkstatt").Stat("a.txt"); err == nil {
		t.Error("data survived Reset")
	}
}

// TestRelativeAndAbsoluteNames: afero.MemMapFs keeps "a/b" and "/a/b" as
// two files; the backend must not.
func TestRelativeAndAbsoluteNames(t *testing.T) {
	raw := afero.NewMemMapFs()
	if err := afero.WriteFile(raw, "a.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Stat("/a.txt"); err == nil {
		t.Log("afero.MemMapFs now treats a.txt and /a.txt alike; the BasePathFs wrapper may be unnecessary")
	}
	fsys := New()
	if err := fsys.MkdirAll("2024", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := afero.WriteFile(fsys, "2024/a.txt", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"2024/a.txt", "/2024/a.txt", "./2024/a.txt", "2024//a.txt"} {
		if _, err := fsys.Stat(name); err != nil {
			t.Errorf("Stat(%q): %v", name, err)
		}
	}
	entries, err := afero.ReadDir(fsys, "/2024")
	if err != nil || len(entries) != 1 {
		t.Errorf("ReadDir(/2024) = %d entries, %v; want 1", len(entries), err)
	}
}
