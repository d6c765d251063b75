package history

import (
	"fmt"

	"werkstatt-backup/atomicfile"
)

// writeFile writes data under name atomically and durably: name+".tmp",
// Sync, rename over name. The caller syncs the folder when the rename has
// to be durable before the next step.
func (s *Store) writeFile(name string, data []byte) error {
	if err := s.fence(); err != nil {
		return err
	}
	tmp := name + tmpSuffix
	if err := atomicfile.WriteFileAtomic(s.fs, s.caps, name, tmp, data, 0o644); err != nil {
		return fmt.Errorf("Historie: %w", err)
	}
	return nil
}

// syncDir makes the renames in dir durable.
func (s *Store) syncDir(dir string) error {
	if err := atomicfile.SyncDir(s.fs, s.caps, dir); err != nil {
		return fmt.Errorf("Historie: %w", err)
	}
	return nil
}

// ensureDirs creates _historie/gen and _historie/pack and makes their
// entries durable (once per archive: afterwards they exist).
func (s *Store) ensureDirs() error {
	if err := s.fence(); err != nil {
		return err
	}
	for _, d := range []string{genDir, packDir} {
		if err := s.fs.MkdirAll(d, 0o755); err != nil {
			return &FileError{Path: d, Op: "anlegen", Err: err}
		}
	}
	for _, d := range []string{".", Dir} {
		if err := s.syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// removeTemps removes temp files a crashed run left. A file that cannot be
// removed is only in the way of nothing: names never collide with them.
func (s *Store) removeTemps(l *listing) {
	for _, t := range l.temps {
		if s.fence() != nil {
			return
		}
		_ = s.fs.Remove(t)
	}
}

// remove deletes one history file; a file already gone is fine.
func (s *Store) remove(name string) error {
	if err := s.fence(); err != nil {
		return err
	}
	if err := s.fs.Remove(name); err != nil {
		if exists, serr := existsFile(s, name); serr == nil && !exists {
			return nil
		}
		return &FileError{Path: name, Op: "löschen", Err: err}
	}
	return nil
}

func existsFile(s *Store, name string) (bool, error) {
	_, err := s.fs.Stat(name)
	if err == nil {
		return true, nil
	}
	if isNotExist(err) {
		return false, nil
	}
	return false, err
}
