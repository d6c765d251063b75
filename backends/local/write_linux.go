package local

import (
	"errors"
	"os"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"
)

// WriteFileSync is Capabilities.WriteFile with plain open, write, fsync (if
// sync) and close: a fresh export writes two small temp files per order,
// and os.OpenFile adds five system calls to each (see ReadFileLimit), a
// tenth of the export's CPU time.
func (f *archiveFs) WriteFileSync(name string, data []byte, perm os.FileMode, sync bool) error {
	p, err := f.Fs.(*afero.BasePathFs).RealPath(name)
	if err != nil {
		return &os.PathError{Op: "open", Path: name, Err: err}
	}
	fd, err := retry(func() (int, error) {
		return unix.Open(p, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC|unix.O_NOCTTY, uint32(perm.Perm()))
	})
	if err != nil {
		return &os.PathError{Op: "open", Path: p, Err: err}
	}
	for rest := data; len(rest) > 0; {
		n, err := retry(func() (int, error) { return unix.Write(fd, rest) })
		if err == nil && n == 0 {
			err = unix.EIO // write(2) of a regular file never returns 0 for a non-empty buffer
		}
		if err != nil {
			unix.Close(fd)
			return &os.PathError{Op: "write", Path: p, Err: err}
		}
		rest = rest[n:]
	}
	if sync {
		if _, err := retry(func() (int, error) { return 0, unix.Fsync(fd) }); err != nil {
			unix.Close(fd)
			return &os.PathError{Op: "sync", Path: p, Err: err}
		}
	}
	// close(2) must not be retried on EINTR: the descriptor is gone either way.
	if err := unix.Close(fd); err != nil && !errors.Is(err, unix.EINTR) {
		return &os.PathError{Op: "close", Path: p, Err: err}
	}
	return nil
}

// Rename renames a file without the lstat of the target that os.Rename
// does first (it refuses to move a directory over an empty one, which
// rename(2) would allow): renameat2 with RENAME_NOREPLACE moves the file
// when the target does not exist, the common case of a fresh export; if
// it exists, or the filesystem cannot do RENAME_NOREPLACE, os.Rename does
// the rename with its usual checks.
func (f *archiveFs) Rename(oldname, newname string) error {
	base := f.Fs.(*afero.BasePathFs)
	po, err := base.RealPath(oldname)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	pn, err := base.RealPath(newname)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	_, err = retry(func() (int, error) {
		return 0, unix.Renameat2(unix.AT_FDCWD, po, unix.AT_FDCWD, pn, unix.RENAME_NOREPLACE)
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST), errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.ENOTSUP):
		return f.Fs.Rename(oldname, newname)
	default:
		return &os.LinkError{Op: "rename", Old: po, New: pn, Err: err}
	}
}
