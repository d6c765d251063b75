package s3

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

var _ afero.File = (*file)(nil)

// file is an open file or folder. A file's content is in memory: read
// whole by Open, or written here and stored with one PUT by Sync or Close.
type file struct {
	fs   *Fs
	name string // as the caller gave it
	key  string

	mu     sync.Mutex
	dir    bool
	read   bool
	write  bool
	append bool
	data   []byte
	pos    int64
	mtime  time.Time
	dirty  bool   // data differs from the stored object
	excl   bool   // O_EXCL: the first PUT requires that the name does not exist
	etag   string // the stored object's ETag after O_EXCL's PUT; later PUTs require it
	closed bool

	entries []os.FileInfo // a folder's listing, read on first Readdir
	listed  bool
	dirPos  int
}

// Name implements afero.File.
func (f *file) Name() string { return f.name }

// Stat implements afero.File.
func (f *file) Stat() (os.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, f.err("stat", iofs.ErrClosed)
	}
	base := "."
	if rel := clean(f.name); rel != "" {
		base = path.Base(rel)
	}
	if f.dir {
		return dirInfo(base), nil
	}
	return &fileInfo{name: base, size: int64(len(f.data)), mtime: f.mtime}, nil
}

func (f *file) err(op string, err error) error { return pathErr(op, f.name, err) }

// check returns the error of an operation that needs the file open and,
// if data, a file rather than a folder.
func (f *file) check(op string, want bool) error {
	switch {
	case f.closed:
		return f.err(op, iofs.ErrClosed)
	case f.dir:
		return f.err(op, syscall.EISDIR)
	case !want:
		return f.err(op, syscall.EBADF)
	}
	return nil
}

// Read implements io.Reader.
func (f *file) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("read", f.read); err != nil {
		return 0, err
	}
	n, err := f.readAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// ReadAt implements io.ReaderAt.
func (f *file) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("read", f.read); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, f.err("read", iofs.ErrInvalid)
	}
	return f.readAt(p, off)
}

func (f *file) readAt(p []byte, off int64) (int, error) {
	if off >= int64(len(f.data)) {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, f.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Seek implements io.Seeker.
func (f *file) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("seek", true); err != nil {
		return 0, err
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += int64(len(f.data))
	default:
		return 0, f.err("seek", iofs.ErrInvalid)
	}
	if offset < 0 {
		return 0, f.err("seek", iofs.ErrInvalid)
	}
	f.pos = offset
	return offset, nil
}

// Write implements io.Writer.
func (f *file) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("write", f.write); err != nil {
		return 0, err
	}
	if f.append {
		f.pos = int64(len(f.data))
	}
	f.writeAt(p, f.pos)
	f.pos += int64(len(p))
	return len(p), nil
}

// WriteAt implements io.WriterAt.
func (f *file) WriteAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("write", f.write); err != nil {
		return 0, err
	}
	if off < 0 || f.append {
		return 0, f.err("write", iofs.ErrInvalid)
	}
	f.writeAt(p, off)
	return len(p), nil
}

// WriteString implements afero.File.
func (f *file) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

func (f *file) writeAt(p []byte, off int64) {
	if end := off + int64(len(p)); end > int64(len(f.data)) {
		f.data = append(f.data, make([]byte, end-int64(len(f.data)))...)
	}
	copy(f.data[off:], p)
	f.dirty, f.mtime = true, time.Now()
}

// Truncate implements afero.File.
func (f *file) Truncate(size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.check("truncate", f.write); err != nil {
		return err
	}
	if size < 0 {
		return f.err("truncate", iofs.ErrInvalid)
	}
	if size <= int64(len(f.data)) {
		f.data = f.data[:size]
	} else {
		f.data = append(f.data, make([]byte, size-int64(len(f.data)))...)
	}
	f.dirty, f.mtime = true, time.Now()
	return nil
}

// Sync stores the content written so far (one PUT); a PUT is durable
// when it returns. On a folder or a file opened for reading it does
// nothing.
func (f *file) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.err("sync", iofs.ErrClosed)
	}
	return f.flush("sync")
}

// Close stores what was written (one PUT) and closes the file.
func (f *file) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.err("close", iofs.ErrClosed)
	}
	err := f.flush("close")
	f.closed, f.data, f.entries = true, nil, nil
	return err
}

// errReplaced: the object an O_EXCL create made was replaced by someone
// else before its content was stored; it is left alone.
var errReplaced = storage.ErrReplaced

// flush PUTs the content if it changed. After an O_EXCL open the first
// PUT requires that the name does not exist (If-None-Match: *), later
// ones that the object is still the one this file stored (If-Match), so a
// lock file taken over by another run in the meantime is not overwritten.
func (f *file) flush(op string) error {
	if f.dir || !f.write || !f.dirty {
		return nil
	}
	mode := putMode{ifMatch: f.etag}
	if f.excl {
		mode = putMode{ifNoneMatch: true}
	}
	etag, err := f.fs.c.put(f.fs.ctx, f.key, f.data, mode)
	if err != nil {
		if f.etag != "" && (errors.Is(err, iofs.ErrExist) || errors.Is(err, iofs.ErrNotExist)) {
			err = errReplaced
		}
		return f.err(op, err)
	}
	if f.excl || f.etag != "" {
		if etag == "" { // a server that sends no ETag
			etag = contentHash(f.data)
		}
		f.etag = etag
	}
	f.excl, f.dirty = false, false
	return nil
}

// Readdir implements afero.File: the folder's entries, sorted by name,
// listed once on the first call.
func (f *file) Readdir(count int) ([]os.FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.closed:
		return nil, f.err("readdir", iofs.ErrClosed)
	case !f.dir:
		return nil, f.err("readdir", syscall.ENOTDIR)
	}
	if !f.listed {
		infos, err := f.fs.readDir(f.key)
		if err != nil {
			return nil, f.err("readdir", err)
		}
		f.entries, f.listed = infos, true
	}
	rest := f.entries[f.dirPos:]
	if count <= 0 {
		f.dirPos = len(f.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n := min(count, len(rest))
	f.dirPos += n
	return rest[:n], nil
}

// Readdirnames implements afero.File.
func (f *file) Readdirnames(n int) ([]string, error) {
	infos, err := f.Readdir(n)
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, err
}
