package mem

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// The conditional writes of the in-memory archive: each is one step under
// the filesystem's lock (every other conditional write, removal, create
// and rename waits), so they are atomic for every user of the archive.
// Content is written to a temp name in the same folder and renamed into
// place under the lock, so a reader sees the old content or the new one
// whole, never a part; the temp name is there only while the lock is
// held. A tag is the SHA-256 of the content (storage.HashTag).

// errMissing: the name of an IfMatch does not exist.
var errMissing = fmt.Errorf("%w: %w", storage.ErrChanged, iofs.ErrNotExist)

// condTemp is the temp name beside name a conditional write stores under.
func condTemp(name string) string {
	return path.Join(path.Dir(abs(name)), "."+path.Base(abs(name))+".cond-tmp")
}

func (s *strictFs) addCond(c *storage.Capabilities) {
	c.CompareAndSwap = true
	c.WriteCond = s.writeCond
	c.ReadTag = s.readTag
	c.RemoveCond = s.removeCond
}

// currentLocked reads name whole; exists is false if it does not exist.
func (s *strictFs) currentLocked(name string) (data []byte, exists bool, err error) {
	data, err = afero.ReadFile(s.Fs, name)
	switch {
	case err == nil:
		return data, true, nil
	case errors.Is(err, iofs.ErrNotExist):
		return nil, false, nil
	}
	return nil, false, err
}

// checkLocked fails unless cond holds for name.
func (s *strictFs) checkLocked(name string, cond storage.Cond) (exists bool, err error) {
	cur, exists, err := s.currentLocked(name)
	if err != nil {
		return false, err
	}
	tag, match := cond.Match()
	switch {
	case cond.Absent() && exists:
		return true, iofs.ErrExist
	case match && !exists:
		return false, errMissing
	case match && storage.HashTag(cur) != tag:
		return true, fmt.Errorf("%w (%s)", storage.ErrChanged, cond)
	}
	return exists, nil
}

func (s *strictFs) writeCond(_ context.Context, name string, data []byte, cond storage.Cond) (storage.Tag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exists, err := s.checkLocked(name, cond)
	if err == nil && !exists {
		err = s.checkParent("open", name)
	}
	if err == nil {
		tmp := condTemp(name)
		if err = afero.WriteFile(s.Fs, tmp, data, 0o644); err == nil {
			if err = s.Fs.Rename(tmp, name); err != nil {
				_ = s.Fs.Remove(tmp)
			}
		}
	}
	if err != nil {
		if _, ok := errors.AsType[*os.PathError](err); !ok {
			err = &os.PathError{Op: "open", Path: name, Err: err}
		}
		return "", err
	}
	return storage.HashTag(data), nil
}

func (s *strictFs) readTag(_ context.Context, name string, limit int64) ([]byte, storage.Tag, error) {
	s.mu.Lock()
	data, err := afero.ReadFile(s.Fs, name)
	s.mu.Unlock()
	if err != nil {
		return nil, "", err
	}
	tag := storage.HashTag(data)
	if limit >= 0 && int64(len(data)) > limit+1 {
		data = data[:limit+1]
	}
	return data, tag, nil
}

func (s *strictFs) removeCond(_ context.Context, name string, cond storage.Cond) error {
	if cond.None() {
		return s.Remove(name)
	}
	if _, ok := cond.Match(); !ok {
		return &os.PathError{Op: "remove", Path: name, Err: fmt.Errorf("Bedingung %s: %w", cond, storage.ErrUnsupported)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.checkLocked(name, cond); err != nil {
		return &os.PathError{Op: "remove", Path: name, Err: err}
	}
	return s.Fs.Remove(name)
}
