package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"time"

	"github.com/spf13/afero"
)

// The handle's methods. Each takes the run's context first; a call made
// after ctx is cancelled fails at once with ctx's error, so a clean-up
// after Ctrl+C passes context.WithoutCancel(ctx). Paths are slash paths
// relative to the archive root.

// FS returns the archive's filesystem bound to ctx (Caps.Bind), for the
// operations the handle has no method of its own for.
func (a *Archive) FS(ctx context.Context) afero.Fs {
	if a.Caps.Bind != nil {
		return a.Caps.Bind(ctx)
	}
	return a.Fs
}

// ReadFile reads a small file whole in as few requests as the backend
// can: its content, or its first limit+1 bytes if longer, so that the
// caller can refuse it without reading it whole.
func (a *Archive) ReadFile(ctx context.Context, name string, limit int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.Caps.ReadFile != nil {
		return a.Caps.ReadFile(ctx, name, limit)
	}
	f, err := a.FS(ctx).Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit+1))
}

// ReadFileTag is ReadFile that also returns the tag of the content it
// read, for a later IfMatch write or removal.
func (a *Archive) ReadFileTag(ctx context.Context, name string, limit int64) ([]byte, Tag, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if a.Caps.ReadTag != nil {
		return a.Caps.ReadTag(ctx, name, limit)
	}
	data, err := a.ReadFile(ctx, name, limit)
	if err != nil {
		return nil, "", err
	}
	return data, HashTag(data), nil
}

// HashTag is the tag of data on a backend without tags of its own: its
// SHA-256.
func HashTag(data []byte) Tag {
	sum := sha256.Sum256(data)
	return Tag("sha256:" + hex.EncodeToString(sum[:]))
}

// Open opens name for reading as a stream (a PDF, a pack), for files too
// large to read whole.
func (a *Archive) Open(ctx context.Context, name string) (afero.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.FS(ctx).Open(name)
}

// Stat returns name's file information, following a final link.
func (a *Archive) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return a.FS(ctx).Stat(name)
}

// Lstat is Stat without following a final symbolic link (Stat on a
// storage without links).
func (a *Archive) Lstat(ctx context.Context, name string) (os.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.Caps.Lstat != nil {
		return a.Caps.Lstat(ctx, name)
	}
	return a.FS(ctx).Stat(name)
}

// ReadDir lists a folder: lstat information, sorted by name.
func (a *Archive) ReadDir(ctx context.Context, name string) ([]os.FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.Caps.ReadDir != nil {
		return a.Caps.ReadDir(ctx, name)
	}
	return afero.ReadDir(a.FS(ctx), name)
}

// CanList reports whether List is offered (an object store's listing).
func (a *Archive) CanList() bool { return a.Caps.List != nil }

// List reports every file below prefix ("" = the whole archive) in one
// listing, with size and content hash, in lexical order. ErrUnsupported
// where the backend offers no listing (CanList).
func (a *Archive) List(ctx context.Context, prefix string, fn func(Entry) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.List == nil {
		return ErrUnsupported
	}
	return a.Caps.List(ctx, prefix, fn)
}

// ContentHash is the hash List reports for a file written whole with
// data; "" where the backend offers no listing.
func (a *Archive) ContentHash(data []byte) string {
	if a.Caps.ContentHash == nil {
		return ""
	}
	return a.Caps.ContentHash(data)
}

// MkdirAll creates a folder and its parents (nothing on a store whose
// folders are implicit).
func (a *Archive) MkdirAll(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.FS(ctx).MkdirAll(name, 0o755)
}

// Rename renames a file; whether it replaces an existing one in one step
// is Caps.AtomicRename.
func (a *Archive) Rename(ctx context.Context, oldName, newName string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.FS(ctx).Rename(oldName, newName)
}

// Chtimes sets a file's modification time.
func (a *Archive) Chtimes(ctx context.Context, name string, mtime time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.FS(ctx).Chtimes(name, mtime, mtime)
}

// Remove removes a file or an empty folder if cond holds (Always,
// IfMatch). Removing a missing name is an error wrapping fs.ErrNotExist.
func (a *Archive) Remove(ctx context.Context, name string, cond Cond) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.RemoveCond != nil {
		return a.Caps.RemoveCond(ctx, name, cond)
	}
	if !cond.None() {
		return &os.PathError{Op: "remove", Path: name, Err: fmt.Errorf("Bedingung %s: %w", cond, ErrUnsupported)}
	}
	return a.FS(ctx).Remove(name)
}

// RemoveFile removes name, which the caller knows is a file, in as few
// requests as the backend can (Caps.RemoveFile: on S3 one DELETE, with
// no check whether name is a folder); elsewhere it is Remove.
func (a *Archive) RemoveFile(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.RemoveFile != nil {
		return a.Caps.RemoveFile(ctx, name)
	}
	return a.Remove(ctx, name, Always)
}

// WriteOpts are the options of WriteFile.
type WriteOpts struct {
	Cond Cond
	// Sync makes the file durable before WriteFile returns; false for
	// callers that make many files durable at once (SyncAll).
	Sync bool
}

// WriteFile stores data as name. Under IfAbsent or IfMatch the write is
// whole in one step (Caps.WriteCond; see there) and returns the new tag.
// Without a condition it creates or truncates name and writes it; that
// is atomic only where Caps.AtomicWrite says so (use Replace for an
// atomic replace everywhere). On failure a file this call created is
// removed again (not where writes are atomic: there the store still holds
// the name's old content whole, which a removal would lose), and the
// error names the file and step.
func (a *Archive) WriteFile(ctx context.Context, name string, data []byte, o WriteOpts) (Tag, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !o.Cond.None() {
		return a.writeCond(ctx, name, data, o.Cond)
	}
	if a.Caps.AtomicWrite && a.Caps.WriteCond != nil {
		// One whole write, as the plain one, that also returns the tag
		// (an object store's ETag).
		return a.Caps.WriteCond(ctx, name, data, Always)
	}
	if err := a.writePlain(ctx, name, data, o.Sync); err != nil {
		return "", err
	}
	return a.tagOf(data), nil
}

// tagOf is the tag of content stored whole without a condition: the
// content's hash where the backend has no tags of its own, else unknown
// ("": read it back with ReadFileTag).
func (a *Archive) tagOf(data []byte) Tag {
	if a.Caps.ReadTag != nil {
		return ""
	}
	return HashTag(data)
}

func (a *Archive) writeCond(ctx context.Context, name string, data []byte, cond Cond) (Tag, error) {
	if a.Caps.WriteCond != nil {
		return a.Caps.WriteCond(ctx, name, data, cond)
	}
	if _, ok := cond.Match(); ok {
		return "", &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("Bedingung %s: %w", cond, ErrUnsupported)}
	}
	if !a.Caps.ExclusiveCreate {
		return "", &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("exklusives Anlegen: %w", ErrUnsupported)}
	}
	fsys := a.FS(ctx)
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	n, err := f.Write(data)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Ours to remove, unless the storage says someone else's content
		// replaced it (ErrReplaced, an fs.ErrExist).
		if !errors.Is(err, iofs.ErrExist) {
			_ = fsys.Remove(name)
		}
		return "", err
	}
	return HashTag(data), nil
}

// writePlain creates or truncates name and writes data through the
// backend's WriteFile, or the generic afero way.
func (a *Archive) writePlain(ctx context.Context, name string, data []byte, sync bool) error {
	fsys := a.FS(ctx)
	if a.Caps.WriteFile != nil {
		err := a.Caps.WriteFile(ctx, name, data, 0o644, sync)
		if err == nil {
			return nil
		}
		step := "anlegen"
		if pe, ok := errors.AsType[*os.PathError](err); ok {
			switch pe.Op {
			case "write":
				step = "schreiben"
			case "sync":
				step = "Sync"
			case "close":
				step = "schließen"
			}
		}
		if step != "anlegen" && !a.Caps.AtomicWrite {
			_ = fsys.Remove(name)
		}
		return fmt.Errorf("%s %s: %w", name, step, err)
	}
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%s anlegen: %w", name, err)
	}
	fail := func(step string, err error) error {
		if !a.Caps.AtomicWrite {
			_ = fsys.Remove(name)
		}
		return fmt.Errorf("%s %s: %w", name, step, err)
	}
	n, err := f.Write(data)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	if err != nil {
		_ = f.Close()
		return fail("schreiben", err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			_ = f.Close()
			return fail("Sync", err)
		}
	}
	if err := f.Close(); err != nil {
		return fail("schließen", err)
	}
	return nil
}

// Replace stores data as name so that a reader sees the old content or
// the new one, never a part: written directly where writes are atomic
// (Caps.AtomicWrite), else written and synced as tmpName and renamed over
// name in one step. On failure the temp file is removed.
func (a *Archive) Replace(ctx context.Context, name, tmpName string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.AtomicWrite {
		return a.writePlain(ctx, name, data, true)
	}
	if err := a.writePlain(ctx, tmpName, data, true); err != nil {
		return err
	}
	fsys := a.FS(ctx)
	if err := fsys.Rename(tmpName, name); err != nil {
		_ = fsys.Remove(tmpName)
		return fmt.Errorf("%s nach %s umbenennen: %w", tmpName, name, err)
	}
	return nil
}

// BatchSync reports whether the archive commits many writes with one
// SyncAll (write every file without its own sync, then SyncAll once).
func (a *Archive) BatchSync() bool { return a.Caps.SyncAll != nil }

// SyncAll makes everything written so far durable (see BatchSync); a
// no-op where the backend has no batch commit.
func (a *Archive) SyncAll(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.SyncAll == nil {
		return nil
	}
	return a.Caps.SyncAll(ctx)
}

// SyncDir makes a folder's entries (renames into it) durable where the
// backend supports it. EINVAL, ENOTSUP and EBADF from syncing a folder
// are ignored, as not all filesystems support it.
func (a *Archive) SyncDir(ctx context.Context, dir string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.SyncDir != nil {
		return a.Caps.SyncDir(ctx, dir)
	}
	return syncDirGeneric(a.FS(ctx), dir)
}

// Versioned reports whether the store keeps versions of every name
// (Versions, ReadVersion, RestoreVersion work).
func (a *Archive) Versioned() bool { return a.Caps.Versions != nil }

// Versions lists the stored versions of name, newest first.
func (a *Archive) Versions(ctx context.Context, name string) ([]Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.Caps.Versions == nil {
		return nil, ErrUnsupported
	}
	return a.Caps.Versions(ctx, name)
}

// ReadVersion reads one stored version of name.
func (a *Archive) ReadVersion(ctx context.Context, name, id string, limit int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if a.Caps.ReadVersion == nil {
		return nil, ErrUnsupported
	}
	return a.Caps.ReadVersion(ctx, name, id, limit)
}

// RestoreVersion makes a stored version of name current again.
func (a *Archive) RestoreVersion(ctx context.Context, name, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.RestoreVersion == nil {
		return ErrUnsupported
	}
	return a.Caps.RestoreVersion(ctx, name, id)
}

// Retains reports whether the store can make files immutable until a
// date (Object Lock).
func (a *Archive) Retains() bool { return a.Caps.ObjectLock != nil }

// Retain sets name's retention to until; it may only lengthen one.
func (a *Archive) Retain(ctx context.Context, name string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if a.Caps.ObjectLock == nil {
		return ErrUnsupported
	}
	return a.Caps.ObjectLock.Retain(ctx, name, until)
}

// RetainedUntil returns name's retention end, zero if it has none.
func (a *Archive) RetainedUntil(ctx context.Context, name string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	if a.Caps.ObjectLock == nil {
		return time.Time{}, ErrUnsupported
	}
	return a.Caps.ObjectLock.RetainedUntil(ctx, name)
}
