package objtest

import (
	"bytes"
	"errors"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// objFs is the bucket as an afero.Fs.
type objFs struct{ s *Store }

func (f *objFs) Name() string { return "objtest" }

func (f *objFs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// Mkdir and MkdirAll create nothing: a prefix exists while it holds an
// object.
func (f *objFs) Mkdir(string, os.FileMode) error    { return nil }
func (f *objFs) MkdirAll(string, os.FileMode) error { return nil }

func (f *objFs) Open(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens name. A file opened for writing is held in memory and
// stored whole on Sync or Close. O_CREATE|O_EXCL fails at once with
// fs.ErrExist if the name exists (a HEAD, as backends/s3 does); its
// first Sync or Close stores the whole content only if the name is still
// free (a conditional PUT, If-None-Match: *), so of several creates
// exactly one gets the name and the others fs.ErrExist there; later
// content follows only over that object (see writeFile.flush). The root is a folder, even in an empty bucket.
func (f *objFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	s := f.s
	k := key(name)
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		if k == "" {
			return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EISDIR}
		}
		if flag&os.O_APPEND != 0 {
			return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("Objektspeicher kann nicht anhängen")}
		}
		w := &writeFile{s: s, name: name, dirty: true}
		if flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0 {
			s.heads.Add(1)
			s.mu.Lock()
			_, exists := s.meta[k]
			s.mu.Unlock()
			if exists {
				return nil, &os.PathError{Op: "open", Path: name, Err: iofs.ErrExist}
			}
			w.excl = true
			return w, nil
		}
		s.mu.Lock()
		_, exists := s.meta[k]
		s.mu.Unlock()
		if !exists && flag&os.O_CREATE == 0 {
			return nil, &os.PathError{Op: "open", Path: name, Err: iofs.ErrNotExist}
		}
		return w, nil
	}
	s.mu.Lock()
	_, isObj := s.meta[k]
	isDir := !isObj && (k == "" || s.hasChildrenLocked(k))
	s.mu.Unlock()
	switch {
	case isObj:
		s.noteRead(k)
		file, err := s.mem.Open(k)
		if err != nil {
			return nil, err
		}
		return &readFile{File: file, s: s, k: k}, nil
	case isDir:
		file, err := s.mem.Open(k)
		if err != nil {
			return nil, err
		}
		return &readFile{File: file, s: s, k: k, dir: true}, nil
	}
	return nil, &os.PathError{Op: "open", Path: name, Err: iofs.ErrNotExist}
}

func (f *objFs) Remove(name string) error { return f.s.remove(name) }

// RemoveAll deletes every object below name, one request each (a delete
// marker each: retained versions stay, hidden).
func (f *objFs) RemoveAll(name string) error {
	p := key(name)
	var keys []string
	f.s.mu.Lock()
	for k := range f.s.meta {
		if k == p || p == "" || strings.HasPrefix(k, p+"/") {
			keys = append(keys, k)
		}
	}
	f.s.mu.Unlock()
	var errs []error
	for _, k := range keys {
		if err := f.s.remove(k); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Rename is a copy and a delete, as an S3 client does it: the old name
// gets a delete marker, its versions stay.
func (f *objFs) Rename(oldname, newname string) error {
	s := f.s
	ok, nk := key(oldname), key(newname)
	s.mu.Lock()
	_, exists := s.meta[ok]
	s.mu.Unlock()
	if !exists {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: iofs.ErrNotExist}
	}
	data, err := afero.ReadFile(s.mem, ok)
	if err != nil {
		return err
	}
	if nk == "" {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EISDIR}
	}
	if _, err := s.putCond(nk, data, cond{}); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: err}
	}
	return s.remove(ok)
}

func (f *objFs) Stat(name string) (os.FileInfo, error) {
	s := f.s
	k := key(name)
	s.heads.Add(1)
	s.mu.Lock()
	m, isObj := s.meta[k]
	isDir := !isObj && (k == "" || s.hasChildrenLocked(k))
	s.mu.Unlock()
	switch {
	case isObj:
		fi, err := s.mem.Stat(k)
		if err != nil {
			return nil, err
		}
		return objInfo{FileInfo: fi, mod: m.modTime}, nil
	case isDir:
		return s.mem.Stat(k)
	}
	return nil, &os.PathError{Op: "stat", Path: name, Err: iofs.ErrNotExist}
}

func (f *objFs) Chmod(string, os.FileMode) error { return nil }
func (f *objFs) Chown(string, int, int) error    { return nil }
func (f *objFs) Chtimes(name string, _, _ time.Time) error {
	return &os.PathError{Op: "chtimes", Path: name, Err: errors.ErrUnsupported}
}

// objInfo reports the time the store gave the object.
type objInfo struct {
	os.FileInfo
	mod time.Time
}

func (i objInfo) ModTime() time.Time { return i.mod }

// readFile is an object opened for reading, or a prefix for listing.
type readFile struct {
	afero.File
	s   *Store
	k   string
	dir bool
}

func (r *readFile) Readdir(n int) ([]os.FileInfo, error) {
	r.s.noteList(r.k + "/")
	fis, err := r.File.Readdir(n)
	for i, fi := range fis {
		if !fi.IsDir() {
			r.s.mu.Lock()
			m := r.s.meta[path.Join(r.k, fi.Name())]
			r.s.mu.Unlock()
			fis[i] = objInfo{FileInfo: fi, mod: m.modTime}
		}
	}
	return fis, err
}

func (r *readFile) Readdirnames(n int) ([]string, error) {
	r.s.noteList(r.k + "/")
	return r.File.Readdirnames(n)
}

func (r *readFile) Stat() (os.FileInfo, error) {
	fi, err := r.File.Stat()
	if err != nil || r.dir {
		return fi, err
	}
	r.s.mu.Lock()
	m := r.s.meta[r.k]
	r.s.mu.Unlock()
	return objInfo{FileInfo: fi, mod: m.modTime}, nil
}

func (r *readFile) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: r.k, Err: iofs.ErrPermission}
}

// errReplaced: the object an O_EXCL create stored was replaced or deleted
// by someone else before its later content was stored; it is left alone.
var errReplaced = storage.ErrReplaced

// writeFile buffers an object and PUTs it whole on Sync and Close, if
// something changed. After an O_EXCL open the first PUT requires the name
// to be free (If-None-Match: *) and later ones the version it stored
// (If-Match on its ETag in backends/s3): a file removed or replaced
// meanwhile, a lock taken over, is left alone.
type writeFile struct {
	s       *Store
	name    string
	excl    bool   // O_EXCL: the first PUT requires that the name is free
	version string // the current version after O_EXCL's first PUT; later PUTs require it
	buf     bytes.Buffer
	dirty   bool // buf differs from the stored object
	closed  bool
}

func (w *writeFile) Name() string { return w.name }
func (w *writeFile) Write(p []byte) (int, error) {
	if w.closed {
		return 0, &os.PathError{Op: "write", Path: w.name, Err: iofs.ErrClosed}
	}
	w.dirty = true
	return w.buf.Write(p)
}
func (w *writeFile) WriteString(s string) (int, error)  { return w.Write([]byte(s)) }
func (w *writeFile) WriteAt([]byte, int64) (int, error) { return 0, w.unsupported("writeat") }
func (w *writeFile) Read([]byte) (int, error)           { return 0, w.unsupported("read") }
func (w *writeFile) ReadAt([]byte, int64) (int, error)  { return 0, w.unsupported("readat") }
func (w *writeFile) Seek(int64, int) (int64, error)     { return 0, w.unsupported("seek") }
func (w *writeFile) Readdir(int) ([]os.FileInfo, error) { return nil, w.unsupported("readdir") }
func (w *writeFile) Readdirnames(int) ([]string, error) { return nil, w.unsupported("readdir") }
func (w *writeFile) Truncate(size int64) error {
	w.buf.Truncate(int(size))
	w.dirty = true
	return nil
}
func (w *writeFile) unsupported(op string) error {
	return &os.PathError{Op: op, Path: w.name, Err: errors.ErrUnsupported}
}
func (w *writeFile) Stat() (os.FileInfo, error) { return nil, w.unsupported("stat") }

// Sync stores what was written so far.
func (w *writeFile) Sync() error {
	if w.closed {
		return &os.PathError{Op: "sync", Path: w.name, Err: iofs.ErrClosed}
	}
	return w.flush("sync")
}

func (w *writeFile) Close() error {
	if w.closed {
		return &os.PathError{Op: "close", Path: w.name, Err: iofs.ErrClosed}
	}
	w.closed = true
	return w.flush("close")
}

func (w *writeFile) flush(op string) error {
	if !w.dirty {
		return nil
	}
	c := cond{ifMatch: w.version}
	if w.excl {
		c = cond{ifNoneMatch: true}
	}
	version, err := w.s.putCond(key(w.name), w.buf.Bytes(), c)
	if err != nil {
		if w.version != "" && errors.Is(err, errConditionFailed) {
			err = errReplaced
		}
		return &os.PathError{Op: op, Path: w.name, Err: err}
	}
	if w.excl || w.version != "" {
		w.version = version
	}
	w.excl = false
	w.dirty = false
	return nil
}
