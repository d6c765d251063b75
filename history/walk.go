package history

import "context"

// walk visits every generation oldest first with its full entry list,
// loading each from the one before when it is a delta of it (one read per
// generation instead of a whole chain). A generation that cannot be loaded
// is passed with its error (and g nil if its file is unreadable); fn
// decides whether to go on.
func (s *Store) walk(ctx context.Context, l *listing, fn func(ref genRef, g *genFile, entries []Entry, err error) error) error {
	var (
		prevSeq uint64
		prev    []Entry
		prevOK  bool
	)
	for _, ref := range l.gens {
		if err := ctx.Err(); err != nil {
			return err
		}
		g, err := s.readGen(ctx, ref)
		var entries []Entry
		switch {
		case err != nil:
		case g.full():
			entries = g.Upserts
		case prevOK && g.Parent == prevSeq:
			entries = applyDelta(prev, g.Upserts, g.Deleted)
		default:
			var snap *Snapshot
			if snap, _, err = s.load(ctx, l, ref); err == nil {
				entries = snap.Entries
			}
		}
		if err == nil && len(entries) != g.Records {
			err = &FileError{Path: ref.file, Err: errorf(nil, "ergibt %d Einträge statt %d (Kette beschädigt)", len(entries), g.Records)}
		}
		prevSeq, prev, prevOK = ref.seq, entries, err == nil
		if err := fn(ref, g, entries, err); err != nil {
			return err
		}
	}
	return nil
}
