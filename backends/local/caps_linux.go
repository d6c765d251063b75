package local

import "werkstatt-backup/storage"

// addFastPaths declares what the archive does faster on Linux than the
// generic afero way: plain system calls for small files and listings, and
// syncfs(2) for one flush of everything written.
func (f *archiveFs) addFastPaths(c *storage.Capabilities) {
	c.ReadFile = f.ReadFileLimit
	c.ReadDir = f.ReadDir
	c.WriteFile = f.WriteFileSync
	c.SyncAll = f.SyncAll
}
