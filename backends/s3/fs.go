package s3

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

var _ afero.Fs = (*Fs)(nil)

// Fs is the archive as an afero.Fs over the objects below the location's
// prefix: the archive name "2024/076329/data.csv" is the key
// "PREFIX/2024/076329/data.csv". Folders are implicit (see the package
// documentation).
type Fs struct {
	c *conn
	// ctx is the context of every call of this Fs and its files:
	// context.Background for the Fs of the Archive (each call bounded by
	// s3_timeout only), the caller's for a view made by Bind.
	ctx context.Context
}

// bind returns a view of fs whose calls run under ctx (Capabilities.Bind):
// cancelling ctx ends a call in flight at once; each call still has its
// own s3_timeout. It costs one small allocation.
func (fs *Fs) bind(ctx context.Context) *Fs {
	return &Fs{c: fs.c, ctx: ctx}
}

// errDirRename: S3 has no folders to rename.
var errDirRename = errors.New("Ordner können auf S3 nicht umbenannt werden")

// errUnsupported: S3 keeps no owner and no settable times.
var errUnsupported = errors.New("auf S3 nicht möglich")

// clean turns an archive name into a slash path relative to the archive
// root ("" for the root) that cannot leave it.
func clean(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// key is the object key of the clean archive name rel.
func (fs *Fs) key(rel string) string {
	switch {
	case fs.c.prefix == "":
		return rel
	case rel == "":
		return fs.c.prefix
	}
	return fs.c.prefix + "/" + rel
}

// Name implements afero.Fs.
func (fs *Fs) Name() string { return "s3" }

// Create creates or truncates name; it is stored when closed.
func (fs *Fs) Create(name string) (afero.File, error) {
	return fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Mkdir creates nothing: folders exist while they hold a file.
func (fs *Fs) Mkdir(string, os.FileMode) error { return nil }

// MkdirAll creates nothing: folders exist while they hold a file.
func (fs *Fs) MkdirAll(string, os.FileMode) error { return nil }

// Open opens name for reading: a file is read whole in one GET; a folder
// lists itself on Readdir.
func (fs *Fs) Open(name string) (afero.File, error) {
	return fs.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens name. Written files are held in memory and stored with
// one PUT on Sync or Close. O_CREATE|O_EXCL fails at once (os.ErrExist)
// if a HEAD finds the name; its first Sync or Close stores the whole
// content with If-None-Match: *, so exactly one of several clients gets
// the name (os.ErrExist at Sync or Close for the others).
// Without O_TRUNC the existing content is read first. A parent folder
// need not exist.
func (fs *Fs) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	rel := clean(name)
	k := fs.key(rel)
	if flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return fs.openRead(name, rel, k)
	}
	if rel == "" {
		return nil, pathErr("open", name, syscall.EISDIR)
	}
	f := &file{fs: fs, name: name, key: k, write: true, read: flag&os.O_RDWR != 0, append: flag&os.O_APPEND != 0}
	switch {
	case flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		// A HEAD answers "exists" at once; what decides is the first PUT
		// on Sync or Close, of the whole content with If-None-Match: *:
		// no empty object is ever stored, and a writer killed before it
		// leaves nothing.
		if _, err := fs.c.head(fs.ctx, k); err == nil {
			return nil, pathErr("open", name, iofs.ErrExist)
		} else if !errors.Is(err, iofs.ErrNotExist) {
			return nil, pathErr("open", name, err)
		}
		f.excl, f.dirty, f.mtime = true, true, time.Now()
	case flag&os.O_TRUNC != 0:
		f.dirty, f.mtime = true, time.Now()
	default:
		data, info, err := fs.c.get(fs.ctx, k, -1)
		switch {
		case errors.Is(err, iofs.ErrNotExist) && flag&os.O_CREATE != 0:
			f.dirty, f.mtime = true, time.Now()
		case err != nil:
			return nil, pathErr("open", name, err)
		default:
			f.data, f.mtime = data, modTime(info)
		}
	}
	return f, nil
}

// openRead opens a file (one GET) or, if there is none, a folder.
func (fs *Fs) openRead(name, rel, k string) (afero.File, error) {
	if rel != "" {
		data, info, err := fs.c.get(fs.ctx, k, -1)
		if err == nil {
			return &file{fs: fs, name: name, key: k, read: true, data: data, mtime: modTime(info)}, nil
		}
		if !errors.Is(err, iofs.ErrNotExist) {
			return nil, pathErr("open", name, err)
		}
		if ok, err := fs.c.hasChildren(fs.ctx, k); err != nil || !ok {
			if err == nil {
				err = iofs.ErrNotExist
			}
			return nil, pathErr("open", name, err)
		}
	}
	return &file{fs: fs, name: name, key: k, dir: true}, nil
}

// Stat is a HEAD of the object, or for a folder a listing of one key.
func (fs *Fs) Stat(name string) (os.FileInfo, error) {
	rel := clean(name)
	if rel == "" {
		return dirInfo(path.Base("/" + fs.c.prefix)), nil
	}
	k := fs.key(rel)
	info, err := fs.c.head(fs.ctx, k)
	if err == nil {
		return &fileInfo{name: path.Base(rel), size: info.Size, mtime: modTime(info)}, nil
	}
	if !errors.Is(err, iofs.ErrNotExist) {
		return nil, pathErr("stat", name, err)
	}
	ok, err := fs.c.hasChildren(fs.ctx, k)
	switch {
	case err != nil:
		return nil, pathErr("stat", name, err)
	case !ok:
		return nil, pathErr("stat", name, iofs.ErrNotExist)
	}
	return dirInfo(path.Base(rel)), nil
}

// Remove deletes the file name. A folder that still holds a file is
// ENOTEMPTY. A name with neither object nor anything below it (a folder
// just emptied, or a name never written: S3 cannot tell them apart)
// removes successfully, as deleting a missing key does on S3.
func (fs *Fs) Remove(name string) error {
	rel := clean(name)
	k := fs.key(rel)
	if rel != "" {
		return pathErr("remove", name, fs.c.removeFile(fs.ctx, k))
	}
	ok, err := fs.c.hasChildren(fs.ctx, k)
	switch {
	case err != nil:
		return pathErr("remove", name, err)
	case ok:
		return pathErr("remove", name, syscall.ENOTEMPTY)
	}
	return nil
}

// RemoveAll deletes name and everything below it: one listing, then batch
// deletes of up to 1,000 keys a request.
func (fs *Fs) RemoveAll(name string) error {
	rel := clean(name)
	k := fs.key(rel)
	var keys []string
	if rel != "" {
		keys = append(keys, k)
	}
	err := fs.c.list(fs.ctx, dirPrefix(k), true, 0, func(o objectInfo) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err == nil {
		err = fs.c.removeMany(fs.ctx, keys)
	}
	return pathErr("removeall", name, err)
}

// Rename copies oldname to newname on the server, then deletes oldname.
// It is not atomic (Capabilities.AtomicRename is false): a crash between
// the two steps leaves both. Folders cannot be renamed.
func (fs *Fs) Rename(oldname, newname string) error {
	oldRel, newRel := clean(oldname), clean(newname)
	if oldRel == newRel {
		return nil
	}
	if oldRel == "" || newRel == "" {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EISDIR}
	}
	src, dst := fs.key(oldRel), fs.key(newRel)
	err := fs.c.copy(fs.ctx, src, dst)
	if errors.Is(err, iofs.ErrNotExist) {
		if ok, lerr := fs.c.hasChildren(fs.ctx, src); lerr == nil && ok {
			err = errDirRename
		}
	}
	if err == nil {
		err = fs.c.remove(fs.ctx, src)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return nil
}

// Chmod does nothing: objects have no permission bits, access is the
// bucket's policy.
func (fs *Fs) Chmod(string, os.FileMode) error { return nil }

// Chown is not possible on S3.
func (fs *Fs) Chown(name string, _, _ int) error { return pathErr("chown", name, errUnsupported) }

// Chtimes is not possible on S3: an object's time is when it was stored.
func (fs *Fs) Chtimes(name string, _, _ time.Time) error {
	return pathErr("chtimes", name, errUnsupported)
}
