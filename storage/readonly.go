package storage

import (
	"errors"
	iofs "io/fs"
	"syscall"
)

// NotWritable reports whether err says that the archive cannot be written
// at all, as opposed to failing for another reason: a read-only mount
// (EROFS: a NAS snapshot, write-protected media), missing write permission
// (EACCES, EPERM) or, over SMB, "access denied" and "write protected",
// which the SMB backend reports as fs.ErrPermission. Reading commands use
// it to go on without the lock on an archive nobody can write to.
func NotWritable(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, iofs.ErrPermission)
}
