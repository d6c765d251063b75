package history

import (
	"context"
	"slices"
)

// walk visits every generation oldest first with its full entry list,
// loading each from the one before when it is a delta of it (one read per
// generation instead of a whole chain). A generation that cannot be loaded
// is passed with its error (and g nil if its file is unreadable); fn
// decides whether to go on.
//
// id is the generation's identity (chain.go), proven from its entries.
func (s *Store) walk(ctx context.Context, l *listing, fn func(ref genRef, g *genFile, entries []Entry, id Hash, err error) error) error {
	var (
		prevSeq uint64
		prev    []Entry
		prevOK  bool
	)
	for _, ref := range slices.Clone(l.gens) {
		if err := ctx.Err(); err != nil {
			return err
		}
		g, ref, err := s.readGenL(ctx, l, ref)
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
		var id Hash
		if err == nil {
			id, err = proveEntries(ref, g, entries)
		}
		prevSeq, prev, prevOK = ref.seq, entries, err == nil
		if err := fn(ref, g, entries, id, err); err != nil {
			return err
		}
	}
	return nil
}
