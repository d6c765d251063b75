package faultfs

import (
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/mem"
	"werkstatt-backup/storage"
)

// fastArch is an archive with the fast paths of a local disk, done the
// generic way, and counts how often they are used.
func fastArch(fsys afero.Fs, used map[string]int) *storage.Archive {
	a := arch(fsys)
	a.Caps.WriteFile = func(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
		used["write"]++
		return afero.WriteFile(fsys, name, data, perm)
	}
	a.Caps.ReadFile = func(ctx context.Context, name string, limit int64) ([]byte, error) {
		used["read"]++
		return afero.ReadFile(fsys, name)
	}
	a.Caps.ReadDir = func(ctx context.Context, name string) ([]os.FileInfo, error) {
		used["readdir"]++
		return afero.ReadDir(fsys, name)
	}
	return a
}

// TestFastPathFaults: a fault aimed at a create, write, sync or close
// strikes the backend's WriteFile fast path as it strikes the generic
// calls, with the same step in the error and the same file left behind,
// and reads through ReadFile and ReadDir fail as Open and Readdir would.
func TestFastPathFaults(t *testing.T) {
	for _, c := range []struct {
		op   Op
		step string
		left string // content left in the temp file, "-" = none
	}{
		{OpCreate, "anlegen", "-"},
		{OpWrite, "schreiben", "-"}, // WriteFile removes the file it created
		{OpSync, "Sync", "-"},
		{OpClose, "schließen", "-"},
	} {
		for _, fast := range []bool{false, true} {
			used := map[string]int{}
			base := arch(memFs())
			if fast {
				base = fastArch(base.Fs, used)
			}
			f := New(base, Fault{Op: c.op, Name: "data.tmp.csv", Err: ENOSPC}).Archive()
			_, err := f.WriteFile(context.Background(), "data.tmp.csv", []byte("inhalt"), storage.WriteOpts{Sync: true})
			if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "data.tmp.csv "+c.step+":") {
				t.Errorf("%s, fast %v: %v, want ENOSPC at step %s", c.op, fast, err, c.step)
			}
			if _, serr := f.Fs.Stat("data.tmp.csv"); c.left == "-" && serr == nil {
				t.Errorf("%s, fast %v: temp file left behind", c.op, fast)
			}
			if fast && used["write"] == 0 && c.op != OpCreate {
				t.Errorf("%s: the fast path was not taken", c.op)
			}
		}
	}

	used := map[string]int{}
	f := New(fastArch(memFs(), used), Fault{Op: OpRead, Name: "a.txt"}, Fault{Op: OpReaddir, Name: "d"})
	a := f.Archive()
	afero.WriteFile(a.Fs, "a.txt", []byte("x"), 0o644)
	a.Fs.MkdirAll("d", 0o755)
	if _, err := a.ReadFile(context.Background(), "a.txt", 10); !errors.Is(err, syscall.EIO) {
		t.Errorf("ReadFile with a read fault: %v", err)
	}
	if _, err := a.ReadDir(context.Background(), "d"); !errors.Is(err, syscall.EIO) {
		t.Errorf("ReadDir with a readdir fault: %v", err)
	}
	if used["read"] != 0 || used["readdir"] != 0 {
		t.Errorf("a faulted fast path reached the backend: %v", used)
	}
}

// TestFastPathCrash: a crash during a WriteFile fast path tears the file
// like a crash during the generic write does.
func TestFastPathCrash(t *testing.T) {
	used := map[string]int{}
	base := memFs()
	f := New(fastArch(base, used)).CrashAfter(1) // the create happens, the write is torn
	a := f.Archive()
	err := a.Caps.WriteFile(context.Background(), "x", []byte("abcdef"), 0o644, true)
	if !errors.Is(err, ErrCrashed) {
		t.Fatalf("WriteFile at the crash: %v", err)
	}
	if b, _ := afero.ReadFile(base, "x"); string(b) != "abc" {
		t.Errorf("after the crash x = %q, want the torn half %q", b, "abc")
	}
	if err := a.Caps.WriteFile(context.Background(), "y", []byte("z"), 0o644, false); !errors.Is(err, ErrCrashed) {
		t.Errorf("WriteFile after the crash: %v", err)
	}
	if _, err := base.Stat("y"); err == nil {
		t.Error("a change after the crash reached the archive")
	}
	var _ io.Closer = (*File)(nil)
}

// TestCondCaps: a conditional write goes through the checks as one step
// of the store: a fault at its create leaves the name as it was, a fault
// at its close (the answer lost) has stored the content; ReadTag and
// RemoveCond are checked like a read and a remove; Bind's view records
// into and fails from the same wrapper.
func TestCondCaps(t *testing.T) {
	ctx := context.Background()
	base := mem.NewArchive()
	f := New(base, Fault{Op: OpCreate, Name: "lock", Nth: 1}, Fault{Op: OpClose, Name: "lock", Nth: 1},
		Fault{Op: OpRemove, Name: "lock", Nth: 1})
	a := f.Archive()
	if a.Caps.WriteCond == nil || a.Caps.ReadTag == nil || a.Caps.RemoveCond == nil || !a.Caps.CompareAndSwap {
		t.Fatal("the base's conditional writes are not passed on")
	}
	if _, err := a.WriteFile(ctx, "lock", []byte("eins"), storage.WriteOpts{Cond: storage.IfAbsent()}); !errors.Is(err, syscall.EIO) {
		t.Fatalf("IfAbsent with a create fault: %v, want EIO", err)
	}
	if _, err := base.Fs.Stat("lock"); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("a faulted create stored something: %v", err)
	}
	if _, err := a.WriteFile(ctx, "lock", []byte("eins"), storage.WriteOpts{Cond: storage.IfAbsent()}); !errors.Is(err, syscall.EIO) {
		t.Fatalf("IfAbsent with a close fault: %v, want EIO", err)
	}
	if b, _ := afero.ReadFile(base.Fs, "lock"); string(b) != "eins" {
		t.Fatalf("a close fault after the store: lock = %q, want eins stored", b)
	}
	_, tag, err := a.ReadFileTag(ctx, "lock", 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Remove(ctx, "lock", storage.IfMatch(tag)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("conditional Remove with a remove fault: %v, want EIO", err)
	}
	if err := a.Remove(ctx, "lock", storage.IfMatch(tag)); err != nil {
		t.Fatalf("conditional Remove: %v", err)
	}

	bound := 0
	base.Caps.Bind = func(context.Context) afero.Fs { bound++; return base.Fs }
	g := New(base, Fault{Op: OpStat, Name: "x", Nth: 1})
	view := g.Archive().Caps.Bind(ctx)
	if _, err := view.Stat("x"); !errors.Is(err, syscall.EIO) {
		t.Errorf("Stat through Bind's view: %v, want the wrapper's fault EIO", err)
	}
	if bound != 1 || !slices.Contains(g.Calls(), Call{Op: OpStat, Name: "x", N: 1}) {
		t.Errorf("Bind's view: base bound %d times, calls %v; want the base's view, recorded by the wrapper", bound, g.Calls())
	}
}
