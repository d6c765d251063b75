package storage

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
)

// The handle's writes on their own (formerly package atomicfile's tests):
// Replace, SyncDir and WriteFile through a backend's WriteFile. The
// storage contract (storagetest) checks them on every backend.

// tempFs is an archive Fs on a fresh OS temp directory.
func tempFs(t *testing.T) afero.Fs {
	return afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())
}

// faultFs fails the operation named in fail.
type faultFs struct {
	afero.Fs
	fail string // "rename", "write", "short", "sync", "close", "syncdir-einval"
}

func (f *faultFs) Rename(o, n string) error {
	if f.fail == "rename" {
		return &os.LinkError{Op: "rename", Old: o, New: n, Err: syscall.EIO}
	}
	return f.Fs.Rename(o, n)
}

func (f *faultFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fail: f.fail}, nil
}

func (f *faultFs) Open(name string) (afero.File, error) {
	file, err := f.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fail: f.fail}, nil
}

type faultFile struct {
	afero.File
	fail string
}

func (f *faultFile) Write(p []byte) (int, error) {
	switch f.fail {
	case "write":
		return 0, syscall.ENOSPC
	case "short":
		return f.File.Write(p[:len(p)/2])
	}
	return f.File.Write(p)
}

func (f *faultFile) Sync() error {
	switch f.fail {
	case "sync":
		return syscall.EIO
	case "syncdir-einval":
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.EINVAL}
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	err := f.File.Close()
	if f.fail == "close" {
		return syscall.EIO
	}
	return err
}

// TestReplaceFaults: a failing write, short write, Sync, Close or rename
// fails Replace with an error naming the temp file and the step; the old
// content stays and no temp file is left.
func TestReplaceFaults(t *testing.T) {
	for _, tc := range []struct {
		fail, step string
		want       error
	}{
		{"write", "schreiben", syscall.ENOSPC},
		{"short", "schreiben", io.ErrShortWrite},
		{"sync", "Sync", syscall.EIO},
		{"close", "schließen", syscall.EIO},
		{"rename", "umbenennen", syscall.EIO},
	} {
		t.Run(tc.fail, func(t *testing.T) {
			base := tempFs(t)
			if err := afero.WriteFile(base, "data.csv", []byte("alt"), 0o644); err != nil {
				t.Fatal(err)
			}
			a := &Archive{Fs: &faultFs{Fs: base, fail: tc.fail}, Caps: Capabilities{AtomicRename: true}}
			err := a.Replace(t.Context(), "data.csv", "data.tmp.csv", []byte("neu"))
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if err != nil && (!strings.Contains(err.Error(), "data.tmp.csv") || !strings.Contains(err.Error(), tc.step)) {
				t.Errorf("err = %q, want it to name the file and step %q", err, tc.step)
			}
			if got, _ := afero.ReadFile(base, "data.csv"); string(got) != "alt" {
				t.Errorf("data.csv = %q after failure, want the old content", got)
			}
			if _, err := base.Stat("data.tmp.csv"); !os.IsNotExist(err) {
				t.Errorf("temp file left behind: %v", err)
			}
		})
	}
}

// TestSyncDir: the generic SyncDir syncs a folder, ignores EINVAL from a
// filesystem that cannot, and reports other errors and a missing folder.
func TestSyncDir(t *testing.T) {
	base := tempFs(t)
	ctx := t.Context()
	if err := (&Archive{Fs: base}).SyncDir(ctx, "."); err != nil {
		t.Errorf("SyncDir(.) = %v", err)
	}
	if err := (&Archive{Fs: &faultFs{Fs: base, fail: "syncdir-einval"}}).SyncDir(ctx, "."); err != nil {
		t.Errorf("SyncDir with EINVAL = %v, want nil", err)
	}
	if err := (&Archive{Fs: &faultFs{Fs: base, fail: "sync"}}).SyncDir(ctx, "."); !errors.Is(err, syscall.EIO) {
		t.Errorf("SyncDir with EIO = %v, want EIO", err)
	}
	if err := (&Archive{Fs: base}).SyncDir(ctx, "fehlt"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SyncDir(fehlt) = %v, want ErrNotExist", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := (&Archive{Fs: base}).SyncDir(cancelled, "."); !errors.Is(err, context.Canceled) {
		t.Errorf("SyncDir after cancel = %v, want context.Canceled", err)
	}
}

// failingWriteFile is a backend's WriteFile that writes half of the data
// and then fails at op ("open": before creating anything).
func failingWriteFile(fsys afero.Fs, op string) func(context.Context, string, []byte, os.FileMode, bool) error {
	return func(_ context.Context, name string, data []byte, perm os.FileMode, _ bool) error {
		if op == "open" {
			return &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
		}
		if err := afero.WriteFile(fsys, name, data[:len(data)/2], perm); err != nil {
			return err
		}
		return &os.PathError{Op: op, Path: name, Err: syscall.EIO}
	}
}

// TestWriteFileBackendErrors: WriteFile and Replace through the backend's
// WriteFile name the failed step as the generic way does and remove a
// file they created.
func TestWriteFileBackendErrors(t *testing.T) {
	for op, step := range map[string]string{"open": "anlegen", "write": "schreiben", "sync": "Sync", "close": "schließen"} {
		fsys := afero.NewMemMapFs()
		a := &Archive{Fs: fsys, Caps: Capabilities{AtomicRename: true, WriteFile: failingWriteFile(fsys, op)}}
		_, err := a.WriteFile(t.Context(), "data.tmp.csv", []byte("abcdef"), WriteOpts{Sync: true})
		if err == nil || !strings.Contains(err.Error(), "data.tmp.csv "+step+":") {
			t.Errorf("%s fails: WriteFile = %v, want it to name data.tmp.csv %s", op, err, step)
		}
		if _, serr := fsys.Stat("data.tmp.csv"); serr == nil {
			t.Errorf("%s fails: WriteFile left data.tmp.csv behind", op)
		}
		err = a.Replace(t.Context(), "data.csv", "data.tmp.csv", []byte("abcdef"))
		if err == nil || !strings.Contains(err.Error(), "data.tmp.csv "+step+":") {
			t.Errorf("%s fails: Replace = %v, want it to name data.tmp.csv %s", op, err, step)
		}
		for _, name := range []string{"data.tmp.csv", "data.csv"} {
			if _, serr := fsys.Stat(name); serr == nil {
				t.Errorf("%s fails: Replace left %s behind", op, name)
			}
		}
	}
}

// TestReplaceAtomicWrite: on a storage whose writes are atomic by
// themselves the real name is written directly, with no temp name and no
// rename (an object store has no atomic rename); elsewhere the temp name
// is renamed over it.
func TestReplaceAtomicWrite(t *testing.T) {
	for _, atomic := range []bool{false, true} {
		rec := &renameRecorder{Fs: afero.NewMemMapFs()}
		a := &Archive{Fs: rec, Caps: Capabilities{AtomicWrite: atomic, AtomicRename: !atomic}}
		if err := a.Replace(t.Context(), "data.csv", "data.tmp.csv", []byte("neu")); err != nil {
			t.Fatalf("AtomicWrite %v: %v", atomic, err)
		}
		got, err := afero.ReadFile(rec, "data.csv")
		if err != nil || string(got) != "neu" {
			t.Errorf("AtomicWrite %v: data.csv = %q, %v", atomic, got, err)
		}
		if want := !atomic; rec.renamed != want {
			t.Errorf("AtomicWrite %v: renamed = %v, want %v", atomic, rec.renamed, want)
		}
		want := []string{"data.tmp.csv"}
		if atomic {
			want = []string{"data.csv"} // no temp name
		}
		if !slices.Equal(rec.opened, want) {
			t.Errorf("AtomicWrite %v: files opened = %q, want %q", atomic, rec.opened, want)
		}
	}
}

// renameRecorder records the files opened for writing and whether
// anything was renamed.
type renameRecorder struct {
	afero.Fs
	opened  []string
	renamed bool
}

func (r *renameRecorder) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	r.opened = append(r.opened, name)
	return r.Fs.OpenFile(name, flag, perm)
}

func (r *renameRecorder) Rename(o, n string) error {
	r.renamed = true
	return r.Fs.Rename(o, n)
}
