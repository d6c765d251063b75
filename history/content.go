package history

import (
	"bytes"
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
	// The entries are grouped by pack and found by hash through one sorted
	// slice of their positions: no copy of them in maps (for 100,000
	// orders that was some 30 MB at restore --at's peak).
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(entries[a].Pack, entries[b].Pack); c != 0 {
			return c
		}
		if c := bytes.Compare(entries[a].Hash[:], entries[b].Hash[:]); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // entries of one content in their order
	})
	for start := 0; start < len(order); {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := entries[order[start]].Pack
		end := start + 1
		for end < len(order) && entries[order[end]].Pack == p {
			end++
		}
		if err := s.packContents(ctx, l, p, entries, order[start:end], fn); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// packContents calls fn for the entries at the positions group (sorted by
// hash) whose contents pack p holds. A pack a forget was rewriting can
// have two files; each proves itself, and a content counts once.
func (s *Store) packContents(ctx context.Context, l *listing, p uint64, entries []Entry, group []int, fn func(e Entry, data []byte) error) error {
	done := make([]bool, len(group))
	left := len(group)
	var firstErr error
	for _, pr := range l.packs[p] {
		err := s.readPack(ctx, p, pr, func(h Hash, data []byte) error {
			i, _ := slices.BinarySearchFunc(group, h, func(k int, h Hash) int { return bytes.Compare(entries[k].Hash[:], h[:]) })
			for ; i < len(group) && entries[group[i]].Hash == h && !done[i]; i++ {
				e := entries[group[i]]
				if int64(len(data)) != e.Size {
					return stopErr{&FileError{Path: pr.file,
						Err: errorf(nil, "Inhalt %s von record_id %d hat %d statt %d Bytes", h, e.RecordID, len(data), e.Size)}}
				}
				if err := fn(e, data); err != nil {
					return stopErr{err}
				}
				done[i] = true
				left--
			}
			return nil
		})
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if left == 0 {
			return nil
		}
	}
	if firstErr != nil {
		return firstErr
	}
	var missing *Entry
	for i, k := range group {
		if !done[i] && (missing == nil || entries[k].RecordID < missing.RecordID) {
			missing = &entries[k]
		}
	}
	return &FileError{Path: l.packPath(p), Err: errorf(ErrContentMissing,
		"Inhalt %s von record_id %d (%s) fehlt", missing.Hash, missing.RecordID, missing.Folder)}
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
