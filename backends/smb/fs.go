package smb

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"
)

var (
	_ afero.Fs  = (*Fs)(nil)
	_ io.Closer = (*Fs)(nil)
)

// Fs is an afero.Fs on an SMB share, rooted at the archive directory.
// Names are slash-separated and relative to that root ("." is the root);
// they cannot leave it. It is safe for concurrent use. Errors are
// *os.PathError (*os.LinkError for Rename) naming the path inside the
// share, with io/fs sentinels where they apply.
type Fs struct {
	pool *pool
	root string // the archive directory inside the share, slash-separated, "" = share root
	// ctx is the context of every call of this Fs and of the files it
	// opens: context.Background for the Archive's Fs (each call bounded by
	// smb_timeout only), the caller's for a view made by Bind.
	ctx context.Context
}

// bind returns a view of fs whose calls, and those of the files it
// opens, run under ctx (Capabilities.Bind): cancelling ctx ends a call in
// flight at once; each call keeps its smb_timeout.
func (fs *Fs) bind(ctx context.Context) *Fs {
	return &Fs{pool: fs.pool, root: fs.root, ctx: ctx}
}

// Close logs off all sessions. The Fs is unusable afterwards.
func (fs *Fs) Close() error { return fs.pool.close() }

// Name returns "smb".
func (fs *Fs) Name() string { return "smb" }

// target is a resolved name: the share path in SMB form and for messages.
type target struct {
	smb  string // backslash-separated, relative to the share, "" = share root
	show string // slash-separated, relative to the share, "." = share root
}

// resolve maps an archive name to its path inside the share. A backslash
// is refused: over SMB it would be a separator the caller did not mean.
func (fs *Fs) resolve(op, name string) (target, error) {
	if strings.ContainsRune(name, '\\') {
		return target{}, &os.PathError{Op: op, Path: name, Err: errBackslash}
	}
	full := path.Join(fs.root, strings.TrimPrefix(path.Clean("/"+name), "/"))
	t := target{smb: strings.ReplaceAll(full, "/", `\`), show: full}
	if full == "" {
		t.show = "."
	}
	return t, nil
}

var errBackslash = fmt.Errorf(`"\" in Namen auf einer SMB-Freigabe: %w`, iofs.ErrInvalid)

func (fs *Fs) pathError(op string, t target, err error) error {
	if err == nil {
		return nil
	}
	return &os.PathError{Op: op, Path: t.show, Err: fs.pool.translate(err)}
}

// busy: another handle has the file open (sharing violation).
func busy(err error) bool {
	code, ok := statusOf(err)
	return ok && code == statusSharingViolation
}

// renameBusy: a rename over a target that someone has open is answered
// with "access denied" by Samba and Windows; it is retried like busy.
func renameBusy(err error) bool {
	return busy(err) || errors.Is(err, iofs.ErrPermission)
}

// Create creates or truncates name for reading and writing.
func (fs *Fs) Create(name string) (afero.File, error) {
	return fs.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Open opens a file or directory for reading; Readdir works on directories.
func (fs *Fs) Open(name string) (afero.File, error) {
	return fs.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens name with os.O_* flags. O_CREATE|O_EXCL is an atomic
// exclusive create on the server (FILE_CREATE), the archive lock relies on
// it. A perm without owner write sets the read-only attribute.
func (fs *Fs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	t, err := fs.resolve("open", name)
	if err != nil {
		return nil, err
	}
	excl := flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL
	var f *File
	// An exclusive create is not retried on a broken connection: the first
	// try may have created the file, and the retry would then report it as
	// someone else's.
	err = fs.pool.whileBusy(fs.ctx, busy, func() error {
		return fs.pool.do(fs.ctx, !excl, func(cl *call) error {
			sf, err := cl.sh.OpenFile(t.smb, flag, perm)
			if err != nil {
				return err
			}
			f = &File{fs: fs, conn: cl.conn, ctx: cl.ctx, caller: cl.caller, f: sf, name: name, t: t,
				write: flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_APPEND|os.O_TRUNC) != 0}
			return nil
		})
	})
	if err != nil {
		return nil, fs.pathError("open", t, err)
	}
	return f, nil
}

// Mkdir creates one directory; its parent must exist.
func (fs *Fs) Mkdir(name string, perm os.FileMode) error {
	t, err := fs.resolve("mkdir", name)
	if err != nil {
		return err
	}
	return fs.pathError("mkdir", t, fs.mkdir(t, perm))
}

func (fs *Fs) mkdir(t target, perm os.FileMode) error {
	return fs.pool.do(fs.ctx, true, func(cl *call) error {
		err := cl.sh.Mkdir(t.smb, perm)
		if cl.attempt > 0 && errors.Is(err, iofs.ErrExist) {
			// The first try may have made it before the connection broke.
			if fi, serr := cl.sh.Stat(t.smb); serr == nil && fi.IsDir() {
				return nil
			}
		}
		return err
	})
}

// MkdirAll creates name and any missing parents. Existing directories are
// fine; a file in the way is an error (ENOTDIR).
func (fs *Fs) MkdirAll(name string, perm os.FileMode) error {
	t, err := fs.resolve("mkdir", name)
	if err != nil {
		return err
	}
	rel := strings.TrimPrefix(path.Clean("/"+name), "/")
	return fs.mkdirAll(rel, t, perm)
}

// mkdirAll tries the directory itself first, which is one round trip in
// the common case (parent exists), and walks up only when the parent is
// missing.
func (fs *Fs) mkdirAll(rel string, t target, perm os.FileMode) error {
	if rel == "" {
		return fs.isDir(t)
	}
	err := fs.mkdir(t, perm)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, iofs.ErrExist):
		return fs.isDir(t)
	case !errors.Is(err, iofs.ErrNotExist):
		return fs.pathError("mkdir", t, err)
	}
	parent := path.Dir(rel)
	if parent == "." {
		parent = ""
	}
	pt, _ := fs.resolve("mkdir", parent)
	if err := fs.mkdirAll(parent, pt, perm); err != nil {
		return err
	}
	err = fs.mkdir(t, perm)
	if errors.Is(err, iofs.ErrExist) {
		return fs.isDir(t)
	}
	return fs.pathError("mkdir", t, err)
}

// isDir is nil if t is a directory, else an error saying what it is.
func (fs *Fs) isDir(t target) error {
	fi, err := fs.stat(t)
	if err != nil {
		return fs.pathError("mkdir", t, err)
	}
	if !fi.IsDir() {
		return &os.PathError{Op: "mkdir", Path: t.show, Err: syscall.ENOTDIR}
	}
	return nil
}

// Remove removes a file or an empty directory.
func (fs *Fs) Remove(name string) error {
	t, err := fs.resolve("remove", name)
	if err != nil {
		return err
	}
	err = fs.pool.whileBusy(fs.ctx, busy, func() error {
		return fs.pool.do(fs.ctx, true, func(cl *call) error {
			err := cl.sh.Remove(t.smb)
			if cl.attempt > 0 && errors.Is(err, iofs.ErrNotExist) {
				return nil // the first try removed it before the connection broke
			}
			return err
		})
	})
	return fs.pathError("remove", t, err)
}

// RemoveAll removes name and everything below it; a missing name is fine.
func (fs *Fs) RemoveAll(name string) error {
	t, err := fs.resolve("removeall", name)
	if err != nil {
		return err
	}
	if strings.TrimPrefix(path.Clean("/"+name), "/") == "" {
		return &os.PathError{Op: "removeall", Path: t.show, Err: iofs.ErrInvalid}
	}
	return fs.removeAll(path.Clean("/" + name))
}

func (fs *Fs) removeAll(name string) error {
	fi, err := fs.Stat(name)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.IsDir() {
		entries, err := afero.ReadDir(fs, name)
		if err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			if err := fs.removeAll(path.Join(name, e.Name())); err != nil {
				return err
			}
		}
	}
	err = fs.Remove(name)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil
	}
	return err
}

// Rename renames oldname to newname, replacing an existing file newname in
// one step (the library sets ReplaceIfExists). The new parent must exist.
// It is not retried on a broken connection (the first try may have done
// it); it is retried while newname is held open by another handle.
func (fs *Fs) Rename(oldname, newname string) error {
	from, err := fs.resolve("rename", oldname)
	if err != nil {
		return err
	}
	to, err := fs.resolve("rename", newname)
	if err != nil {
		return err
	}
	err = fs.pool.whileBusy(fs.ctx, renameBusy, func() error {
		return fs.pool.do(fs.ctx, false, func(cl *call) error {
			return cl.sh.Rename(from.smb, to.smb)
		})
	})
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from.show, New: to.show, Err: fs.pool.translate(err)}
	}
	return nil
}

// Stat returns the FileInfo of name; Name() is the last element of name.
func (fs *Fs) Stat(name string) (os.FileInfo, error) {
	t, err := fs.resolve("stat", name)
	if err != nil {
		return nil, err
	}
	fi, err := fs.stat(t)
	if err != nil {
		return nil, fs.pathError("stat", t, err)
	}
	return withName(fi, name), nil
}

func (fs *Fs) stat(t target) (os.FileInfo, error) {
	var fi os.FileInfo
	err := fs.pool.do(fs.ctx, true, func(cl *call) error {
		var err error
		fi, err = cl.sh.Stat(t.smb)
		return err
	})
	return fi, err
}

// Chmod sets or clears the read-only attribute (owner write bit); SMB has
// no other permission bits.
func (fs *Fs) Chmod(name string, mode os.FileMode) error {
	t, err := fs.resolve("chmod", name)
	if err != nil {
		return err
	}
	return fs.pathError("chmod", t, fs.pool.do(fs.ctx, true, func(cl *call) error {
		return cl.sh.Chmod(t.smb, mode)
	}))
}

// Chown is not supported over SMB.
func (fs *Fs) Chown(name string, uid, gid int) error {
	return &os.PathError{Op: "chown", Path: name, Err: errors.ErrUnsupported}
}

// Chtimes sets access and modification time.
func (fs *Fs) Chtimes(name string, atime, mtime time.Time) error {
	t, err := fs.resolve("chtimes", name)
	if err != nil {
		return err
	}
	return fs.pathError("chtimes", t, fs.pool.do(fs.ctx, true, func(cl *call) error {
		return cl.sh.Chtimes(t.smb, atime, mtime)
	}))
}

// fileInfo renames a library FileInfo to the last element of the name the
// caller used, as os.Stat does ("." for the root).
type fileInfo struct {
	os.FileInfo
	name string
}

func (fi fileInfo) Name() string { return fi.name }

func withName(fi os.FileInfo, name string) os.FileInfo {
	base := "."
	if rel := strings.TrimPrefix(path.Clean("/"+name), "/"); rel != "" {
		base = path.Base(rel)
	}
	return fileInfo{FileInfo: fi, name: base}
}
