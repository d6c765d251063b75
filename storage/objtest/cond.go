package objtest

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// The conditional writes and the versions, as S3 offers them: a PUT with
// If-None-Match: * or If-Match: <ETag>, a DELETE with If-Match, a GET
// that returns the ETag, a listing of a key's versions, a GET and a copy
// of one version. A tag is the ETag, the hex MD5 of the content (so a
// name that gets the very same content again has the same tag again, as
// on S3). Each is one step under the store's lock.

// errMissing is a failed If-Match on a key that does not exist (S3
// answers 404 NoSuchKey).
var errMissing = fmt.Errorf("%w: %w", storage.ErrChanged, iofs.ErrNotExist)

func (s *Store) condCaps(c *storage.Capabilities) {
	c.CompareAndSwap = true
	c.WriteCond = s.writeCond
	c.ReadTag = s.readTag
	c.RemoveCond = s.removeCond
	c.Versions = s.versions
	c.ReadVersion = s.readVersion
	c.RestoreVersion = s.restoreVersion
}

// writeCond is one PUT under cond; it returns the new ETag.
func (s *Store) writeCond(_ context.Context, name string, data []byte, want storage.Cond) (storage.Tag, error) {
	k := key(name)
	if k == "" {
		s.puts.Add(1)
		return "", &os.PathError{Op: "open", Path: name, Err: errIsRoot}
	}
	var c cond
	if want.Absent() {
		c.ifNoneMatch = true
	}
	if tag, ok := want.Match(); ok {
		c.ifMatchHash = string(tag)
		if tag == "" {
			c.ifMatchHash = "-" // matches nothing
		}
	}
	if _, err := s.putCond(k, data, c); err != nil {
		if errors.Is(err, errConditionFailed) {
			err = fmt.Errorf("%w (%s)", storage.ErrChanged, want)
		}
		return "", &os.PathError{Op: "open", Path: name, Err: err}
	}
	return storage.Tag(Hash(data)), nil
}

var errIsRoot = errors.New("ist ein Ordner")

// readTag is one GET: the content (its first limit+1 bytes if longer)
// and the ETag of the version read.
func (s *Store) readTag(_ context.Context, name string, limit int64) ([]byte, storage.Tag, error) {
	k := key(name)
	s.noteRead(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.meta[k]
	if !ok {
		return nil, "", &os.PathError{Op: "open", Path: name, Err: iofs.ErrNotExist}
	}
	data, err := afero.ReadFile(s.mem, k)
	if err != nil {
		return nil, "", err
	}
	if limit >= 0 && int64(len(data)) > limit+1 {
		data = data[:limit+1]
	}
	return data, storage.Tag(m.hash), nil
}

// removeCond is one DELETE: a delete marker, under If-Match its ETag
// must still be the current one's.
func (s *Store) removeCond(_ context.Context, name string, cond storage.Cond) error {
	if cond.None() {
		return s.remove(name)
	}
	tag, ok := cond.Match()
	if !ok {
		return &os.PathError{Op: "remove", Path: name, Err: fmt.Errorf("Bedingung %s: %w", cond, storage.ErrUnsupported)}
	}
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes.Add(1)
	m, exists := s.meta[k]
	switch {
	case !exists:
		return &os.PathError{Op: "remove", Path: name, Err: errMissing}
	case m.hash != string(tag):
		return &os.PathError{Op: "remove", Path: name, Err: fmt.Errorf("%w (%s)", storage.ErrChanged, cond)}
	}
	if err := s.retireLocked(k); err != nil {
		return err
	}
	s.version++
	s.older[k] = append(s.older[k], Version{ID: fmt.Sprint(s.version), DeleteMarker: true, ModTime: s.now()})
	s.pruneDirsLocked(path.Dir(k))
	return nil
}

// versions is one listing of the key's versions, newest first.
func (s *Store) versions(_ context.Context, name string) ([]storage.Version, error) {
	s.noteList(key(name))
	vs := s.Versions(name)
	out := make([]storage.Version, 0, len(vs))
	for _, v := range slices.Backward(vs) {
		sv := storage.Version{ID: v.ID, ModTime: v.ModTime, Current: v.Current,
			DeleteMarker: v.DeleteMarker, RetainUntil: v.RetainUntil}
		if !v.DeleteMarker {
			sv.Size, sv.Tag = int64(len(v.Data)), storage.Tag(Hash(v.Data))
		}
		out = append(out, sv)
	}
	return out, nil
}

// versionData returns version id of name; a delete marker or an unknown id
// is fs.ErrNotExist.
func (s *Store) versionData(name, id string) ([]byte, error) {
	for _, v := range s.Versions(name) {
		if v.ID == id && !v.DeleteMarker {
			return v.Data, nil
		}
	}
	return nil, &os.PathError{Op: "open", Path: name, Err: fmt.Errorf("Version %s: %w", id, iofs.ErrNotExist)}
}

// readVersion is one GET with a versionId.
func (s *Store) readVersion(_ context.Context, name, id string, limit int64) ([]byte, error) {
	s.noteRead(key(name))
	data, err := s.versionData(name, id)
	if err != nil {
		return nil, err
	}
	if limit >= 0 && int64(len(data)) > limit+1 {
		data = data[:limit+1]
	}
	return data, nil
}

// restoreVersion is one server-side copy of the version onto the key: a
// new current version with that content.
func (s *Store) restoreVersion(_ context.Context, name, id string) error {
	data, err := s.versionData(name, id)
	if err != nil {
		return err
	}
	return s.put(name, data)
}
