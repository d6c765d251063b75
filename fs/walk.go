package fs

import (
	"errors"
	iofs "io/fs"
	"os"
	"path"

	"github.com/spf13/afero"
)

// WalkDirs visits root and every directory below it depth-first in lexical
// order, calling fn once per directory with its entries from one ReadDir
// call. dir is root itself ("." for the archive root), then
// path.Join(root, ...), e.g. "2024", "2024/076329".
//
// Symlinks are not followed: entries are whatever the backend's Readdir
// returns, and only entries with IsDir() that are not symlinks are
// descended into. If ReadDir of a directory fails, fn is called with that
// error and nil entries. If fn returns iofs.SkipDir, that directory's
// subdirectories are skipped; any other non-nil error stops the walk and is
// returned. fn must not modify entries.
func WalkDirs(fsys afero.Fs, root string, fn func(dir string, entries []os.FileInfo, err error) error) error {
	return walkDir(fsys, path.Clean(root), fn)
}

func walkDir(fsys afero.Fs, dir string, fn func(string, []os.FileInfo, error) error) error {
	entries, err := afero.ReadDir(fsys, dir)
	if err != nil {
		entries = nil
	}
	if err := fn(dir, entries, err); err != nil {
		if errors.Is(err, iofs.SkipDir) {
			return nil
		}
		return err
	}
	for _, e := range entries {
		if !e.IsDir() || e.Mode()&os.ModeSymlink != 0 {
			continue
		}
		if err := walkDir(fsys, path.Join(dir, e.Name()), fn); err != nil {
			return err
		}
	}
	return nil
}
