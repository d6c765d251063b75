package history

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Selector picks the records Versions follows: by record_id, or every
// record with an auftrag_nr (an order number can have had several records).
type Selector struct {
	RecordID  int64
	AuftragNr string
	// loose: order numbers compare without leading zeros (Versions falls
	// back to it when the number as given matched nothing).
	loose bool
}

func (sel Selector) match(e Entry) bool {
	if sel.AuftragNr != "" {
		if sel.loose {
			return SameOrderNumber(e.AuftragNr, sel.AuftragNr)
		}
		return e.AuftragNr == sel.AuftragNr
	}
	return e.RecordID == sel.RecordID
}

// SameOrderNumber reports whether two order numbers of digits only are the
// same number written with a different count of leading zeros ("55433"
// and "055433"); other numbers compare as written.
func SameOrderNumber(a, b string) bool {
	digits := func(s string) bool {
		return s != "" && strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) < 0
	}
	if a == b || !digits(a) || !digits(b) {
		return a == b
	}
	return strings.TrimLeft(a, "0") == strings.TrimLeft(b, "0")
}

// Version is one state of a record: from generation Info on it was Entry
// (or, with Removed, no longer there).
type Version struct {
	Info    GenerationInfo
	Entry   Entry
	Removed bool
	// PDFChanged: the order's PDF is another than in the version before
	// (PDFBefore; zero: none), whether or not the row changed too.
	PDFChanged bool
	PDFBefore  Hash
}

// Versions lists, oldest first, every generation in which a selected
// record first appeared, got another backup or another PDF, or
// disappeared. An order
// number that matches nothing as given is tried without leading zeros
// (the table stores "055433", the user typed "55433"); the entries then
// carry the number as the table stores it. With the
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
	out, err := s.orderVersions(ctx, l, sel)
	if err == nil && len(out) == 0 && sel.AuftragNr != "" {
		sel.loose = true
		out, err = s.orderVersions(ctx, l, sel)
	}
	return out, err
}

func (s *Store) orderVersions(ctx context.Context, l *listing, sel Selector) ([]Version, error) {
	var out []Version
	last := map[int64]Entry{} // current state of each followed record
	err := s.walk(ctx, l, func(ref genRef, g *genFile, entries []Entry, _ Hash, err error) error {
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
			old, ok := last[e.RecordID]
			pdf := ok && pdfChanged(old.Record, e.Record)
			if !ok || !sameRecord(old, e) || pdf {
				out = append(out, Version{Info: info, Entry: e, PDFChanged: pdf, PDFBefore: old.PDF})
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
