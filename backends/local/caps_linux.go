package local

import (
	"context"
	"os"

	"werkstatt-backup/storage"
)

// addFastPaths declares what the archive does faster on Linux than the
// generic afero way: plain system calls for small files and listings, and
// syncfs(2) for one flush of everything written. A local disk's calls
// cannot be interrupted: ctx is checked before each.
func (f *archiveFs) addFastPaths(c *storage.Capabilities) {
	c.ReadFile = func(ctx context.Context, name string, limit int64) ([]byte, error) {
		if err := ctx.Err(); err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return f.ReadFileLimit(name, limit)
	}
	c.ReadDir = func(ctx context.Context, name string) ([]os.FileInfo, error) {
		if err := ctx.Err(); err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return f.ReadDir(name)
	}
	c.WriteFile = func(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
		if err := ctx.Err(); err != nil {
			return &os.PathError{Op: "open", Path: name, Err: err}
		}
		return f.WriteFileSync(name, data, perm, sync)
	}
	c.SyncAll = func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return f.SyncAll()
	}
	f.addCond(c)
}
