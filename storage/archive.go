package storage

import (
	"context"
	"os"
	"time"

	"github.com/spf13/afero"
)

// Archive is an opened archive, the one handle through which engine,
// history, lock and commands reach the archive: its methods (handle.go)
// take the run's context first and map each operation to the backend's
// best primitive declared in Caps. Backends and wrappers build it from
// their afero.Fs and Capabilities; everything outside storage/ and
// backends/ uses the methods, never Fs and Caps side by side. Close it
// when done.
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

	// The funcs below take the caller's context first: cancelling it ends
	// a call in flight at once (an error wrapping context.Canceled); the
	// backend adds its own per-call timeout. A clean-up after Ctrl+C
	// passes context.WithoutCancel(ctx).

	// ReadFile reads a small file whole in as few requests as the
	// backend can: its content, or its first limit+1 bytes if longer.
	ReadFile func(ctx context.Context, name string, limit int64) ([]byte, error)
	// ReadDir lists a directory like afero.ReadDir (lstat information,
	// sorted by name) in fewer calls.
	ReadDir func(ctx context.Context, name string) ([]os.FileInfo, error)
	// WriteFile creates or truncates name, writes data, syncs it if
	// sync, and closes it, in as few calls as the backend can. Errors are
	// *os.PathError with Op "open", "write", "sync" or "close".
	WriteFile func(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error
	// Lstat is Stat without following a final symbolic link; nil on a
	// storage without links (Stat is the same there).
	Lstat func(ctx context.Context, name string) (os.FileInfo, error)
	// SyncDir makes the entries of a directory (renames into it)
	// durable; nil: open the directory and Sync it.
	SyncDir func(ctx context.Context, dir string) error
	// SyncAll makes everything written so far durable in one call.
	// Non-nil means batch commit: write every file without its own sync,
	// then call SyncAll once.
	SyncAll func(ctx context.Context) error
	// List reports every file below prefix ("" = the whole archive) in
	// one listing, with size and content hash, in lexical order; much
	// cheaper than walking folders on an object store. nil: not offered.
	List func(ctx context.Context, prefix string, fn func(Entry) error) error
	// ContentHash is the hash List reports for a file written whole with
	// data (an object store's ETag of a single PUT: MD5, hex). Set
	// exactly when List is.
	ContentHash func(data []byte) string
	// ObjectLock is set when the storage can make files immutable until
	// a date (S3 Object Lock in compliance mode); nil otherwise.
	ObjectLock *ObjectLock

	// CompareAndSwap: WriteCond honours IfMatch atomically against every
	// other conditional write and removal of any client of the storage
	// (S3 If-Match; a filesystem's guarded replace). RemoveCond either
	// honours IfMatch the same way or refuses it with ErrUnsupported (S3:
	// versitygw does not order a conditional DELETE with conditional
	// PUTs), so a compare-and-swap protocol must not depend on deleting.
	CompareAndSwap bool
	// WriteCond stores data as name whole under cond in one step: after
	// it, name holds all of data, or (on any error) what it held before;
	// a crash never leaves a part or an empty file. It returns the tag of
	// the stored content. A failed IfAbsent wraps fs.ErrExist, a failed
	// IfMatch ErrChanged. nil: the handle creates IfAbsent with an
	// exclusive create (ExclusiveCreate) and refuses IfMatch.
	WriteCond func(ctx context.Context, name string, data []byte, cond Cond) (Tag, error)
	// ReadTag reads name like ReadFile and returns the tag of what it
	// read, for a later IfMatch. nil: the handle's tag is the SHA-256 of
	// the content (what WriteCond-less backends compare).
	ReadTag func(ctx context.Context, name string, limit int64) ([]byte, Tag, error)
	// RemoveCond removes name if cond holds (IfMatch: only the content
	// that was read). nil: the handle removes unconditionally for Always
	// and refuses IfMatch.
	RemoveCond func(ctx context.Context, name string, cond Cond) error
	// RemoveFile removes name, which the caller knows is a file (not a
	// folder), in as few requests as the backend can: no check whether it
	// is a folder. A missing name is what Remove makes of it. nil: the
	// handle removes it like any name.
	RemoveFile func(ctx context.Context, name string) error
	// Versions lists the stored versions of name, newest first, delete
	// markers included; nil on a store that keeps no versions.
	Versions func(ctx context.Context, name string) ([]Version, error)
	// ReadVersion reads one version of name (an id from Versions): its
	// content, or its first limit+1 bytes if longer. Set with Versions.
	ReadVersion func(ctx context.Context, name, id string, limit int64) ([]byte, error)
	// RestoreVersion makes version id of name current again (a copy of
	// it stored as the newest version). Set with Versions.
	RestoreVersion func(ctx context.Context, name, id string) error
	// Bind returns the archive's filesystem with every call bound to ctx:
	// cancelling ctx ends a call in flight at once; the backend adds its
	// own per-call timeout. nil: Fs's calls cannot block (mem) or cannot
	// be interrupted anyway (a local disk).
	Bind func(ctx context.Context) afero.Fs
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
	Retain func(ctx context.Context, name string, until time.Time) error
	// RetainedUntil returns name's retention end, the zero time if it
	// has none.
	RetainedUntil func(ctx context.Context, name string) (time.Time, error)
}
