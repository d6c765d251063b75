package atomicfile

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

	"werkstatt-backup/storage"
)

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
		n, err := f.File.Write(p[:len(p)/2])
		return n, err
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

func TestWriteFileAtomicFaults(t *testing.T) {
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
			err := WriteFileAtomic(&faultFs{Fs: base, fail: tc.fail}, storage.Capabilities{}, "data.csv", "data.tmp.csv", []byte("neu"), 0o644)
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

func TestSyncDir(t *testing.T) {
	base := tempFs(t)
	if err := SyncDir(base, storage.Capabilities{}, "."); err != nil {
		t.Errorf("SyncDir(.) = %v", err)
	}
	if err := SyncDir(&faultFs{Fs: base, fail: "syncdir-einval"}, storage.Capabilities{}, "."); err != nil {
		t.Errorf("SyncDir with EINVAL = %v, want nil", err)
	}
	if err := SyncDir(&faultFs{Fs: base, fail: "sync"}, storage.Capabilities{}, "."); !errors.Is(err, syscall.EIO) {
		t.Errorf("SyncDir with EIO = %v, want EIO", err)
	}
	if err := SyncDir(base, storage.Capabilities{}, "fehlt"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("SyncDir(fehlt) = %v, want ErrNotExist", err)
	}
}

// fileWriterFs is a MemMapFs with a WriteFile capability that fails at
// one step.
type fileWriterFs struct {
	afero.Fs
	failOp string
}

func (f fileWriterFs) WriteFileSync(name string, data []byte, perm os.FileMode, sync bool) error {
	if f.failOp == "open" {
		return &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	if err := afero.WriteFile(f.Fs, name, data[:len(data)/2], perm); err != nil {
		return err
	}
	return &os.PathError{Op: f.failOp, Path: name, Err: syscall.EIO}
}

// WriteTemp through caps.WriteFile names the failed step and removes a temp
// file it created, as the generic way does.
func TestWriteTempFileWriterErrors(t *testing.T) {
	for op, step := range map[string]string{"open": "anlegen", "write": "schreiben", "sync": "Sync", "close": "schließen"} {
		fsys := fileWriterFs{Fs: afero.NewMemMapFs(), failOp: op}
		err := WriteTemp(fsys, storage.Capabilities{WriteFile: func(_ context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
			return fsys.WriteFileSync(name, data, perm, sync)
		}}, "data.tmp.csv", []byte("abcdef"), 0o644, true)
		if err == nil || !strings.Contains(err.Error(), "data.tmp.csv "+step+":") {
			t.Errorf("%s fails: %v, want it to name data.tmp.csv %s", op, err, step)
		}
		if _, serr := fsys.Stat("data.tmp.csv"); op != "open" && serr == nil {
			t.Errorf("%s fails: the temp file is left behind", op)
		}
	}
}

// TestWriteFileAtomicAtomicWrite: on a storage whose writes are atomic by
// themselves the real name is written directly, with no temp name and no
// rename (an object store has no atomic rename); elsewhere the temp name
// is renamed over it.
func TestWriteFileAtomicAtomicWrite(t *testing.T) {
	for _, atomic := range []bool{false, true} {
		rec := &renameRecorder{Fs: afero.NewMemMapFs()}
		caps := storage.Capabilities{AtomicWrite: atomic}
		if err := WriteFileAtomic(rec, caps, "data.csv", "data.tmp.csv", []byte("neu"), 0o644); err != nil {
			t.Fatalf("AtomicWrite %v: %v", atomic, err)
		}
		got, err := afero.ReadFile(rec, "data.csv")
		if err != nil || string(got) != "neu" {
			t.Errorf("AtomicWrite %v: data.csv = %q, %v", atomic, got, err)
		}
		if want := !atomic; rec.renamed != want {
			t.Errorf("AtomicWrite %v: renamed = %v, want %v", atomic, rec.renamed, want)
		}
		if want := []string{"data.csv"}; atomic && !slices.Equal(rec.opened, want) {
			t.Errorf("AtomicWrite: files opened = %q, want %q (no temp name)", rec.opened, want)
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
