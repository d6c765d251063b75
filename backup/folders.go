package backup

import (
	"context"
	"errors"
	iofs "io/fs"
	"path"
	"sync"

	"github.com/spf13/afero"

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
	fs      afero.Fs
	caps    storage.Capabilities
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

func newFolderIndex(fsys afero.Fs, caps storage.Capabilities) *folderIndex {
	return &folderIndex{fs: fsys, caps: caps, parents: make(map[string]*parentFolder)}
}

func (x *folderIndex) parent(dir string) *parentFolder {
	x.mu.Lock()
	p := x.parents[dir]
	if p == nil {
		p = &parentFolder{}
		x.parents[dir] = p
	}
	x.mu.Unlock()
	p.once.Do(func() {
		if x.caps.Lstat != nil {
			fi, err := x.caps.Lstat(context.TODO(), dir)
			p.isLink = err == nil && fi.Mode()&iofs.ModeSymlink != 0
		}
		entries, err := storage.ReadDir(x.fs, x.caps, dir)
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
func (x *folderIndex) linked(dir string) string {
	p := x.parent(path.Dir(dir))
	switch {
	case p.isLink:
		return path.Dir(dir)
	case p.modes[path.Base(dir)]&iofs.ModeSymlink != 0:
		return dir
	}
	return ""
}

// absent reports whether dir did certainly not exist when this run began.
func (x *folderIndex) absent(dir string) bool {
	p := x.parent(path.Dir(dir))
	_, listed := p.modes[path.Base(dir)]
	return p.known && !listed
}

// create makes dir, which absent reported missing: its parent first, once
// for all its children.
func (x *folderIndex) create(dir string) error {
	p := x.parent(path.Dir(dir))
	p.mu.Lock()
	if !p.exists {
		if err := x.fs.MkdirAll(path.Dir(dir), 0o755); err != nil {
			p.mu.Unlock()
			return err
		}
		p.exists = true
	}
	p.mu.Unlock()
	if err := x.fs.Mkdir(dir, 0o755); err != nil && !errors.Is(err, iofs.ErrExist) {
		return err
	}
	return nil
}
