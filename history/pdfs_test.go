package history

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
)

// pdfOf is a stand-in PDF hash for record id in version v.
func pdfOf(id int64, v int) Hash { return sha256.Sum256(fmt.Appendf(nil, "pdf %d v%d", id, v)) }

// commitPDFs commits tb with each record's PDF from pdfs (missing: none).
func commitPDFs(t *testing.T, s *Store, tb *table, pdfs map[int64]Hash) CommitResult {
	t.Helper()
	recs, content, _ := tb.records()
	for i := range recs {
		recs[i].PDF = pdfs[recs[i].RecordID]
	}
	res, err := s.Commit(context.Background(), recs, content)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res
}

func assertPDFs(t *testing.T, s *Store, seq uint64, want map[int64]Hash) {
	t.Helper()
	snap, err := s.Load(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range snap.Entries {
		if e.PDF != want[e.RecordID] {
			t.Fatalf("generation %d record %d: PDF %s, want %s", seq, e.RecordID, e.PDF.Short(), want[e.RecordID].Short())
		}
	}
}

// An archive written by the format-2 code (main before format 3) is read
// as it is (no PDFs known) and continued in format 3 with each order's
// PDF: no generation is lost, the chain links on, the first PDFs are no
// change (neither for the mass-change guard nor for history --auftrag),
// a PDF replaced later is one, and forget works across both formats.
func TestFormat2ArchiveContinuedWithPDFs(t *testing.T) {
	ctx := context.Background()
	fsys, wants := testArchive(t, "v2archive")
	s := Open(archiveOf(fsys), WithMaxChain(2), WithPDFs())
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
		assertPDFs(t, s, seq, nil)
	}
	last, err := s.Load(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	// the table the archive was written from (testdata/v2archive.json
	// holds its states): newTable(23, 12), churn(3) after each commit
	tb := newTable(23, 12)
	for range 4 {
		tb.churn(3)
	}
	if err := checkSnapshot(s, 5, tb.want()); err != nil {
		t.Fatalf("the table replayed is not generation 5's: %v", err)
	}
	pdfs := map[int64]Hash{}
	for id := range tb.rows {
		pdfs[id] = pdfOf(id, 1)
	}
	recs, _, _ := tb.records()
	for i := range recs {
		recs[i].PDF = pdfs[recs[i].RecordID]
	}
	if m := CompareTo(last, recs); m.Changed != 0 {
		t.Fatalf("first PDFs count as %d changed records for the mass-change guard", m.Changed)
	}
	res := commitPDFs(t, s, tb, pdfs)
	if res.Info.Seq != 6 || res.Info.PrevSeq != 5 || res.Info.Changed != 0 || res.Info.PDFChanged != 0 || !res.Info.PDFs {
		t.Fatalf("continued as %+v", res.Info)
	}
	// one PDF replaced on disk, the row as it was
	var id int64
	for id = range tb.rows {
		break
	}
	pdfs2 := map[int64]Hash{}
	for k, v := range pdfs {
		pdfs2[k] = v
	}
	pdfs2[id] = pdfOf(id, 2)
	res = commitPDFs(t, s, tb, pdfs2)
	if res.Info.Seq != 7 || res.Info.Changed != 0 || res.Info.PDFChanged != 1 {
		t.Fatalf("PDF replaced: %+v", res.Info)
	}
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
		assertPDFs(t, s, seq, nil)
	}
	assertPDFs(t, s, 6, pdfs)
	assertPDFs(t, s, 7, pdfs2)
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check: %v %v", d, err)
	}
	vs, err := s.Versions(ctx, Selector{RecordID: id})
	if err != nil {
		t.Fatal(err)
	}
	lastV := vs[len(vs)-1]
	if !lastV.PDFChanged || lastV.Info.Seq != 7 || lastV.PDFBefore != pdfOf(id, 1) || lastV.Entry.PDF != pdfOf(id, 2) {
		t.Fatalf("versions: the PDF change is not the last: %+v", lastV)
	}
	for _, v := range vs[:len(vs)-1] {
		if v.PDFChanged || v.Info.Seq == 6 {
			t.Fatalf("the first PDF shows as a version: %+v", v)
		}
	}
	use, err := s.PDFsInUse(ctx, nil)
	if err != nil || len(use.Unknown) != 5 || len(use.InUse) != len(pdfs)+1 {
		t.Fatalf("PDFs in use: %d unknown, %d in use, %v", len(use.Unknown), len(use.InUse), err)
	}
	if _, err := s.Forget(ctx, Retention{Last: 2}, false); err != nil {
		t.Fatal(err)
	}
	assertPDFs(t, s, 6, pdfs)
	assertPDFs(t, s, 7, pdfs2)
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check after forget: %v %v", d, err)
	}
	use, err = s.PDFsInUse(ctx, nil)
	if err != nil || len(use.Unknown) != 0 || len(use.InUse) != len(pdfs)+1 {
		t.Fatalf("PDFs in use after forget: %v %d %v", use.Unknown, len(use.InUse), err)
	}
	if _, err := s.Forget(ctx, Retention{Last: 1}, false); err != nil {
		t.Fatal(err)
	}
	use, err = s.PDFsInUse(ctx, nil)
	if err != nil || len(use.InUse) != len(pdfs) || use.InUse[pdfOf(id, 1)] {
		t.Fatalf("the replaced PDF is still in use after its generation went: %d %v", len(use.InUse), err)
	}
}
