package faultfs

import (
	"io"
	"os"

	"werkstatt-backup/storage"
)

// Archive returns the wrapper as an archive, with the base's capabilities
// adjusted (Caps).
func (f *Fs) Archive() *storage.Archive {
	return &storage.Archive{Fs: f, Caps: f.Caps()}
}

// Caps are the base archive's capabilities with every fast path routed
// through the fault checks, as the generic calls it replaces would be.
func (f *Fs) Caps() storage.Capabilities {
	c := f.baseCaps
	b := f.baseCaps
	if b.ReadFile != nil {
		c.ReadFile = func(name string, limit int64) ([]byte, error) {
			for _, op := range []Op{OpOpen, OpRead, OpClose} {
				if v := f.check(op, name); v.err != nil {
					return nil, pathErr(op, name, v.err)
				}
			}
			return b.ReadFile(name, limit)
		}
	}
	if b.ReadDir != nil {
		c.ReadDir = func(name string) ([]os.FileInfo, error) {
			for _, op := range []Op{OpOpen, OpReaddir, OpClose} {
				if v := f.check(op, name); v.err != nil {
					return nil, pathErr(op, name, v.err)
				}
			}
			return b.ReadDir(name)
		}
	}
	if b.WriteFile != nil {
		c.WriteFile = f.writeFile
	}
	if b.Lstat != nil {
		c.Lstat = func(name string) (os.FileInfo, error) {
			if v := f.check(OpStat, name); v.err != nil {
				return nil, pathErr(OpStat, name, v.err)
			}
			return b.Lstat(name)
		}
	}
	if b.SyncDir != nil {
		c.SyncDir = func(dir string) error {
			if v := f.check(OpSync, dir); v.err != nil {
				return pathErr(OpSync, dir, v.err)
			}
			return b.SyncDir(dir)
		}
	}
	f.mu.Lock()
	syncAll := f.syncAll
	f.mu.Unlock()
	if b.SyncAll != nil || syncAll {
		c.SyncAll = func() error {
			if v := f.check(OpSyncAll, "."); v.err != nil {
				return pathErr(OpSyncAll, ".", v.err)
			}
			if b.SyncAll != nil {
				return b.SyncAll()
			}
			return nil
		}
	}
	if b.List != nil {
		c.List = func(prefix string, fn func(storage.Entry) error) error {
			if v := f.check(OpReaddir, prefix); v.err != nil {
				return pathErr(OpReaddir, prefix, v.err)
			}
			return b.List(prefix, fn)
		}
	}
	return c
}

// writeFile is Capabilities.WriteFile through the checks of the calls it
// stands for: create, write, sync (if sync) and close. A failed step
// leaves what the generic way would: nothing after a failed create, an
// empty (or, torn, half) file after a failed write, the whole content
// after a failed sync or close.
func (f *Fs) writeFile(name string, data []byte, perm os.FileMode, sync bool) error {
	write := f.baseCaps.WriteFile
	if v := f.check(OpCreate, name); v.err != nil {
		return &os.PathError{Op: "open", Path: name, Err: v.err}
	}
	if v := f.check(OpWrite, name); v.err != nil || v.short {
		part := data[:0]
		if v.short {
			part = data[:len(data)/2]
		}
		if err := write(name, part, perm, false); err != nil {
			return err
		}
		if v.err == nil { // a short write without error
			return &os.PathError{Op: "write", Path: name, Err: io.ErrShortWrite}
		}
		return &os.PathError{Op: "write", Path: name, Err: v.err}
	}
	steps := []Op{OpClose}
	if sync {
		steps = []Op{OpSync, OpClose}
	}
	for _, op := range steps {
		if v := f.check(op, name); v.err != nil {
			if err := write(name, data, perm, false); err != nil {
				return err
			}
			return &os.PathError{Op: string(op), Path: name, Err: v.err}
		}
	}
	return write(name, data, perm, sync)
}
