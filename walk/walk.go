// Package walk visits the folders of an archive, one listing per folder.
package walk

import (
	"errors"
	iofs "io/fs"
	"os"
	"path"
	"sync"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
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
func WalkDirs(fsys afero.Fs, caps storage.Capabilities, root string, fn func(dir string, entries []os.FileInfo, err error) error) error {
	return walkDir(fsys, caps, path.Clean(root), fn)
}

func walkDir(fsys afero.Fs, caps storage.Capabilities, dir string, fn func(string, []os.FileInfo, error) error) error {
	entries, err := storage.ReadDir(fsys, caps, dir)
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
		if err := walkDir(fsys, caps, path.Join(dir, e.Name()), fn); err != nil {
			return err
		}
	}
	return nil
}

// WalkDirsParallel is WalkDirs on up to workers goroutines: every directory
// below root is listed once and fn is called once per directory, but
// concurrently and in no particular order (a parent before its children).
// Over SMB a listing is several round trips, and on a disk an archive of
// 100,000 orders is 100,000 directories, so listing them one after another
// was the longest part of verify and restore. SkipDir and errors from fn
// behave as in WalkDirs: the first other error stops the walk (directories
// already being listed still finish) and is returned.
func WalkDirsParallel(fsys afero.Fs, caps storage.Capabilities, root string, workers int, fn func(dir string, entries []os.FileInfo, err error) error) error {
	q := &dirQueue{dirs: []string{path.Clean(root)}, pending: 1}
	q.cond = sync.NewCond(&q.mu)
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for {
				dir, ok := q.pop()
				if !ok {
					return
				}
				q.done(visitDir(fsys, caps, dir, fn))
			}
		})
	}
	wg.Wait()
	return q.err
}

// visitDir lists dir, calls fn and returns the subdirectories to visit.
func visitDir(fsys afero.Fs, caps storage.Capabilities, dir string, fn func(string, []os.FileInfo, error) error) ([]string, error) {
	entries, err := storage.ReadDir(fsys, caps, dir)
	if err != nil {
		entries = nil
	}
	if err := fn(dir, entries, err); err != nil {
		if errors.Is(err, iofs.SkipDir) {
			return nil, nil
		}
		return nil, err
	}
	var subdirs []string
	for _, e := range entries {
		if e.IsDir() && e.Mode()&os.ModeSymlink == 0 {
			subdirs = append(subdirs, path.Join(dir, e.Name()))
		}
	}
	return subdirs, nil
}

// dirQueue holds the directories still to visit, last found first (so it
// stays short: depth first), and counts those handed out but not done.
type dirQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	dirs    []string
	pending int // queued or being visited
	err     error
}

// pop waits for a directory; false when the walk is over.
func (q *dirQueue) pop() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.dirs) == 0 && q.pending > 0 && q.err == nil {
		q.cond.Wait()
	}
	if len(q.dirs) == 0 || q.err != nil {
		return "", false
	}
	dir := q.dirs[len(q.dirs)-1]
	q.dirs = q.dirs[:len(q.dirs)-1]
	return dir, true
}

// done finishes a directory: its subdirectories are queued, in reverse so
// that they are handed out in lexical order; an error stops the walk.
func (q *dirQueue) done(subdirs []string, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending--
	if err != nil && q.err == nil {
		q.err = err
	}
	if q.err == nil {
		for i := len(subdirs) - 1; i >= 0; i-- {
			q.dirs = append(q.dirs, subdirs[i])
		}
		q.pending += len(subdirs)
	}
	q.cond.Broadcast()
}
