package history

import (
	"context"
	"fmt"
	"slices"
)

// Selector picks the records Versions follows: by record_id, or every
// record with an auftrag_nr (an order number can have had several records).
type Selector struct {
	RecordID  int64
	AuftragNr string
}

func (sel Selector) match(e Entry) bool {
	if sel.AuftragNr != "" {
		return e.AuftragNr == sel.AuftragNr
	}
	return e.RecordID == sel.RecordID
}

// Version is one state of a record: from generation Info on it was Entry
// (or, with Removed, no longer there).
type Version struct {
	Info    GenerationInfo
	Entry   Entry
	Removed bool
}

// Versions lists, oldest first, every generation in which a selected
// record first appeared, got another backup, or disappeared. With the
// contents (ReadEntry) of two successive versions a caller shows which
// fields changed. A damaged generation is an error naming it.
func (s *Store) Versions(ctx context.Context, sel Selector) ([]Version, error) {
	if sel.AuftragNr == "" && sel.RecordID <= 0 {
		return nil, fmt.Errorf("Historie: weder record_id noch auftrag_nr angegeben")
	}
	l, err := s.scan(ctx)
	if err != nil {
		return nil, err
	}
	var out []Version
	last := map[int64]Entry{} // current state of each followed record
	err = s.walk(ctx, l, func(ref genRef, g *genFile, entries []Entry, _ Hash, err error) error {
		if err != nil {
			return err
		}
		info := ref.info(g)
		present := map[int64]bool{}
		for _, e := range entries {
			if !sel.match(e) {
				continue
			}
			present[e.RecordID] = true
			if old, ok := last[e.RecordID]; !ok || !sameRecord(old, e) {
				out = append(out, Version{Info: info, Entry: e})
			}
			last[e.RecordID] = e
		}
		gone := slices.Sorted(func(yield func(int64) bool) {
			for id := range last {
				if !present[id] && !yield(id) {
					return
				}
			}
		})
		for _, id := range gone {
			out = append(out, Version{Info: info, Entry: last[id], Removed: true})
			delete(last, id)
		}
		return nil
	})
	return out, err
}
