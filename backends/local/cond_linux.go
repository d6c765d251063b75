package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"werkstatt-backup/storage"
)

// Whole and conditional writes on a local disk (Capabilities.WriteCond,
// ReadTag, RemoveCond):
//
//   - A tag is the SHA-256 of the content (storage.HashTag), read whole:
//     size, mtime and inode would be cheaper but a file rewritten within
//     the filesystem's time granularity with the same size keeps them,
//     and a freed inode number comes back. The same content stored again
//     has the same tag again, which is harmless for a compare-and-swap of
//     whole records.
//   - IfAbsent writes the content into an unnamed file (O_TMPFILE), syncs
//     it and links it into place with linkat(2), which fails with EEXIST
//     if the name exists: the name never shows a part or an empty file,
//     and a crash leaves nothing. Where O_TMPFILE or /proc is missing, a
//     named temp file is linked (link(2), else renameat2 with
//     RENAME_NOREPLACE) and removed; a crash between the two can leave
//     that temp file (".<name>.cond-<random>").
//   - IfMatch and RemoveCond with IfMatch lock the current file with
//     flock(2), check that the name still leads to the locked file (else
//     someone replaced it meanwhile: try again), compare the content's
//     tag, then rename a synced temp file over the name (or unlink it) and
//     only then unlock. Every other conditional write or removal of the
//     name on this machine waits for the lock and then finds the new file,
//     so of two writers with the same tag exactly one wins. The kernel
//     drops the lock when the process dies: no stale guard is left. The
//     lock is taken on the file itself, so nothing beside it is created.
//     On a network filesystem mounted here (NFS, CIFS) flock may not reach
//     other machines: CompareAndSwap is atomic among the clients of this
//     machine only there.
//   - Always writes a synced temp file and renames it over the name.

func (f *archiveFs) addCond(c *storage.Capabilities) {
	// On a network filesystem flock may not reach the other machines that
	// mount it: no compare-and-swap there (IfMatch is refused), and the
	// archive lock keeps its exclusive-create protocol, which the file
	// server enforces for every client.
	f.noCAS = onNetworkFS(f.root)
	c.CompareAndSwap = !f.noCAS
	c.WriteCond = f.writeCond
	c.ReadTag = f.readTag
	c.RemoveCond = f.removeCond
}

// errMissing: the name of an IfMatch does not exist.
var errMissing = fmt.Errorf("%w: %w", storage.ErrChanged, iofs.ErrNotExist)

func (f *archiveFs) realPath(name string) (string, error) {
	return f.Fs.(*afero.BasePathFs).RealPath(name)
}

func (f *archiveFs) writeCond(ctx context.Context, name string, data []byte, cond storage.Cond) (storage.Tag, error) {
	if err := ctx.Err(); err != nil {
		return "", &os.PathError{Op: "open", Path: name, Err: err}
	}
	p, err := f.realPath(name)
	if err != nil {
		return "", &os.PathError{Op: "open", Path: name, Err: err}
	}
	if tag, ok := cond.Match(); ok && f.noCAS {
		return "", &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("Bedingung %s auf einem Netzlaufwerk: %w", cond, storage.ErrUnsupported)}
	} else if ok {
		err = withLocked(ctx, p, tag, func() error { return replaceWith(p, data) })
	} else if cond.Absent() {
		err = createNew(p, data)
	} else {
		err = replaceWith(p, data)
	}
	if err != nil {
		if errors.Is(err, storage.ErrChanged) && !errors.Is(err, iofs.ErrNotExist) {
			err = fmt.Errorf("%w (%s)", err, cond)
		}
		return "", &os.PathError{Op: "open", Path: name, Err: err}
	}
	return storage.HashTag(data), nil
}

// readTag reads name whole (the tag is the hash of all of it) and returns
// its first limit+1 bytes if longer.
func (f *archiveFs) readTag(ctx context.Context, name string, limit int64) ([]byte, storage.Tag, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", &os.PathError{Op: "open", Path: name, Err: err}
	}
	p, err := f.realPath(name)
	if err != nil {
		return nil, "", &os.PathError{Op: "open", Path: name, Err: err}
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, "", &os.PathError{Op: "open", Path: name, Err: errors.Unwrap(err)}
	}
	tag := storage.HashTag(data)
	if limit >= 0 && int64(len(data)) > limit+1 {
		data = data[:limit+1]
	}
	return data, tag, nil
}

func (f *archiveFs) removeCond(ctx context.Context, name string, cond storage.Cond) error {
	if cond.None() {
		return f.Remove(name)
	}
	tag, ok := cond.Match()
	if !ok || f.noCAS {
		return &os.PathError{Op: "remove", Path: name, Err: fmt.Errorf("Bedingung %s: %w", cond, storage.ErrUnsupported)}
	}
	p, err := f.realPath(name)
	if err == nil {
		err = withLocked(ctx, p, tag, func() error {
			if _, err := retry(func() (int, error) { return 0, unix.Unlink(p) }); err != nil {
				return err
			}
			return syncDir(filepath.Dir(p))
		})
	}
	if err != nil {
		if errors.Is(err, storage.ErrChanged) && !errors.Is(err, iofs.ErrNotExist) {
			err = fmt.Errorf("%w (%s)", err, cond)
		}
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return nil
}

// withLocked runs change while p is flock'ed and holds content of tag;
// ErrChanged (with fs.ErrNotExist if p is gone) otherwise. It waits for
// another holder of the lock, polling so that ctx can end the wait.
func withLocked(ctx context.Context, p string, tag storage.Tag, change func() error) error {
	for {
		fd, err := retry(func() (int, error) { return unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY, 0) })
		if errors.Is(err, unix.ENOENT) {
			return errMissing
		}
		if err != nil {
			return err
		}
		again, err := lockedChange(ctx, fd, p, tag, change)
		unix.Close(fd) // releases the lock
		if !again {
			return err
		}
	}
}

// lockedChange locks fd and, if p still names fd's file, compares and
// changes; again: p was replaced before the lock was ours, try again.
func lockedChange(ctx context.Context, fd int, p string, tag storage.Tag, change func() error) (again bool, err error) {
	if err := lockWait(ctx, fd); err != nil {
		return false, err
	}
	var held, now unix.Stat_t
	if err := unix.Fstat(fd, &held); err != nil {
		return false, err
	}
	if err := unix.Stat(p, &now); err != nil || now.Dev != held.Dev || now.Ino != held.Ino {
		return true, nil
	}
	cur, err := readAll(fd, held.Size)
	if err != nil {
		return false, err
	}
	if storage.HashTag(cur) != tag {
		return false, storage.ErrChanged
	}
	return false, change()
}

// lockWait takes an exclusive flock on fd, trying again every few
// milliseconds while another process holds it (only for the moment of
// its write), until ctx ends.
func lockWait(ctx context.Context, fd int) error {
	delay := time.Millisecond
	for {
		_, err := retry(func() (int, error) { return 0, unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) })
		if !errors.Is(err, unix.EWOULDBLOCK) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 20*time.Millisecond)
	}
}

func readAll(fd int, size int64) ([]byte, error) {
	buf := make([]byte, 0, size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := retry(func() (int, error) { return unix.Read(fd, buf[len(buf):cap(buf)]) })
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}

// createNew stores data as p only if p does not exist (EEXIST, wrapped as
// fs.ErrExist), whole or not at all.
func createNew(p string, data []byte) error {
	dir := filepath.Dir(p)
	fd, err := retry(func() (int, error) {
		return unix.Open(dir, unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
	})
	if err == nil {
		err = writeSync(fd, data)
		if err == nil {
			proc := "/proc/self/fd/" + strconv.Itoa(fd)
			_, err = retry(func() (int, error) {
				return 0, unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, p, unix.AT_SYMLINK_FOLLOW)
			})
		}
		unix.Close(fd)
		switch {
		case err == nil:
			return syncDir(dir)
		case errors.Is(err, unix.EEXIST):
			return iofs.ErrExist
		case !errors.Is(err, unix.ENOENT): // ENOENT: no /proc, the folder is there
			return err
		}
	} else if !errors.Is(err, unix.EOPNOTSUPP) && !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EINVAL) {
		return err
	}
	tmp, err := writeTemp(p, data)
	if err != nil {
		return err
	}
	_, err = retry(func() (int, error) { return 0, unix.Link(tmp, p) })
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EOPNOTSUPP) { // no hard links here
		_, err = retry(func() (int, error) {
			return 0, unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, p, unix.RENAME_NOREPLACE)
		})
	}
	_ = unix.Unlink(tmp)
	switch {
	case err == nil:
		return syncDir(dir)
	case errors.Is(err, unix.EEXIST):
		return iofs.ErrExist
	}
	return err
}

// replaceWith stores data as p whole: a synced temp file renamed over it.
func replaceWith(p string, data []byte) error {
	tmp, err := writeTemp(p, data)
	if err != nil {
		return err
	}
	if _, err := retry(func() (int, error) { return 0, unix.Rename(tmp, p) }); err != nil {
		_ = unix.Unlink(tmp)
		return err
	}
	return syncDir(filepath.Dir(p))
}

// writeTemp writes data to a new synced file beside p and returns its
// path.
func writeTemp(p string, data []byte) (string, error) {
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".cond-"+hex.EncodeToString(rnd[:]))
	fd, err := retry(func() (int, error) {
		return unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOCTTY, 0o644)
	})
	if err != nil {
		return "", err
	}
	err = writeSync(fd, data)
	if cerr := unix.Close(fd); err == nil && cerr != nil && !errors.Is(cerr, unix.EINTR) {
		err = cerr
	}
	if err != nil {
		_ = unix.Unlink(tmp)
		return "", err
	}
	return tmp, nil
}

func writeSync(fd int, data []byte) error {
	for rest := data; len(rest) > 0; {
		n, err := retry(func() (int, error) { return unix.Write(fd, rest) })
		if err == nil && n == 0 {
			err = unix.EIO
		}
		if err != nil {
			return err
		}
		rest = rest[n:]
	}
	_, err := retry(func() (int, error) { return 0, unix.Fsync(fd) })
	return err
}

// syncDir makes a folder's entries durable; filesystems that cannot sync
// a folder are fine.
func syncDir(dir string) error {
	fd, err := retry(func() (int, error) { return unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0) })
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	_, err = retry(func() (int, error) { return 0, unix.Fsync(fd) })
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.EBADF) {
		return nil
	}
	return err
}

// Magic numbers of network filesystems (statfs(2) f_type).
var networkFSTypes = map[int64]string{
	0x6969:     "NFS",
	0xFF534D42: "CIFS",
	0xFE534D42: "SMB2",
	0x517B:     "SMB",
	0x65735546: "FUSE", // sshfs, rclone mount, …: what is behind is unknown
	0x00C36400: "Ceph",
	0x01021997: "9P",
	0x47504653: "GPFS",
	0x0BD00BD0: "Lustre",
	0x013111A8: "IBRIX",
}

// onNetworkFS reports whether the folder dir lies on a network (or FUSE)
// filesystem, where locks taken here may not reach other machines. A
// folder it cannot look at counts as one: the safe answer.
func onNetworkFS(dir string) bool {
	t, err := fsType(dir)
	if err != nil {
		return true
	}
	_, ok := networkFSTypes[t]
	return ok
}

// fsType is the statfs(2) f_type of the filesystem dir lies on (a
// variable for tests).
var fsType = func(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Type), nil
}
