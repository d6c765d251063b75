package fs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/spf13/afero"
)

// WriteFileAtomic writes data to tmpName (O_WRONLY|O_CREATE|O_TRUNC, perm),
// Syncs it, closes it, then renames it over name in one step. On any
// failure the temp file is removed (best effort) and the error names the
// file and step. An existing name holds either the old or the new content
// at every instant.
func WriteFileAtomic(fsys afero.Fs, name, tmpName string, data []byte, perm os.FileMode) error {
	if err := WriteTemp(fsys, tmpName, data, perm, true); err != nil {
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
// SyncAller) and closes it: the first half of an atomic write, for callers
// that rename several files together. On failure the temp file is removed
// (best effort).
func WriteTemp(fsys afero.Fs, tmpName string, data []byte, perm os.FileMode, sync bool) error {
	if w, ok := fsys.(FileWriter); ok {
		return writeTempWith(w, fsys, tmpName, data, perm, sync)
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

// writeTempWith is WriteTemp through the backend's FileWriter, with the
// same errors and the same clean-up.
func writeTempWith(w FileWriter, fsys afero.Fs, tmpName string, data []byte, perm os.FileMode, sync bool) error {
	err := w.WriteFileSync(tmpName, data, perm, sync)
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

// SyncAller is an optional ability of a backend's Fs: make everything
// written through it durable in one call. The local backend has it
// (syncfs(2)), which replaces a Sync per file and per directory; callers
// then sync all temp files before renaming any, so it is just as safe.
type SyncAller interface {
	SyncAll() error
}

// SyncDir flushes a directory's entries (renames) to stable storage where
// the backend supports it: through its DirSyncer, else it opens dir and
// calls Sync. EINVAL, ENOTSUP and EBADF from syncing a directory are
// ignored, as not all filesystems support it.
func SyncDir(fsys afero.Fs, dir string) error {
	if ds, ok := fsys.(DirSyncer); ok {
		return ds.SyncDir(dir)
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
