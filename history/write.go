package history

import (
	"context"
	"fmt"
	"slices"

	"werkstatt-backup/storage"
)

// syncDir makes the entries of dir durable where the store needs it.
func (s *Store) syncDir(ctx context.Context, dir string) error {
	if err := s.arch.SyncDir(ctx, dir); err != nil {
		return fmt.Errorf("Historie: %s synchronisieren: %w", dir, err)
	}
	return nil
}

// ensureDirs creates _historie/gen and _historie/pack and makes their
// entries durable (once per archive: afterwards they exist).
func (s *Store) ensureDirs(ctx context.Context) error {
	if err := s.fence(); err != nil {
		return err
	}
	for _, d := range []string{genDir, packDir} {
		if err := s.arch.MkdirAll(ctx, d); err != nil {
			return &FileError{Path: d, Op: "anlegen", Err: err}
		}
	}
	for _, d := range []string{".", Dir} {
		if err := s.syncDir(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// removeTemps removes temp files and unfinished generation files a crashed
// run left. A file that cannot be
// removed is only in the way of nothing: names never collide with them.
func (s *Store) removeTemps(ctx context.Context, l *listing) {
	for _, t := range append(slices.Clone(l.temps), l.unfinished...) {
		if s.fence() != nil {
			return
		}
		_ = s.arch.Remove(ctx, t, storage.Always)
	}
}

// remove deletes one history file; a file already gone is fine.
func (s *Store) remove(ctx context.Context, name string) error {
	if err := s.fence(); err != nil {
		return err
	}
	if err := s.arch.Remove(ctx, name, storage.Always); err != nil {
		if exists, serr := s.exists(ctx, name); serr == nil && !exists {
			return nil
		}
		return &FileError{Path: name, Op: "löschen", Err: err}
	}
	return nil
}

func (s *Store) exists(ctx context.Context, name string) (bool, error) {
	_, err := s.arch.Stat(ctx, name)
	if err == nil {
		return true, nil
	}
	if isNotExist(err) {
		return false, nil
	}
	return false, err
}
