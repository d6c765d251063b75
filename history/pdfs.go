package history

import (
	"context"
	"fmt"
)

// PDFUse is what the generations say about the orders' PDFs.
type PDFUse struct {
	// InUse are the PDFs (SHA-256) some generation records.
	InUse map[Hash]bool
	// Unknown are the generations that do not record PDFs (written before
	// format 3, or without WithPDFs): which PDFs they need is not known.
	Unknown []uint64
}

// PDFsInUse walks every generation (only those in kept, unless kept is
// nil) and collects the PDFs they record: a copy of a PDF none names (and
// no generation in Unknown) is needed by no generation. A generation that
// cannot be loaded is an error: what it needs is not known either.
func (s *Store) PDFsInUse(ctx context.Context, kept map[uint64]bool) (PDFUse, error) {
	use := PDFUse{InUse: map[Hash]bool{}}
	l, err := s.scan(ctx)
	if err != nil {
		return use, err
	}
	err = s.walk(ctx, l, func(ref genRef, g *genFile, entries []Entry, _ Hash, err error) error {
		if err != nil {
			return fmt.Errorf("Historie: Generation %d nicht lesbar: %w", ref.seq, err)
		}
		if kept != nil && !kept[ref.seq] {
			return nil
		}
		if !g.PDFs {
			use.Unknown = append(use.Unknown, ref.seq)
		}
		for _, e := range entries {
			if !e.PDF.zero() {
				use.InUse[e.PDF] = true
			}
		}
		return nil
	})
	return use, err
}
