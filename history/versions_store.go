package history

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"sync"

	"werkstatt-backup/storage"
)

// On a store that keeps versions of every name (an S3 bucket with
// versioning, which Object Lock requires), overwriting or deleting a
// history file with the backup's own credentials only adds a version or a
// delete marker: the retained versions stay. A history file whose current
// version is missing or does not prove itself is read from the newest
// older version that does; Attacked names every such file, and
// RestoreVersions makes those versions current again (history repair).

// versionsRead records, per history file, the version read instead of
// the current one.
type versionsRead struct {
	mu  sync.Mutex
	ids map[string]string
}

func (v *versionsRead) add(name, id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ids == nil {
		v.ids = map[string]string{}
	}
	v.ids[name] = id
}

func (v *versionsRead) all() map[string]string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return maps.Clone(v.ids)
}

// fromVersion reads the newest version of name that is not the current
// one and that prove accepts; it reports whether there was one.
func (s *Store) fromVersion(ctx context.Context, name string, limit int64, prove func([]byte) error) bool {
	if !s.arch.Versioned() {
		return false
	}
	vs, err := s.arch.Versions(ctx, name)
	if err != nil {
		return false
	}
	for _, v := range vs { // newest first
		if v.Current || v.DeleteMarker {
			continue
		}
		data, err := s.arch.ReadVersion(ctx, name, v.ID, limit)
		if err != nil || int64(len(data)) > limit {
			continue
		}
		if prove(data) == nil {
			s.versions.add(name, v.ID)
			return true
		}
	}
	return false
}

// Attack is a history file whose current version was missing or did not
// prove itself, read from an older version.
type Attack struct {
	Path    string
	Version string // the version read instead
}

func (a Attack) String() string {
	return fmt.Sprintf("%s: aktuelle Fassung fehlt oder ist beschädigt/ersetzt, die unveränderte Version %s ist noch da", a.Path, a.Version)
}

// Attacked lists the files read from an older version so far (by this
// Store), sorted.
func (s *Store) Attacked() []Attack {
	ids := s.versions.all()
	out := make([]Attack, 0, len(ids))
	for _, name := range slices.Sorted(maps.Keys(ids)) {
		out = append(out, Attack{Path: name, Version: ids[name]})
	}
	return out
}

// RestoreVersions reads the whole history (Check) and makes every version
// it had to read instead of the current one current again (history
// repair). The caller holds the archive lock. It returns what it restored;
// Check afterwards names what is still damaged.
func (s *Store) RestoreVersions(ctx context.Context) ([]Attack, error) {
	if !s.arch.Versioned() {
		return nil, fmt.Errorf("Historie: das Archiv hält keine Versionen (%w)", storage.ErrUnsupported)
	}
	if _, err := s.Check(ctx); err != nil {
		return nil, err
	}
	var done []Attack
	for _, a := range s.Attacked() {
		if err := s.fence(); err != nil {
			return done, err
		}
		if err := s.arch.RestoreVersion(ctx, a.Path, a.Version); err != nil {
			return done, &FileError{Path: a.Path, Op: "Version " + a.Version + " wiederherstellen", Err: err}
		}
		done = append(done, a)
	}
	s.versions = &versionsRead{}
	if len(done) > 0 {
		// A copy made current is a new version: retained only by the
		// bucket's default, if at all. Retain it as long as the
		// generations that need it ask, as Commit would have.
		if err := s.retainShort(ctx); err != nil {
			return done, err
		}
	}
	return done, nil
}

// retainShort retains every history file held for less than a generation
// that needs it asks (CheckLock's Short) until that end; nothing without
// Object Lock.
func (s *Store) retainShort(ctx context.Context) error {
	st, err := s.CheckLock(ctx)
	if err != nil || st == nil {
		return err
	}
	for _, sh := range st.Short {
		if err := s.fence(); err != nil {
			return err
		}
		if err := s.arch.Retain(ctx, sh.Path, sh.Required); err != nil {
			return &FileError{Path: sh.Path, Op: "sperren", Err: err}
		}
	}
	return nil
}

// recoverDeleted finds, on a store that keeps versions, the generations
// whose names were deleted (a DELETE only adds a delete marker): from the
// head marker (its newest version that proves itself) along each
// generation's link to the file of the one before it, as long as the
// listing lacks them (the newest may be there: an export after the
// deletion), and the packs each names. Where the head marker's Links
// name another file of a generation or pack (forget rewrote or repacked
// it), that file is taken: the walk stops where forget cut the history
// and never reads what forget removed on purpose. Reading them goes to
// their versions (readGen, readPack), which names them as attacked.
func (s *Store) recoverDeleted(ctx context.Context, l *listing) {
	if !s.arch.Versioned() {
		return
	}
	hd, ok, err := s.readHead(ctx)
	if err != nil || !ok {
		return
	}
	l.genLinks, l.packLinks = map[uint64]string{}, map[uint64][]packRef{}
	for _, f := range hd.Links {
		switch path.Dir(f) {
		case genDir:
			if seq, _, _, ok := parseGenName(path.Base(f)); ok {
				l.genLinks[seq] = f
			}
		case packDir:
			if seq, id, ok := parsePackName(path.Base(f)); ok {
				l.packLinks[seq] = append(l.packLinks[seq], packRef{id: id, file: f})
			}
		}
	}
	for name, first := hd.File, true; name != "" && ctx.Err() == nil; first = false {
		seq, _, _, ok := parseGenName(path.Base(name))
		if !ok || path.Dir(name) != genDir {
			return
		}
		if f, ok := l.genLinks[seq]; ok {
			// forget rewrote it: the file it wrote, whose link leads to
			// the generation kept before it (the one named leads to
			// generations forget removed)
			name = f
		}
		seq, t, id, ok := parseGenName(path.Base(name))
		if !ok {
			return
		}
		ref := genRef{seq: seq, archiveTime: t, id: id, file: name}
		if present, ok := l.find(seq); ok {
			if !first {
				return
			}
			// The newest is there (an export after the deletion): the
			// ones before it may still be gone.
			g, err := s.readGen(ctx, present)
			if err != nil {
				return
			}
			name = g.PrevFile
			continue
		}
		g, err := s.readGen(ctx, ref)
		if err != nil {
			return
		}
		l.insert(ref)
		l.addPacks(g.Packs)
		name = g.PrevFile
	}
}
