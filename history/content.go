package history

import (
	"cmp"
	"context"
	"errors"
	"slices"
)

// ErrContentMissing is wrapped when a content a generation refers to is in
// no pack (see Check).
var ErrContentMissing = errors.New("Inhalt fehlt")

// readPack reads one pack file of generation seq and calls fn for each of
// its contents, each verified against its SHA-256.
func (s *Store) readPack(ctx context.Context, seq uint64, p packRef, fn func(h Hash, data []byte) error) error {
	data, err := s.arch.ReadFile(ctx, p.file, maxPackFile)
	if err != nil && !isNotExist(err) {
		return &FileError{Path: p.file, Op: "lesen", Err: err}
	}
	proves := func(d []byte) error {
		if len(d) > maxPackFile {
			return errors.New("Datei ist zu groß")
		}
		return decodePack(d, seq, p.id, func(Hash, []byte) error { return nil })
	}
	if err != nil || proves(data) != nil {
		// The current version is gone or does not prove itself: on a
		// store that keeps versions, the newest one that does.
		var old []byte
		if s.fromVersion(ctx, p.file, maxPackFile, func(d []byte) error {
			if err := proves(d); err != nil {
				return err
			}
			old = d
			return nil
		}) {
			data, err = old, nil
		}
	}
	if err != nil {
		return &FileError{Path: p.file, Op: "lesen", Err: err}
	}
	if len(data) > maxPackFile {
		return &FileError{Path: p.file, Err: errors.New("Datei ist zu groß")}
	}
	var stop stopErr
	if err := decodePack(data, seq, p.id, fn); err != nil {
		if errors.As(err, &stop) {
			return stop.err
		}
		return &FileError{Path: p.file, Err: err}
	}
	return nil
}

// packPath names the pack of seq in messages: its file, or what it would
// be called in format 1 when it is missing.
func (l *listing) packPath(seq uint64) string {
	if ps := l.packs[seq]; len(ps) > 0 {
		return ps[0].file
	}
	return packDir + "/" + fmtSeq(seq) + "-….pack"
}

// stopErr carries a callback's own error out of decodePack unchanged.
type stopErr struct{ err error }

func (e stopErr) Error() string { return e.err.Error() }

// Contents calls fn with the data.csv bytes of every entry, reading each
// pack once (restore --at). The bytes are verified against the entry's
// hash; fn must not keep data. A content that is missing is an error naming
// the pack and the record.
func (s *Store) Contents(ctx context.Context, entries []Entry, fn func(e Entry, data []byte) error) error {
	l, err := s.scan(ctx)
	if err != nil {
		return err
	}
	return s.contents(ctx, l, entries, fn)
}

func (s *Store) contents(ctx context.Context, l *listing, entries []Entry, fn func(e Entry, data []byte) error) error {
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
		// A pack a forget was rewriting can have two files; each proves
		// itself, and a content counts once.
		var firstErr error
		for _, pr := range l.packs[p] {
			err := s.readPack(ctx, p, pr, func(h Hash, data []byte) error {
				for _, e := range want[h] {
					if int64(len(data)) != e.Size {
						return stopErr{&FileError{Path: pr.file,
							Err: errorf(nil, "Inhalt %s von record_id %d hat %d statt %d Bytes", h, e.RecordID, len(data), e.Size)}}
					}
					if err := fn(e, data); err != nil {
						return stopErr{err}
					}
				}
				delete(want, h)
				return nil
			})
			if err != nil && firstErr == nil {
				firstErr = err
			}
			if len(want) == 0 {
				break
			}
		}
		if len(want) == 0 {
			continue
		}
		if firstErr != nil {
			return firstErr
		}
		missing := slices.SortedFunc(func(yield func(Entry) bool) {
			for _, es := range want {
				for _, e := range es {
					if !yield(e) {
						return
					}
				}
			}
		}, func(a, b Entry) int { return cmp.Compare(a.RecordID, b.RecordID) })
		return &FileError{Path: l.packPath(p), Err: errorf(ErrContentMissing,
			"Inhalt %s von record_id %d (%s) fehlt", missing[0].Hash, missing[0].RecordID, missing[0].Folder)}
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
		for _, pr := range l.packs[p] {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			err := s.readPack(ctx, p, pr, func(got Hash, data []byte) error {
				if got == h {
					out = slices.Clone(data)
					return stopErr{found}
				}
				return nil
			})
			if errors.Is(err, found) {
				return out, nil
			}
			// A damaged pack may not be the one that holds h: keep
			// looking, Check reports the damage.
		}
	}
	return nil, errorf(ErrContentMissing, "Historie: Inhalt %s ist in keinem Pack vorhanden", h)
}
