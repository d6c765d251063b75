package faultfs

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

func memFs() afero.Fs { return afero.NewBasePathFs(afero.NewMemMapFs(), "/") }

// arch is fsys as an archive without fast paths.
func arch(fsys afero.Fs) *storage.Archive {
	return &storage.Archive{Fs: fsys, Caps: storage.Capabilities{AtomicRename: true, ExclusiveCreate: true, DefaultWorkers: 1}}
}

func TestNthMatchingCallFails(t *testing.T) {
	f := New(arch(memFs()), Fault{Op: OpCreate, Name: "*.tmp.csv", Nth: 2, Err: ENOSPC})
	if err := afero.WriteFile(f, "a/data.tmp.csv", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := afero.WriteFile(f, "a/meta.json", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := afero.WriteFile(f, "b/data.tmp.csv", []byte("x"), 0o644)
	var pe *os.PathError
	if !errors.Is(err, syscall.ENOSPC) || !errors.As(err, &pe) || pe.Path != "b/data.tmp.csv" {
		t.Fatalf("second create: %v", err)
	}
	if err := afero.WriteFile(f, "c/data.tmp.csv", []byte("x"), 0o644); err != nil {
		t.Fatalf("third create: %v", err)
	}
	if got := f.Injected(); len(got) != 1 || got[0] != (Call{OpCreate, "b/data.tmp.csv", 1}) {
		t.Fatalf("injected %v", got)
	}
}

func TestShortWriteAndRecordedCallsReplay(t *testing.T) {
	f := New(arch(memFs()), Fault{Op: OpWrite, Name: "x", Short: true})
	n, err := f.Create("x")
	if err != nil {
		t.Fatal(err)
	}
	if k, err := n.Write([]byte("abcd")); k != 2 || err != nil {
		t.Fatalf("short write = %d, %v", k, err)
	}
	n.Close()
	if b, _ := afero.ReadFile(f, "x"); string(b) != "ab" {
		t.Fatalf("content %q", b)
	}
	// Every recorded call, replayed as a fault, fails that call and only it.
	rec := New(arch(memFs()))
	run := func(fs afero.Fs) error {
		if err := fs.MkdirAll("d", 0o755); err != nil {
			return err
		}
		if err := afero.WriteFile(fs, "d/f", []byte("1"), 0o644); err != nil {
			return err
		}
		if err := afero.WriteFile(fs, "d/f", []byte("2"), 0o644); err != nil {
			return err
		}
		return fs.Rename("d/f", "d/g")
	}
	if err := run(rec); err != nil {
		t.Fatal(err)
	}
	calls := rec.Calls()
	if len(calls) < 8 {
		t.Fatalf("calls %v", calls)
	}
	for _, c := range calls {
		ff := New(arch(memFs()), c.Fault(EACCES))
		err := run(ff)
		if !errors.Is(err, syscall.EACCES) && c.Op != OpClose {
			t.Errorf("%s: err %v", c, err)
		}
		if got := ff.Injected(); len(got) != 1 || got[0] != c {
			t.Errorf("%s: injected %v", c, got)
		}
	}
}

func TestCrashAfter(t *testing.T) {
	base := memFs()
	f := New(arch(base)).CrashAfter(2) // mkdir, create happen; the write is torn
	if err := f.MkdirAll("d", 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := f.Create("d/f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("abcd")); !errors.Is(err, ErrCrashed) {
		t.Fatalf("write after crash point: %v", err)
	}
	if err := w.Sync(); !errors.Is(err, ErrCrashed) {
		t.Fatalf("sync after the crash: %v", err)
	}
	w.Close()
	if err := f.Rename("d/f", "d/g"); !errors.Is(err, ErrCrashed) {
		t.Fatalf("rename after the crash: %v", err)
	}
	if b, err := afero.ReadFile(f, "d/f"); err != nil || string(b) != "ab" {
		t.Fatalf("reads go on after the crash: %q %v", b, err)
	}
	if !f.Crashed() || f.Changes() != 2 {
		t.Fatalf("crashed %v after %d changes", f.Crashed(), f.Changes())
	}
}

func TestBatchAndCopy(t *testing.T) {
	src := memFs()
	afero.WriteFile(src, "2024/000001/data.csv", []byte("x"), 0o644)
	dst := memFs()
	if err := Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if b, _ := afero.ReadFile(dst, "2024/000001/data.csv"); string(b) != "x" {
		t.Fatal("copy lost a file")
	}
	b := New(arch(dst), Fault{Op: OpSyncAll, Nth: 2}).WithSyncAll().Caps()
	if err := b.SyncAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncAll(context.Background()); !errors.Is(err, syscall.EIO) {
		t.Fatalf("second SyncAll: %v", err)
	}
	var _ io.Closer = (*File)(nil)
}
