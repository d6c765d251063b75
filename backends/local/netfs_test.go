//go:build linux

package local

import (
	"context"
	"errors"
	"testing"

	"werkstatt-backup/storage"
)

// An archive on a network filesystem (here: statfs says CIFS) declares no
// compare-and-swap, since flock may not reach the other machines that
// mount it, and refuses IfMatch; if-absent creates still work. On a local
// filesystem it declares compare-and-swap.
func TestNoCompareAndSwapOnANetworkFilesystem(t *testing.T) {
	ctx := context.Background()
	if a := NewArchive(t.TempDir()); !a.Caps.CompareAndSwap {
		t.Fatal("a local folder declares no compare-and-swap")
	}
	old := fsType
	fsType = func(string) (int64, error) { return 0xFF534D42, nil }
	defer func() { fsType = old }()
	a := NewArchive(t.TempDir())
	if a.Caps.CompareAndSwap {
		t.Fatal("a folder on CIFS declares compare-and-swap")
	}
	tag, err := a.WriteFile(ctx, "x", []byte("eins"), storage.WriteOpts{Cond: storage.IfAbsent()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.WriteFile(ctx, "x", []byte("zwei"), storage.WriteOpts{Cond: storage.IfMatch(tag)}); !errors.Is(err, storage.ErrUnsupported) {
		t.Fatalf("IfMatch on CIFS: %v, want ErrUnsupported", err)
	}
	if err := a.Remove(ctx, "x", storage.IfMatch(tag)); !errors.Is(err, storage.ErrUnsupported) {
		t.Fatalf("conditional remove on CIFS: %v, want ErrUnsupported", err)
	}
}
