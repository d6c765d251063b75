// Package atomicfile writes archive files so that a reader sees the old
// content or the new one, never a part: a temp name renamed over the real
// one, or the real name directly where the storage's writes are atomic.
package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// WriteFileAtomic writes data to tmpName (O_WRONLY|O_CREATE|O_TRUNC, perm),
// Syncs it, closes it, then renames it over name in one step. On any
// failure the temp file is removed (best effort) and the error names the
// file and step. An existing name holds either the old or the new content
// at every instant. On a storage whose writes are atomic by themselves
// (caps.AtomicWrite: an object store's PUT) name is written directly and
// tmpName is not used.
func WriteFileAtomic(fsys afero.Fs, caps storage.Capabilities, name, tmpName string, data []byte, perm os.FileMode) error {
	if caps.AtomicWrite {
		return WriteTemp(fsys, caps, name, data, perm, true)
	}
	if err := WriteTemp(fsys, caps, tmpName, data, perm, true); err != nil {
		return err
	}
	if err := fsys.Rename(tmpName, name); err != nil {
		_ = fsys.Remove(tmpName)
		return fmt.Errorf("%s nach %s umbenennen: %w", tmpName, name, err)
	}
	return nil
}

// WriteTemp writes data to tmpName (O_WRONLY|O_CREATE|O_TRUNC, perm), Syncs
// it unless the caller makes it durable another way (sync false: see
// caps.SyncAll) and closes it: the first half of an atomic write, for
// callers that rename several files together. On failure the temp file is
// removed (best effort).
func WriteTemp(fsys afero.Fs, caps storage.Capabilities, tmpName string, data []byte, perm os.FileMode, sync bool) error {
	if caps.WriteFile != nil {
		return writeTempWith(func(name string, data []byte, perm os.FileMode, sync bool) error {
			return caps.WriteFile(context.TODO(), name, data, perm, sync)
		}, fsys, tmpName, data, perm, sync)
	}
	f, err := fsys.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("%s anlegen: %w", tmpName, err)
	}
	fail := func(step string, err error) error {
		_ = fsys.Remove(tmpName)
		return fmt.Errorf("%s %s: %w", tmpName, step, err)
	}
	n, err := f.Write(data)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		_ = f.Close()
		return fail("schreiben", err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return fail("Sync", err)
		}
	}
	if err := f.Close(); err != nil {
		return fail("schließen", err)
	}
	return nil
}

// writeTempWith is WriteTemp through the backend's WriteFile, with the
// same errors and the same clean-up.
func writeTempWith(write func(string, []byte, os.FileMode, bool) error, fsys afero.Fs, tmpName string, data []byte, perm os.FileMode, sync bool) error {
	err := write(tmpName, data, perm, sync)
	if err == nil {
		return nil
	}
	step := "anlegen"
	if pe, ok := errors.AsType[*os.PathError](err); ok {
		switch pe.Op {
		case "write":
			step = "schreiben"
		case "sync":
			step = "Sync"
		case "close":
			step = "schließen"
		}
	}
	if step != "anlegen" {
		_ = fsys.Remove(tmpName)
	}
	return fmt.Errorf("%s %s: %w", tmpName, step, err)
}

// SyncDir flushes a directory's entries (renames) to stable storage where
// the backend supports it: through caps.SyncDir, else it opens dir and
// calls Sync. EINVAL, ENOTSUP and EBADF from syncing a directory are
// ignored, as not all filesystems support it.
func SyncDir(fsys afero.Fs, caps storage.Capabilities, dir string) error {
	if caps.SyncDir != nil {
		return caps.SyncDir(context.TODO(), dir)
	}
	f, err := fsys.Open(dir)
	if err != nil {
		return fmt.Errorf("Verzeichnis %s öffnen: %w", dir, err)
	}
	err = f.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EBADF) {
		err = nil
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		return fmt.Errorf("Verzeichnis %s schließen: %w", dir, cerr)
	}
	if err != nil {
		return fmt.Errorf("Verzeichnis %s Sync: %w", dir, err)
	}
	return nil
}
