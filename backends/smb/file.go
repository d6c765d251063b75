package smb

import (
	"context"
	"io"
	iofs "io/fs"
	"os"
	"sync"

	smb2 "github.com/cloudsoda/go-smb2"
	"github.com/spf13/afero"
)

var _ afero.File = (*File)(nil)

// File is an open file or directory on the share. Its calls are
// serialized, each with its own deadline. A file lives on the session it
// was opened on: if that connection breaks, the file's calls fail (its
// handle died with the session) and the next Fs call reconnects.
type File struct {
	fs   *Fs
	conn *conn
	ctx  *callCtx
	// caller is the ctx of the Fs that opened the file: every call on
	// the file runs under it (see callCtx).
	caller context.Context
	f      *smb2.File
	name   string // as the caller gave it
	t      target
	write  bool // opened for writing (only then does Sync flush)

	mu     sync.Mutex
	closed bool
}

// call runs fn as one call on the file's session.
func (f *File) call(fn func() error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return iofs.ErrClosed
	}
	return f.run(fn)
}

// run needs f.mu held.
func (f *File) run(fn func() error) error {
	f.ctx.begin(f.caller, f.fs.pool.cfg.timeout)
	err := fn()
	f.ctx.end()
	if err != nil && err != io.EOF && (isConnLost(err) || isTimeout(err) || f.conn.broken()) {
		f.conn.drop()
	}
	return err
}

func (f *File) pathError(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	return f.fs.pathError(op, f.t, err)
}

// Name returns the name as passed to Open.
func (f *File) Name() string { return f.name }

// Close closes the handle. For a file opened for writing an error means
// the data may not have reached the server. A read-only handle whose
// connection broke is gone already, so closing it succeeds.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.pathError("close", iofs.ErrClosed)
	}
	f.closed = true
	err := f.run(f.f.Close)
	if err != nil && !f.write && (isConnLost(err) || f.conn.broken()) {
		return nil
	}
	return f.pathError("close", err)
}

func (f *File) Read(b []byte) (n int, err error) {
	err = f.call(func() error {
		n, err = f.f.Read(b)
		return err
	})
	return n, f.pathError("read", err)
}

func (f *File) ReadAt(b []byte, off int64) (n int, err error) {
	err = f.call(func() error {
		n, err = f.f.ReadAt(b, off)
		return err
	})
	return n, f.pathError("read", err)
}

func (f *File) Seek(offset int64, whence int) (ret int64, err error) {
	err = f.call(func() error {
		ret, err = f.f.Seek(offset, whence)
		return err
	})
	return ret, f.pathError("seek", err)
}

func (f *File) Write(b []byte) (n int, err error) {
	err = f.call(func() error {
		n, err = f.f.Write(b)
		return err
	})
	return n, f.pathError("write", err)
}

func (f *File) WriteAt(b []byte, off int64) (n int, err error) {
	err = f.call(func() error {
		n, err = f.f.WriteAt(b, off)
		return err
	})
	return n, f.pathError("write", err)
}

func (f *File) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

// Readdir lists a directory opened with Open, like os.File.Readdir.
func (f *File) Readdir(count int) (fis []os.FileInfo, err error) {
	err = f.conn.largeRequest(func() error {
		return f.call(func() error {
			fis, err = f.f.Readdir(count)
			return err
		})
	})
	return fis, f.pathError("readdir", err)
}

func (f *File) Readdirnames(n int) ([]string, error) {
	fis, err := f.Readdir(n)
	names := make([]string, len(fis))
	for i, fi := range fis {
		names[i] = fi.Name()
	}
	return names, err
}

// Stat queries the server; Name() is the last element of the opened name.
func (f *File) Stat() (os.FileInfo, error) {
	var fi os.FileInfo
	err := f.conn.largeRequest(func() error {
		return f.call(func() error {
			var err error
			fi, err = f.f.Stat()
			return err
		})
	})
	if err != nil {
		return nil, f.pathError("stat", err)
	}
	return withName(fi, f.name), nil
}

// Sync asks the server to flush the file to stable storage (SMB2 FLUSH;
// Samba fsyncs with its default "strict sync = yes"). On a handle opened
// read-only, which includes every directory, there is nothing of ours to
// flush and Sync succeeds without a round trip: SMB has no directory
// flush (Samba answers "access denied"), and the server commits a rename
// in its own filesystem.
func (f *File) Sync() error {
	if !f.write {
		return f.pathError("sync", f.call(func() error { return nil }))
	}
	return f.pathError("sync", f.call(f.f.Sync))
}

func (f *File) Truncate(size int64) error {
	return f.pathError("truncate", f.call(func() error { return f.f.Truncate(size) }))
}
