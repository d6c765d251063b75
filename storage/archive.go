package storage

import (
	"os"
	"time"

	"github.com/spf13/afero"
)

// Archive is an opened archive: its filesystem and what the backend
// declares about it. Close it when done.
type Archive struct {
	Fs   afero.Fs     // rooted at the archive root
	Caps Capabilities // worked out once by Open; wrappers adjust and pass them on
	// Closer releases connections; nil if there is nothing to release.
	Closer func() error
}

// Close releases the archive's connections.
func (a *Archive) Close() error {
	if a == nil || a.Closer == nil {
		return nil
	}
	return a.Closer()
}

// Capabilities are what a backend guarantees about its archive
// filesystem, and the extra operations it offers beyond afero.Fs. A nil
// operation means "not offered": callers use the generic afero way (for
// fast paths) or do without (for features). Declared once in Open,
// passed through every wrapper, never found by type assertion.
type Capabilities struct {
	// AtomicRename: Rename onto an existing file replaces it in one step
	// (POSIX rename, SMB with replace). Writers write a temp name and
	// rename it over the real one.
	AtomicRename bool
	// AtomicWrite: a file written and closed appears whole or not at
	// all and replaces an older one whole (an object store's PUT).
	// Writers write the real name directly; no temp names.
	AtomicWrite bool
	// ExclusiveCreate: OpenFile with O_CREATE|O_EXCL fails with
	// os.ErrExist if the name exists, atomically for every client of the
	// storage (the archive lock relies on it).
	ExclusiveCreate bool
	// CaseInsensitive: names are compared without regard to letter case
	// (SMB): "DATA.CSV" and "data.csv" are one file.
	CaseInsensitive bool
	// Links: the storage has symbolic links; Lstat tells them apart.
	Links bool
	// ImplicitDirs: folders exist only while they hold a file (an
	// object store's prefixes): Mkdir creates nothing, a file is created
	// without its folder, an emptied folder disappears (removing it
	// succeeds), a name below a file does not exist, and the archive's
	// root exists even while it is empty. storagetest checks each point.
	ImplicitDirs bool
	// DefaultWorkers is the number of parallel file operations when the
	// user did not choose (--workers): a local disk is busy with a few,
	// a network store needs many requests in flight.
	DefaultWorkers int

	// ReadFile reads a small file whole in as few requests as the
	// backend can: its content, or its first limit+1 bytes if longer.
	ReadFile func(name string, limit int64) ([]byte, error)
	// ReadDir lists a directory like afero.ReadDir (lstat information,
	// sorted by name) in fewer calls.
	ReadDir func(name string) ([]os.FileInfo, error)
	// WriteFile creates or truncates name, writes data, syncs it if
	// sync, and closes it, in as few calls as the backend can. Errors are
	// *os.PathError with Op "open", "write", "sync" or "close".
	WriteFile func(name string, data []byte, perm os.FileMode, sync bool) error
	// Lstat is Stat without following a final symbolic link; nil on a
	// storage without links (Stat is the same there).
	Lstat func(name string) (os.FileInfo, error)
	// SyncDir makes the entries of a directory (renames into it)
	// durable; nil: open the directory and Sync it.
	SyncDir func(dir string) error
	// SyncAll makes everything written so far durable in one call.
	// Non-nil means batch commit: write every file without its own sync,
	// then call SyncAll once.
	SyncAll func() error
	// List reports every file below prefix ("" = the whole archive) in
	// one listing, with size and content hash, in lexical order; much
	// cheaper than walking folders on an object store. nil: not offered.
	List func(prefix string, fn func(Entry) error) error
	// ContentHash is the hash List reports for a file written whole with
	// data (an object store's ETag of a single PUT: MD5, hex). Set
	// exactly when List is.
	ContentHash func(data []byte) string
	// ObjectLock is set when the storage can make files immutable until
	// a date (S3 Object Lock in compliance mode); nil otherwise.
	ObjectLock *ObjectLock
}

// Entry is one file reported by Capabilities.List.
type Entry struct {
	Name    string // slash path relative to the archive root
	Size    int64
	Hash    string // see Capabilities.ContentHash
	ModTime time.Time
}

// ObjectLock makes stored files immutable for a time: while a file is
// retained, no credential can delete or overwrite its stored content.
type ObjectLock struct {
	// Retain sets name's retention to until (compliance mode). It may
	// only lengthen a retention; an earlier until than the current one
	// is an error of the storage.
	Retain func(name string, until time.Time) error
	// RetainedUntil returns name's retention end, the zero time if it
	// has none.
	RetainedUntil func(name string) (time.Time, error)
}
