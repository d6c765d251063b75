package history

import (
	"cmp"
	"context"
	"errors"
	"path"
	"slices"
)

// ErrContentMissing is wrapped when a content a generation refers to is in
// no pack (see Check).
var ErrContentMissing = errors.New("Inhalt fehlt")

// readPack reads pack seq and calls fn for each of its contents, each
// verified against its SHA-256.
func (s *Store) readPack(ctx context.Context, seq uint64, fn func(h Hash, data []byte) error) error {
	name := path.Join(packDir, packName(seq))
	data, err := s.arch.ReadFile(ctx, name, maxPackFile)
	if err != nil {
		return &FileError{Path: name, Op: "lesen", Err: err}
	}
	if len(data) > maxPackFile {
		return &FileError{Path: name, Err: errors.New("Datei ist zu groß")}
	}
	var stop stopErr
	if err := decodePack(data, fn); err != nil {
		if errors.As(err, &stop) {
			return stop.err
		}
		return &FileError{Path: name, Err: err}
	}
	return nil
}

// stopErr carries a callback's own error out of decodePack unchanged.
type stopErr struct{ err error }

func (e stopErr) Error() string { return e.err.Error() }

// Contents calls fn with the data.csv bytes of every entry, reading each
// pack once (restore --at). The bytes are verified against the entry's
// hash; fn must not keep data. A content that is missing is an error naming
// the pack and the record.
func (s *Store) Contents(ctx context.Context, entries []Entry, fn func(e Entry, data []byte) error) error {
	byPack := map[uint64][]Entry{}
	for _, e := range entries {
		byPack[e.Pack] = append(byPack[e.Pack], e)
	}
	packs := slices.Sorted(func(yield func(uint64) bool) {
		for p := range byPack {
			if !yield(p) {
				return
			}
		}
	})
	for _, p := range packs {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := map[Hash][]Entry{}
		for _, e := range byPack[p] {
			want[e.Hash] = append(want[e.Hash], e)
		}
		err := s.readPack(ctx, p, func(h Hash, data []byte) error {
			for _, e := range want[h] {
				if int64(len(data)) != e.Size {
					return stopErr{&FileError{Path: path.Join(packDir, packName(p)),
						Err: errorf(nil, "Inhalt %s von record_id %d hat %d statt %d Bytes", h, e.RecordID, len(data), e.Size)}}
				}
				if err := fn(e, data); err != nil {
					return stopErr{err}
				}
			}
			delete(want, h)
			return nil
		})
		if err != nil {
			return err
		}
		if len(want) > 0 {
			missing := slices.SortedFunc(func(yield func(Entry) bool) {
				for _, es := range want {
					for _, e := range es {
						if !yield(e) {
							return
						}
					}
				}
			}, func(a, b Entry) int { return cmp.Compare(a.RecordID, b.RecordID) })
			return &FileError{Path: path.Join(packDir, packName(p)), Err: errorf(ErrContentMissing,
				"Inhalt %s von record_id %d (%s) fehlt", missing[0].Hash, missing[0].RecordID, missing[0].Folder)}
		}
	}
	return nil
}

// ReadEntry returns the data.csv bytes of one entry, verified.
func (s *Store) ReadEntry(ctx context.Context, e Entry) ([]byte, error) {
	var out []byte
	err := s.Contents(ctx, []Entry{e}, func(_ Entry, data []byte) error {
		out = slices.Clone(data)
		return nil
	})
	return out, err
}

// Content returns the content with hash h from whichever pack holds it,
// newest pack first, verified against h.
func (s *Store) Content(ctx context.Context, h Hash) ([]byte, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	seqs := make([]uint64, 0, len(l.packs))
	for p := range l.packs {
		seqs = append(seqs, p)
	}
	slices.Sort(seqs)
	var out []byte
	found := errors.New("found")
	for _, p := range slices.Backward(seqs) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := s.readPack(ctx, p, func(got Hash, data []byte) error {
			if got == h {
				out = slices.Clone(data)
				return stopErr{found}
			}
			return nil
		})
		if errors.Is(err, found) {
			return out, nil
		}
		// A damaged pack may not be the one that holds h: keep looking,
		// Check reports the damage.
	}
	return nil, errorf(ErrContentMissing, "Historie: Inhalt %s ist in keinem Pack vorhanden", h)
}
