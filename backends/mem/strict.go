package mem

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/spf13/afero"
)

var _ afero.Fs = (*strictFs)(nil)

// strictFs makes afero's MemMapFs behave like a real filesystem where the
// storage contract (storage/storagetest) needs it. The embedded Fs is a MemMapFs
// behind BasePathFs "/", which turns every name into one absolute key
// (MemMapFs alone keeps "a/b" and "/a/b" as two different files).
// MemMapFs itself
//   - checks O_EXCL and creates in two separate critical sections, so two
//     concurrent exclusive creates can both succeed;
//   - creates missing parent directories on create, Mkdir and Rename;
//   - turns a file into a directory on MkdirAll below it;
//   - removes a non-empty directory, leaving its children reachable.
//
// Every change of the namespace goes through mu, so the checks below and
// the change they guard happen as one step.
type strictFs struct {
	afero.Fs
	mu sync.Mutex
}

func (s *strictFs) Name() string { return "mem" }

func (s *strictFs) Create(name string) (afero.File, error) {
	return s.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (s *strictFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&os.O_CREATE == 0 {
		return s.Fs.OpenFile(name, flag, perm)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.Fs.Stat(name)
	switch {
	case err == nil && flag&os.O_EXCL != 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: iofs.ErrExist}
	case errors.Is(err, iofs.ErrNotExist):
		if err := s.checkParent("open", name); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}
	return s.Fs.OpenFile(name, flag, perm)
}

func (s *strictFs) Mkdir(name string, perm os.FileMode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.checkParent("mkdir", name); err != nil {
		return err
	}
	return s.Fs.Mkdir(name, perm)
}

func (s *strictFs) MkdirAll(name string, perm os.FileMode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The nearest existing ancestor (or name itself) must be a directory.
	for p := abs(name); ; p = filepath.Dir(p) {
		fi, err := s.Fs.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				return &os.PathError{Op: "mkdir", Path: p, Err: syscall.ENOTDIR}
			}
			break
		}
		if !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	return s.Fs.MkdirAll(name, perm)
}

func (s *strictFs) Remove(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fi, err := s.Fs.Stat(name); err == nil && fi.IsDir() {
		f, err := s.Fs.Open(name)
		if err != nil {
			return err
		}
		children, err := f.Readdirnames(1)
		_ = f.Close()
		if err != nil && err != io.EOF {
			return err
		}
		if len(children) > 0 {
			return &os.PathError{Op: "remove", Path: name, Err: syscall.ENOTEMPTY}
		}
	}
	return s.Fs.Remove(name)
}

func (s *strictFs) RemoveAll(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Fs.RemoveAll(name)
}

func (s *strictFs) Rename(oldname, newname string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.Fs.Stat(oldname); err != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: iofs.ErrNotExist}
	}
	if err := s.checkParent("rename", newname); err != nil {
		return err
	}
	// MemMapFs would drop a directory's entries when replacing it; a real
	// filesystem replaces only an empty one, which nothing here needs.
	if fi, err := s.Fs.Stat(newname); err == nil && fi.IsDir() && abs(oldname) != abs(newname) {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EEXIST}
	}
	return s.Fs.Rename(oldname, newname)
}

// checkParent fails unless the parent directory of name exists.
func (s *strictFs) checkParent(op, name string) error {
	fi, err := s.Fs.Stat(filepath.Dir(abs(name)))
	if errors.Is(err, iofs.ErrNotExist) {
		return &os.PathError{Op: op, Path: name, Err: iofs.ErrNotExist}
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &os.PathError{Op: op, Path: name, Err: syscall.ENOTDIR}
	}
	return nil
}

// abs returns name as the absolute, clean key the BasePathFs uses.
func abs(name string) string {
	return filepath.Join(string(filepath.Separator), name)
}
