package history

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Point names one end of a comparison (history --changes): generation Seq,
// else the last generation at or before Time (as At chooses it), else,
// the zero Point, the default of its end.
type Point struct {
	Seq  uint64
	Time time.Time
}

func (p Point) zero() bool { return p.Seq == 0 && p.Time.IsZero() }

// OrderChange is one record that differs between two generations: added
// (Old zero), removed (New zero) or changed (both, and the fields of its
// data.csv that differ, old → new, as FieldChanges gives them).
type OrderChange struct {
	Old, New Entry
	Fields   []FieldChange
}

// ChangeList is what turned generation From into generation To, each list
// sorted by record_id.
type ChangeList struct {
	From, To                GenerationInfo
	Added, Changed, Removed []OrderChange
	// PDFs are the records in both whose PDF is another (Old.PDF →
	// New.PDF), whether or not their row changed too.
	PDFs []OrderChange
}

// ErrTooFew: the history has fewer than two generations to compare.
var ErrTooFew = errors.New("noch keine zwei Generationen")

// EndError: an end of a comparison names no generation (an unknown
// number, no generation at or before the time, an ambiguous time), or
// from comes after to. From and To say which end is meant (both: the
// order of the two).
type EndError struct {
	From, To bool
	Err      error
}

func (e *EndError) Error() string { return e.Err.Error() }
func (e *EndError) Unwrap() error { return e.Err }

// contentBatch bounds the bytes of older contents Changes holds at once
// while it compares the fields of changed records.
const contentBatch = 16 << 20

// Changes compares generation from with generation to: the records added,
// changed (another backup: content, folder, order number or schema) and
// removed. The zero to is the newest generation, the zero from the one
// before to. The two snapshots are compared by walking both entry lists,
// sorted by record_id, side by side; contents are read only for changed
// records, both versions of each, a pack at a time (in batches of at most
// contentBatch bytes of older contents), to name the fields that differ.
func (s *Store) Changes(ctx context.Context, from, to Point) (*ChangeList, error) {
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	if len(l.gens) < 2 {
		return nil, errorf(ErrTooFew, "Historie: noch keine zwei Generationen (%d vorhanden), nichts zu vergleichen", len(l.gens))
	}
	toRef, err := l.point(to, true)
	if err != nil {
		return nil, &EndError{To: true, Err: err}
	}
	var fromRef genRef
	if from.zero() {
		i, _ := slices.BinarySearchFunc(l.gens, toRef.seq, func(r genRef, seq uint64) int { return cmp.Compare(r.seq, seq) })
		if i == 0 {
			return nil, &EndError{To: true, Err: errorf(ErrNotFound,
				"Historie: vor Generation %d gibt es keine, mit der sie verglichen werden kann", toRef.seq)}
		}
		fromRef = l.gens[i-1]
	} else if fromRef, err = l.point(from, false); err != nil {
		return nil, &EndError{From: true, Err: err}
	}
	if fromRef.seq > toRef.seq {
		return nil, &EndError{From: true, To: true, Err: fmt.Errorf(
			"Historie: Generation %d (von) ist neuer als Generation %d (bis)", fromRef.seq, toRef.seq)}
	}
	old, _, err := s.load(ctx, l, fromRef)
	if err != nil {
		return nil, err
	}
	cur := old
	if toRef.seq != fromRef.seq {
		if cur, _, err = s.load(ctx, l, toRef); err != nil {
			return nil, err
		}
	}
	out := &ChangeList{From: old.Info, To: cur.Info}
	a, b := old.Entries, cur.Entries
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i].RecordID < b[j].RecordID:
			out.Removed = append(out.Removed, OrderChange{Old: a[i]})
			i++
		case i == len(a) || b[j].RecordID < a[i].RecordID:
			out.Added = append(out.Added, OrderChange{New: b[j]})
			j++
		default:
			if !sameRecord(a[i], b[j]) {
				out.Changed = append(out.Changed, OrderChange{Old: a[i], New: b[j]})
			}
			if pdfChanged(a[i].Record, b[j].Record) {
				out.PDFs = append(out.PDFs, OrderChange{Old: a[i], New: b[j]})
			}
			i++
			j++
		}
	}
	// Only the changes are needed from here on: the snapshots are garbage.
	if err := s.changedFields(ctx, l, out.Changed); err != nil {
		return nil, err
	}
	return out, nil
}

// point finds the generation p names; the zero Point is the newest (only
// for the end "to": newest).
func (l *listing) point(p Point, newest bool) (genRef, error) {
	switch {
	case p.Seq != 0:
		ref, ok := l.find(p.Seq)
		if !ok {
			return genRef{}, errorf(ErrNotFound, "Historie: Generation %d gibt es nicht (vorhanden: %d bis %d; history zeigt die Nummern)",
				p.Seq, l.gens[0].seq, l.gens[len(l.gens)-1].seq)
		}
		return ref, nil
	case !p.Time.IsZero():
		return l.at(p.Time)
	case newest:
		ref, _ := l.head()
		return ref, nil
	}
	return genRef{}, errors.New("Historie: keine Generation angegeben")
}

// changedFields fills in the fields of every changed record: the older
// contents of a batch first, then the newer ones, compared as they come.
func (s *Store) changedFields(ctx context.Context, l *listing, changed []OrderChange) error {
	for start := 0; start < len(changed); {
		end, size := start, int64(0)
		for end < len(changed) && (end == start || size+changed[end].Old.Size <= contentBatch) {
			size += changed[end].Old.Size
			end++
		}
		batch := changed[start:end]
		var olds, news []Entry
		for _, c := range batch {
			if c.Old.Hash != c.New.Hash { // same content: no field differs
				olds = append(olds, c.Old)
				news = append(news, c.New)
			}
		}
		if len(olds) > 0 {
			prev := make(map[int64][]byte, len(olds)) // only this batch's older contents
			err := s.contents(ctx, l, olds, func(e Entry, data []byte) error {
				prev[e.RecordID] = slices.Clone(data)
				return nil
			})
			if err != nil {
				return err
			}
			err = s.contents(ctx, l, news, func(e Entry, data []byte) error {
				k, ok := slices.BinarySearchFunc(batch, e.RecordID, func(c OrderChange, id int64) int { return cmp.Compare(c.New.RecordID, id) })
				if !ok {
					return fmt.Errorf("Historie: record_id %d nicht unter den geänderten", e.RecordID)
				}
				fields, err := FieldChanges(prev[e.RecordID], data)
				if err != nil {
					return fmt.Errorf("Historie: record_id %d (%s): %w", e.RecordID, e.Folder, err)
				}
				batch[k].Fields = fields
				delete(prev, e.RecordID)
				return nil
			})
			if err != nil {
				return err
			}
		}
		start = end
	}
	return nil
}
