package objtest

import (
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// Version is one stored version of a key, or a delete marker.
type Version struct {
	ID           string
	Data         []byte // nil for a delete marker
	ModTime      time.Time
	RetainUntil  time.Time // zero: no retention
	DeleteMarker bool
	Current      bool // what reads and listings see
}

// Versions returns every version of name, oldest first: what a client
// with the bucket's credentials can read by version ID.
func (s *Store) Versions(name string) []Version {
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Version, 0, len(s.older[k])+1)
	for _, v := range s.older[k] {
		v.Data = slices.Clone(v.Data)
		out = append(out, v)
	}
	if m, ok := s.meta[k]; ok {
		data, _ := afero.ReadFile(s.mem, k)
		out = append(out, Version{ID: m.version, Data: data, ModTime: m.modTime, RetainUntil: m.retain, Current: true})
	} else if n := len(out); n > 0 {
		out[n-1].Current = out[n-1].DeleteMarker
	}
	return out
}

// DeleteVersion deletes one version of name by its ID, as a DELETE with a
// versionId does: refused (fs.ErrPermission, "Access Denied") while the
// version is retained by the store's clock. Deleting the current version
// makes the newest older one current, if it is no delete marker.
func (s *Store) DeleteVersion(name, id string) error {
	k := key(name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes.Add(1)
	if m, ok := s.meta[k]; ok && m.version == id {
		if s.now().Before(m.retain) {
			return denied("remove", name, m.retain)
		}
		if err := s.mem.Remove(k); err != nil {
			return err
		}
		delete(s.meta, k)
		err := s.promoteLocked(k)
		s.pruneDirsLocked(path.Dir(k))
		return err
	}
	vs := s.older[k]
	i := slices.IndexFunc(vs, func(v Version) bool { return v.ID == id })
	if i < 0 {
		return &os.PathError{Op: "remove", Path: name, Err: fmt.Errorf("Version %s: %w", id, iofs.ErrNotExist)}
	}
	if s.now().Before(vs[i].RetainUntil) {
		return denied("remove", name, vs[i].RetainUntil)
	}
	s.older[k] = slices.Delete(vs, i, i+1)
	if _, ok := s.meta[k]; !ok && i == len(vs)-1 {
		return s.promoteLocked(k) // the newest, a delete marker or not, went
	}
	return nil
}

// promoteLocked makes k's newest older version current when it is no
// delete marker (k has no current version).
func (s *Store) promoteLocked(k string) error {
	vs := s.older[k]
	if len(vs) == 0 || vs[len(vs)-1].DeleteMarker {
		return nil
	}
	v := vs[len(vs)-1]
	if err := s.mem.MkdirAll(path.Dir(k), 0o755); err != nil {
		return err
	}
	if err := afero.WriteFile(s.mem, k, v.Data, 0o644); err != nil {
		return err
	}
	s.older[k] = vs[:len(vs)-1]
	s.meta[k] = objMeta{hash: Hash(v.Data), modTime: v.ModTime, version: v.ID, retain: v.RetainUntil}
	return nil
}

// Hidden lists the keys below prefix with a version that is still
// retained (by the store's clock) but no longer current: overwritten or
// deleted while retained. Its bytes are safe, yet nothing that reads the
// archive sees them any more, only a client asking for old versions.
func (s *Store) Hidden(prefix string) []string {
	p := key(prefix)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []string
	for k, vs := range s.older {
		if p != "" && k != p && !strings.HasPrefix(k, p+"/") {
			continue
		}
		if slices.ContainsFunc(vs, func(v Version) bool { return now.Before(v.RetainUntil) }) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
