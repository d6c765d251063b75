package storagetest

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// AtomicWriteFs is an archive that declares Capabilities.AtomicWrite, as
// an object store does, over a base that keeps its other capabilities: a
// file opened to be created or truncated is held in memory and appears
// whole when closed (through a hidden name renamed over it, an atomic
// step on the base). It records every file so written, so a test can
// check that the engine wrote real names directly and no temp names.
type AtomicWriteFs struct {
	afero.Fs
	seq     atomic.Int64
	mu      sync.Mutex
	created []string
}

// AtomicWrite wraps base (the mem backend, say; it must declare
// AtomicRename) into an archive that declares AtomicWrite. The base's
// WriteFile fast path is dropped, so every write goes through OpenFile
// and is recorded.
func AtomicWrite(base *storage.Archive) (*storage.Archive, *AtomicWriteFs) {
	f := &AtomicWriteFs{Fs: base.Fs}
	caps := base.Caps
	caps.AtomicWrite = true
	caps.WriteFile = nil
	return &storage.Archive{Fs: f, Caps: caps, Closer: base.Closer}, f
}

// OpenFile opens a file to be created or truncated as a buffer that is
// written whole on Close. An exclusive create (the lock) goes to the base
// at once, so that it stays exclusive.
func (f *AtomicWriteFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_CREATE|os.O_TRUNC) == 0 || flag&os.O_EXCL != 0 {
		return f.Fs.OpenFile(name, flag, perm)
	}
	hidden := fmt.Sprintf("%s.aw-%d", name, f.seq.Add(1))
	file, err := f.Fs.OpenFile(hidden, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: underlying(err)}
	}
	f.mu.Lock()
	f.created = append(f.created, name)
	f.mu.Unlock()
	return &wholeFile{File: file, fs: f, name: name, hidden: hidden}, nil
}

// Create is OpenFile for a new or truncated file.
func (f *AtomicWriteFs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Created returns the names written so far, sorted.
func (f *AtomicWriteFs) Created() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.created)
	slices.Sort(out)
	return out
}

func underlying(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// wholeFile buffers writes and puts the content in place on Close.
type wholeFile struct {
	afero.File // the hidden file
	fs         *AtomicWriteFs
	name       string
	hidden     string
	buf        bytes.Buffer
}

func (w *wholeFile) Name() string                      { return w.name }
func (w *wholeFile) Write(p []byte) (int, error)       { return w.buf.Write(p) }
func (w *wholeFile) WriteString(s string) (int, error) { return w.buf.WriteString(s) }
func (w *wholeFile) Sync() error                       { return nil }

// Close writes the whole content under the hidden name and renames it
// over the real one; on failure nothing appears.
func (w *wholeFile) Close() error {
	_, err := w.File.Write(w.buf.Bytes())
	if cerr := w.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.fs.Fs.Rename(w.hidden, w.name)
	}
	if err != nil {
		_ = w.fs.Fs.Remove(w.hidden)
		return &os.PathError{Op: "close", Path: w.name, Err: underlying(err)}
	}
	return nil
}
