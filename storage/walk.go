package storage

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"sync"
	"syscall"

	"github.com/spf13/afero"
)

// WalkFunc is called once per folder of a walk with the folder's entries
// from one listing, or with the listing's error and nil entries. It
// returns fs.SkipDir to skip the folder's subfolders; any other error
// stops the walk. It must not modify entries.
type WalkFunc func(dir string, entries []os.FileInfo, err error) error

// WalkDirs visits root and every folder below it depth-first in lexical
// order, one listing per folder. dir is root itself ("." for the archive
// root), then path.Join(root, ...), e.g. "2024", "2024/076329". Links are
// not followed: only entries with IsDir() that are not links are
// descended into.
func (a *Archive) WalkDirs(ctx context.Context, root string, fn WalkFunc) error {
	return a.walkDir(ctx, path.Clean(root), fn)
}

func (a *Archive) walkDir(ctx context.Context, dir string, fn WalkFunc) error {
	entries, err := a.ReadDir(ctx, dir)
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
		if err := a.walkDir(ctx, path.Join(dir, e.Name()), fn); err != nil {
			return err
		}
	}
	return nil
}

// WalkDirsParallel is WalkDirs on up to workers goroutines: every folder
// below root is listed once and fn is called once per folder, but
// concurrently and in no particular order (a parent before its children).
// Over SMB a listing is several round trips, and on a disk an archive of
// 100,000 orders is 100,000 folders, so listing them one after another
// was the longest part of verify and restore. SkipDir and errors from fn
// behave as in WalkDirs: the first other error stops the walk (folders
// already being listed still finish) and is returned.
func (a *Archive) WalkDirsParallel(ctx context.Context, root string, workers int, fn WalkFunc) error {
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
				q.done(a.visitDir(ctx, dir, fn))
			}
		})
	}
	wg.Wait()
	return q.err
}

// visitDir lists dir, calls fn and returns the subfolders to visit.
func (a *Archive) visitDir(ctx context.Context, dir string, fn WalkFunc) ([]string, error) {
	entries, err := a.ReadDir(ctx, dir)
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

// dirQueue holds the folders still to visit, last found first (so it
// stays short: depth first), and counts those handed out but not done.
type dirQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	dirs    []string
	pending int // queued or being visited
	err     error
}

// pop waits for a folder; false when the walk is over.
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

// done finishes a folder: its subfolders are queued, in reverse so that
// they are handed out in lexical order; an error stops the walk.
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

// syncDirGeneric opens dir and Syncs it; EINVAL, ENOTSUP and EBADF are
// ignored.
func syncDirGeneric(fsys afero.Fs, dir string) error {
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
