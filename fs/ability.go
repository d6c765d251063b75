package fs

import (
	"io"
	"os"

	"github.com/spf13/afero"
)

// Optional abilities of a backend's Fs beyond afero.Fs, found by type
// assertion like database/sql's driver.Pinger. A wrapper that embeds
// afero.Fs (faultfs, say) hides them, and the generic way is taken.

// FileReader reads a small file whole in as few requests as the backend
// can: over SMB one open, one read and one close, where the generic way
// also asks for the size and reads once more to find the end of the file;
// on a local disk without the system calls os.Open adds. ReadFileLimit
// returns the file's content, or its first limit+1 bytes if it is longer
// than limit, and errors as Open and Read would.
type FileReader interface {
	ReadFileLimit(name string, limit int64) ([]byte, error)
}

// ReadFileLimit reads name through fsys's FileReader, or the generic way:
// the content, or the first limit+1 bytes of a longer file, so that the
// caller can refuse it without reading it whole.
func ReadFileLimit(fsys afero.Fs, name string, limit int64) ([]byte, error) {
	if fr, ok := fsys.(FileReader); ok {
		return fr.ReadFileLimit(name, limit)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// DirSyncer makes the entries of a directory (renames into it) durable in
// the backend's own way; SyncDir uses it instead of opening the directory
// and calling Sync. The SMB backend has it: SMB has no directory flush and
// a server commits a rename in its own filesystem, so there is nothing to
// send, and opening the directory only to learn that would cost two round
// trips per backup.
type DirSyncer interface {
	SyncDir(dir string) error
}

// Parallel suggests how many file operations to run at once on this
// backend when the user did not choose (--workers): a local disk is busy
// with a few, a network share needs many requests in flight to hide its
// round trips.
type Parallel interface {
	DefaultWorkers() int
}

// DirReader lists a directory like afero.ReadDir (lstat information,
// sorted by name) in fewer system calls than opening it through afero.
type DirReader interface {
	ReadDir(name string) ([]os.FileInfo, error)
}

// ReadDir lists name through fsys's DirReader, or with afero.ReadDir.
func ReadDir(fsys afero.Fs, name string) ([]os.FileInfo, error) {
	if dr, ok := fsys.(DirReader); ok {
		return dr.ReadDir(name)
	}
	return afero.ReadDir(fsys, name)
}

// FileWriter writes a small file whole: create or truncate it with perm,
// write data, Sync it if sync, close it, in as few calls as the backend
// can. Errors are *os.PathError with Op "open", "write", "sync" or
// "close", so that WriteTemp can say which step failed.
type FileWriter interface {
	WriteFileSync(name string, data []byte, perm os.FileMode, sync bool) error
}
