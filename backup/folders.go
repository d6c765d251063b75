package backup

import (
	"context"
	"errors"
	iofs "io/fs"
	"path"
	"sync"

	"werkstatt-backup/storage"
)

// folderIndex lists each parent of the order folders (a year folder) once
// per export, and so knows which order folders exist and which are links. A
// folder that does not is neither listed nor stat'ed, only created, with
// its parent made once. In a fresh archive that is every folder: locally
// it saves the failed open of the listing and the two stats of MkdirAll
// per order, over SMB one of 17 requests. If a parent cannot be listed,
// every folder below it is asked as before.
type folderIndex struct {
	arch    *storage.Archive
	mu      sync.Mutex
	parents map[string]*parentFolder
}

type parentFolder struct {
	once   sync.Once
	known  bool                     // the listing answered (else nothing is known)
	modes  map[string]iofs.FileMode // its children's types when it was listed; nil: it was missing
	isLink bool                     // the folder itself is a symbolic link

	mu     sync.Mutex
	exists bool // known to exist (listed or created)
}

func newFolderIndex(arch *storage.Archive) *folderIndex {
	return &folderIndex{arch: arch, parents: make(map[string]*parentFolder)}
}

// parent lists dir once; the run's ctx of the first caller does it (a
// cancelled listing leaves the parent unknown: every child is asked).
func (x *folderIndex) parent(ctx context.Context, dir string) *parentFolder {
	x.mu.Lock()
	p := x.parents[dir]
	if p == nil {
		p = &parentFolder{}
		x.parents[dir] = p
	}
	x.mu.Unlock()
	p.once.Do(func() {
		if x.arch.Caps.Links {
			fi, err := x.arch.Lstat(ctx, dir)
			p.isLink = err == nil && fi.Mode()&iofs.ModeSymlink != 0
		}
		entries, err := x.arch.ReadDir(ctx, dir)
		switch {
		case err == nil:
			p.known, p.exists, p.modes = true, true, make(map[string]iofs.FileMode, len(entries))
			for _, fi := range entries {
				p.modes[fi.Name()] = fi.Mode().Type()
			}
		case errors.Is(err, iofs.ErrNotExist):
			p.known = true
		}
	})
	return p
}

// linked returns dir or its parent if that is a symbolic link, else "".
// Export writes through no link: a linked folder would put the backup
// outside the archive, where verify and restore never look (they do not
// follow links either).
func (x *folderIndex) linked(ctx context.Context, dir string) string {
	if !x.arch.Caps.Links {
		return "" // a store without links: nothing to list for it
	}
	p := x.parent(ctx, path.Dir(dir))
	switch {
	case p.isLink:
		return path.Dir(dir)
	case p.modes[path.Base(dir)]&iofs.ModeSymlink != 0:
		return dir
	}
	return ""
}

// absent reports whether dir did certainly not exist when this run began.
func (x *folderIndex) absent(ctx context.Context, dir string) bool {
	p := x.parent(ctx, path.Dir(dir))
	_, listed := p.modes[path.Base(dir)]
	return p.known && !listed
}

// create makes dir, which absent reported missing: its parent first, once
// for all its children.
func (x *folderIndex) create(ctx context.Context, dir string) error {
	p := x.parent(ctx, path.Dir(dir))
	p.mu.Lock()
	if !p.exists {
		if err := x.arch.MkdirAll(ctx, path.Dir(dir)); err != nil {
			p.mu.Unlock()
			return err
		}
		p.exists = true
	}
	p.mu.Unlock()
	// One Mkdir, not MkdirAll's stat first: the handle has no Mkdir.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := x.arch.FS(ctx).Mkdir(dir, 0o755); err != nil && !errors.Is(err, iofs.ErrExist) {
		return err
	}
	return nil
}
