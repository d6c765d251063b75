package faultfs

import (
	"context"
	"io"
	"os"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// Archive returns the wrapper as an archive, with the base's capabilities
// adjusted (Caps).
func (f *Fs) Archive() *storage.Archive {
	return &storage.Archive{Fs: f, Caps: f.Caps()}
}

// fail checks ops in turn and returns the first injected error as an
// *os.PathError, nil if every call may go ahead.
func (f *Fs) fail(name string, ops ...Op) error {
	for _, op := range ops {
		if v := f.check(op, name); v.err != nil {
			return pathErr(op, name, v.err)
		}
	}
	return nil
}

// Caps are the base archive's capabilities with every fast path routed
// through the fault checks, as the generic calls it replaces would be.
// Bind's view shares the wrapper's record and faults. ObjectLock is
// passed through unchecked.
func (f *Fs) Caps() storage.Capabilities {
	c := f.baseCaps
	b := f.baseCaps
	if b.ReadFile != nil {
		c.ReadFile = func(ctx context.Context, name string, limit int64) ([]byte, error) {
			if err := f.fail(name, OpOpen, OpRead, OpClose); err != nil {
				return nil, err
			}
			return b.ReadFile(ctx, name, limit)
		}
	}
	if b.ReadDir != nil {
		c.ReadDir = func(ctx context.Context, name string) ([]os.FileInfo, error) {
			if err := f.fail(name, OpOpen, OpReaddir, OpClose); err != nil {
				return nil, err
			}
			return b.ReadDir(ctx, name)
		}
	}
	if b.WriteFile != nil {
		c.WriteFile = f.writeFile
	}
	if b.Lstat != nil {
		c.Lstat = func(ctx context.Context, name string) (os.FileInfo, error) {
			if err := f.fail(name, OpStat); err != nil {
				return nil, err
			}
			return b.Lstat(ctx, name)
		}
	}
	if b.SyncDir != nil {
		c.SyncDir = func(ctx context.Context, dir string) error {
			if err := f.fail(dir, OpSync); err != nil {
				return err
			}
			return b.SyncDir(ctx, dir)
		}
	}
	f.mu.Lock()
	syncAll := f.syncAll
	f.mu.Unlock()
	if b.SyncAll != nil || syncAll {
		c.SyncAll = func(ctx context.Context) error {
			if err := f.fail(".", OpSyncAll); err != nil {
				return err
			}
			if b.SyncAll != nil {
				return b.SyncAll(ctx)
			}
			return nil
		}
	}
	if b.List != nil {
		c.List = func(ctx context.Context, prefix string, fn func(storage.Entry) error) error {
			if err := f.fail(prefix, OpReaddir); err != nil {
				return err
			}
			return b.List(ctx, prefix, fn)
		}
	}
	f.condCaps(&c)
	if b.Bind != nil {
		c.Bind = func(ctx context.Context) afero.Fs {
			return &Fs{base: b.Bind(ctx), baseCaps: f.baseCaps, state: f.state}
		}
	}
	return c
}

// condCaps routes the conditional writes and the versions through the
// checks. A conditional write is one step of the store: a fault at its
// create leaves the name as it was; a fault at its close (the answer
// lost, or the process killed after the request went out) has stored the
// content and reports the error all the same.
func (f *Fs) condCaps(c *storage.Capabilities) {
	b := f.baseCaps
	if b.WriteCond != nil {
		c.WriteCond = func(ctx context.Context, name string, data []byte, cond storage.Cond) (storage.Tag, error) {
			if err := f.fail(name, OpCreate, OpWrite); err != nil {
				return "", err
			}
			tag, err := b.WriteCond(ctx, name, data, cond)
			if err != nil {
				return "", err
			}
			if err := f.fail(name, OpClose); err != nil {
				return "", err
			}
			return tag, nil
		}
	}
	if b.ReadTag != nil {
		c.ReadTag = func(ctx context.Context, name string, limit int64) ([]byte, storage.Tag, error) {
			if err := f.fail(name, OpOpen, OpRead, OpClose); err != nil {
				return nil, "", err
			}
			return b.ReadTag(ctx, name, limit)
		}
	}
	if b.RemoveCond != nil {
		c.RemoveCond = func(ctx context.Context, name string, cond storage.Cond) error {
			if err := f.fail(name, OpRemove); err != nil {
				return err
			}
			return b.RemoveCond(ctx, name, cond)
		}
	}
	if b.RemoveFile != nil {
		c.RemoveFile = func(ctx context.Context, name string) error {
			if err := f.fail(name, OpRemove); err != nil {
				return err
			}
			return b.RemoveFile(ctx, name)
		}
	}
	if b.Versions != nil {
		c.Versions = func(ctx context.Context, name string) ([]storage.Version, error) {
			if err := f.fail(name, OpReaddir); err != nil {
				return nil, err
			}
			return b.Versions(ctx, name)
		}
	}
	if b.ReadVersion != nil {
		c.ReadVersion = func(ctx context.Context, name, id string, limit int64) ([]byte, error) {
			if err := f.fail(name, OpOpen, OpRead, OpClose); err != nil {
				return nil, err
			}
			return b.ReadVersion(ctx, name, id, limit)
		}
	}
	if b.RestoreVersion != nil {
		c.RestoreVersion = func(ctx context.Context, name, id string) error {
			if err := f.fail(name, OpCreate); err != nil {
				return err
			}
			return b.RestoreVersion(ctx, name, id)
		}
	}
}

// writeFile is Capabilities.WriteFile through the checks of the calls it
// stands for: create, write, sync (if sync) and close. A failed step
// leaves what the generic way would: nothing after a failed create, an
// empty (or, torn, half) file after a failed write, the whole content
// after a failed sync or close.
func (f *Fs) writeFile(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
	write := f.baseCaps.WriteFile
	if v := f.check(OpCreate, name); v.err != nil {
		return &os.PathError{Op: "open", Path: name, Err: v.err}
	}
	if v := f.check(OpWrite, name); v.err != nil || v.short {
		part := data[:0]
		if v.short {
			part = data[:len(data)/2]
		}
		if err := write(ctx, name, part, perm, false); err != nil {
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
			if err := write(ctx, name, data, perm, false); err != nil {
				return err
			}
			return &os.PathError{Op: string(op), Path: name, Err: v.err}
		}
	}
	return write(ctx, name, data, perm, sync)
}
