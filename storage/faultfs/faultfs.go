// Package faultfs wraps an archive so that chosen calls fail: the Nth
// create, write, Sync, Close, rename, ... of a name pattern, with EIO,
// ENOSPC, EACCES, a short write, or any error. It also simulates a crash
// (every change after the Nth one is lost and fails) and records every call,
// so a test can first run a command once, then fail each recorded step in
// turn. The archive's fast paths (Capabilities.ReadFile, WriteFile,
// ReadDir, SyncDir, SyncAll, Lstat, List) are wrapped too and fail and
// crash like the generic calls they stand for, so fault tests exercise
// them. It is a test helper; the program never uses it.
package faultfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// Op names a kind of call.
type Op string

// The calls faultfs can fail. OpOpen is an Open or OpenFile that neither
// creates nor truncates; OpCreate is one that does.
const (
	OpOpen    Op = "open"
	OpCreate  Op = "create"
	OpRead    Op = "read"
	OpWrite   Op = "write"
	OpSync    Op = "sync"
	OpClose   Op = "close"
	OpReaddir Op = "readdir"
	OpStat    Op = "stat"
	OpRename  Op = "rename"
	OpRemove  Op = "remove"
	OpMkdir   Op = "mkdir"
	OpChmod   Op = "chmod"
	OpSyncAll Op = "syncall"
)

// mutating ops change the archive; a crash counts and stops only these.
var mutating = map[Op]bool{OpCreate: true, OpWrite: true, OpRename: true, OpRemove: true, OpMkdir: true, OpChmod: true}

// Errors worth injecting, as a kernel reports them.
var (
	EIO    error = syscall.EIO
	ENOSPC error = syscall.ENOSPC
	EACCES error = syscall.EACCES
)

// ErrCrashed is returned by every change after a simulated crash.
var ErrCrashed = errors.New("faultfs: simulierter Absturz")

// Fault says which call fails and how.
type Fault struct {
	Op Op
	// Name is a path.Match pattern tried against the whole slash-separated
	// name (e.g. "2024/076329/data.tmp.csv") and against its base name
	// ("*.tmp.csv", "meta.json"); "" matches every name. For a rename
	// the new name is matched.
	Name string
	// Nth is which matching call fails, counting from 1; 0 fails all.
	Nth int
	// Err is the cause; nil means EIO. A write with Short set may have a
	// nil Err: it then reports fewer bytes without an error.
	Err error
	// Short (writes only): half of the bytes are written, then the call
	// returns their count and Err.
	Short bool
}

func (f Fault) matches(op Op, name string) bool {
	if f.Op != op {
		return false
	}
	if f.Name == "" {
		return true
	}
	if ok, _ := path.Match(f.Name, name); ok {
		return true
	}
	ok, _ := path.Match(f.Name, path.Base(name))
	return ok
}

// Call is one recorded call.
type Call struct {
	Op   Op
	Name string
	// N is the how-manieth call of this Op on this Name it was (from 1), so
	// Fault{Op: c.Op, Name: c.Name, Nth: c.N} fails exactly this call again
	// in a rerun, whatever order parallel workers take.
	N int
}

func (c Call) String() string { return fmt.Sprintf("%s %s #%d", c.Op, c.Name, c.N) }

// Fault returns the fault that fails exactly c, with err.
func (c Call) Fault(err error) Fault {
	return Fault{Op: c.Op, Name: escape(c.Name), Nth: c.N, Err: err}
}

// escape quotes the pattern characters of a literal name.
func escape(name string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(name)
}

// Fs is the fault-injecting wrapper. It is safe for concurrent use.
type Fs struct {
	base     afero.Fs
	baseCaps storage.Capabilities
	// state is shared by the wrapper and its views bound to a context
	// (Capabilities.Bind): one record of calls, one set of faults.
	*state
}

type state struct {
	syncAll bool // declare SyncAll even if the base has none (WithSyncAll)

	mu       sync.Mutex
	faults   []Fault
	hits     []int // matching calls seen, per fault
	calls    []Call
	perName  map[Call]int // key with N == 0: calls so far
	crashAt  int          // changes allowed before the crash; -1: none
	changes  int
	crashed  bool
	injected []Call // calls that failed by a fault or the crash
}

var _ afero.Fs = (*Fs)(nil)

// New wraps the archive base; faults apply from the start. The wrapper's
// own archive is Archive().
func New(base *storage.Archive, faults ...Fault) *Fs {
	return &Fs{base: base.Fs, baseCaps: base.Caps, state: &state{faults: faults, hits: make([]int, len(faults)), perName: map[Call]int{}, crashAt: -1}}
}

// WithSyncAll declares Capabilities.SyncAll even if the base archive has
// none, so that the engine takes its batched path (stage all, one
// SyncAll, rename all, one SyncAll). It calls the base's SyncAll if any.
func (f *Fs) WithSyncAll() *Fs {
	f.mu.Lock()
	f.syncAll = true
	f.mu.Unlock()
	return f
}

// CrashAfter makes the first n changes (creates, writes, renames, removes,
// mkdirs, chmods) happen and every later one fail with ErrCrashed without
// effect, as if the process had been killed after the nth change. The
// change at which the crash strikes, if a write, is torn: half of its bytes
// are written. Reads keep working, so the run can go on to its end.
func (f *Fs) CrashAfter(n int) *Fs {
	f.mu.Lock()
	f.crashAt = n
	f.mu.Unlock()
	return f
}

// Crashed reports whether the simulated crash struck.
func (f *Fs) Crashed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crashed
}

// Changes is the number of changes that reached the base Fs: after a run
// without faults, the number of crash points CrashAfter can choose from.
func (f *Fs) Changes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changes
}

// Calls returns every call so far, in order.
func (f *Fs) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// Injected returns the calls that were made to fail.
func (f *Fs) Injected() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.injected...)
}

// verdict is what happens to one call.
type verdict struct {
	err   error // fail with this (nil: go ahead)
	short bool  // write: write half, then return err (possibly nil)
}

// check records a call and decides its fate.
func (f *Fs) check(op Op, name string) verdict {
	name = clean(name)
	f.mu.Lock()
	defer f.mu.Unlock()
	key := Call{Op: op, Name: name}
	f.perName[key]++
	c := Call{Op: op, Name: name, N: f.perName[key]}
	f.calls = append(f.calls, c)
	for i, ft := range f.faults {
		if !ft.matches(op, name) {
			continue
		}
		f.hits[i]++
		if ft.Nth == 0 || ft.Nth == f.hits[i] {
			f.injected = append(f.injected, c)
			err := ft.Err
			if err == nil && !ft.Short {
				err = EIO
			}
			return verdict{err: err, short: ft.Short && op == OpWrite}
		}
	}
	reading := op == OpOpen || op == OpRead || op == OpReaddir || op == OpStat
	switch {
	case f.crashed && !reading:
		// After the crash nothing reaches the disk any more: no change,
		// no Sync, no Close that could flush anything.
		f.injected = append(f.injected, c)
		return verdict{err: ErrCrashed}
	case !mutating[op]:
	case f.crashAt >= 0 && f.changes >= f.crashAt:
		f.crashed = true
		f.injected = append(f.injected, c)
		return verdict{err: ErrCrashed, short: op == OpWrite}
	default:
		f.changes++
	}
	return verdict{}
}

func clean(name string) string {
	name = strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(name, `\`, "/")), "/")
	if name == "" {
		return "."
	}
	return name
}

func pathErr(op Op, name string, err error) error {
	return &os.PathError{Op: string(op), Path: name, Err: err}
}

// Name implements afero.Fs.
func (f *Fs) Name() string { return "faultfs(" + f.base.Name() + ")" }

// Create implements afero.Fs.
func (f *Fs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// Open implements afero.Fs.
func (f *Fs) Open(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile implements afero.Fs.
func (f *Fs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	op := OpOpen
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		op = OpCreate
	}
	if v := f.check(op, name); v.err != nil {
		return nil, pathErr(op, name, v.err)
	}
	file, err := f.base.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &File{File: file, fs: f, name: name}, nil
}

// Mkdir implements afero.Fs.
func (f *Fs) Mkdir(name string, perm os.FileMode) error {
	if v := f.check(OpMkdir, name); v.err != nil {
		return pathErr(OpMkdir, name, v.err)
	}
	return f.base.Mkdir(name, perm)
}

// MkdirAll implements afero.Fs.
func (f *Fs) MkdirAll(name string, perm os.FileMode) error {
	if v := f.check(OpMkdir, name); v.err != nil {
		return pathErr(OpMkdir, name, v.err)
	}
	return f.base.MkdirAll(name, perm)
}

// Remove implements afero.Fs.
func (f *Fs) Remove(name string) error {
	if v := f.check(OpRemove, name); v.err != nil {
		return pathErr(OpRemove, name, v.err)
	}
	return f.base.Remove(name)
}

// RemoveAll implements afero.Fs.
func (f *Fs) RemoveAll(name string) error {
	if v := f.check(OpRemove, name); v.err != nil {
		return pathErr(OpRemove, name, v.err)
	}
	return f.base.RemoveAll(name)
}

// Rename implements afero.Fs; faults match the new name.
func (f *Fs) Rename(oldname, newname string) error {
	if v := f.check(OpRename, newname); v.err != nil {
		return &os.LinkError{Op: string(OpRename), Old: oldname, New: newname, Err: v.err}
	}
	return f.base.Rename(oldname, newname)
}

// Stat implements afero.Fs.
func (f *Fs) Stat(name string) (os.FileInfo, error) {
	if v := f.check(OpStat, name); v.err != nil {
		return nil, pathErr(OpStat, name, v.err)
	}
	return f.base.Stat(name)
}

// Chmod implements afero.Fs.
func (f *Fs) Chmod(name string, mode os.FileMode) error {
	if v := f.check(OpChmod, name); v.err != nil {
		return pathErr(OpChmod, name, v.err)
	}
	return f.base.Chmod(name, mode)
}

// Chown implements afero.Fs.
func (f *Fs) Chown(name string, uid, gid int) error {
	if v := f.check(OpChmod, name); v.err != nil {
		return pathErr(OpChmod, name, v.err)
	}
	return f.base.Chown(name, uid, gid)
}

// Chtimes implements afero.Fs.
func (f *Fs) Chtimes(name string, atime, mtime time.Time) error {
	if v := f.check(OpChmod, name); v.err != nil {
		return pathErr(OpChmod, name, v.err)
	}
	return f.base.Chtimes(name, atime, mtime)
}

// File is a file opened through Fs.
type File struct {
	afero.File
	fs   *Fs
	name string
}

// Read implements afero.File.
func (f *File) Read(p []byte) (int, error) {
	if v := f.fs.check(OpRead, f.name); v.err != nil {
		return 0, pathErr(OpRead, f.name, v.err)
	}
	return f.File.Read(p)
}

// ReadAt implements afero.File.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if v := f.fs.check(OpRead, f.name); v.err != nil {
		return 0, pathErr(OpRead, f.name, v.err)
	}
	return f.File.ReadAt(p, off)
}

// Write implements afero.File.
func (f *File) Write(p []byte) (int, error) {
	v := f.fs.check(OpWrite, f.name)
	if v.short {
		n, err := f.File.Write(p[:len(p)/2])
		if err != nil {
			return n, err
		}
		if v.err != nil {
			return n, pathErr(OpWrite, f.name, v.err)
		}
		return n, nil
	}
	if v.err != nil {
		return 0, pathErr(OpWrite, f.name, v.err)
	}
	return f.File.Write(p)
}

// WriteAt implements afero.File.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if v := f.fs.check(OpWrite, f.name); v.err != nil {
		return 0, pathErr(OpWrite, f.name, v.err)
	}
	return f.File.WriteAt(p, off)
}

// WriteString implements afero.File.
func (f *File) WriteString(s string) (int, error) { return f.Write([]byte(s)) }

// Truncate implements afero.File (as a write).
func (f *File) Truncate(size int64) error {
	if v := f.fs.check(OpWrite, f.name); v.err != nil {
		return pathErr(OpWrite, f.name, v.err)
	}
	return f.File.Truncate(size)
}

// Sync implements afero.File.
func (f *File) Sync() error {
	if v := f.fs.check(OpSync, f.name); v.err != nil {
		return pathErr(OpSync, f.name, v.err)
	}
	return f.File.Sync()
}

// Close implements afero.File. The file is closed even when the call is
// made to fail, as a kernel does.
func (f *File) Close() error {
	v := f.fs.check(OpClose, f.name)
	err := f.File.Close()
	if v.err != nil {
		return pathErr(OpClose, f.name, v.err)
	}
	return err
}

// Readdir implements afero.File.
func (f *File) Readdir(n int) ([]os.FileInfo, error) {
	if v := f.fs.check(OpReaddir, f.name); v.err != nil {
		return nil, pathErr(OpReaddir, f.name, v.err)
	}
	return f.File.Readdir(n)
}

// Readdirnames implements afero.File.
func (f *File) Readdirnames(n int) ([]string, error) {
	if v := f.fs.check(OpReaddir, f.name); v.err != nil {
		return nil, pathErr(OpReaddir, f.name, v.err)
	}
	return f.File.Readdirnames(n)
}

// Copy copies every directory and regular file of src into dst (a fresh
// archive for each run of a fault loop).
func Copy(dst, src afero.Fs) error {
	return afero.Walk(src, "/", func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return dst.MkdirAll(p, fi.Mode().Perm())
		}
		in, err := src.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := dst.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
