package backup

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/history"
	"werkstatt-backup/pdf"
	"werkstatt-backup/sample"
)

func pdfSum(b []byte) history.Hash { return history.Sum(b) }

// snapshotPDFs returns generation seq's PDF per auftrag_nr.
func snapshotPDFs(t *testing.T, e *Engine, seq uint64) map[string]history.Hash {
	t.Helper()
	snap, err := e.openHistory(nil).Load(context.Background(), seq)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]history.Hash{}
	for _, en := range snap.Entries {
		out[en.AuftragNr] = en.PDF
	}
	return out
}

// TestHistoryRecordsPDFsSeedLayout: in the seed's layout (PDFs inside the
// archive, nothing copied) each generation records every order's PDF;
// an unchanged export reads no PDF; a PDF replaced on disk is read, shows
// in history --auftrag (Versions) as a PDF change, is recorded as found,
// and its mismatch with the row's hash is a WARNING naming it (exit 3).
// On main no generation knew any PDF.
func TestHistoryRecordsPDFsSeedLayout(t *testing.T) {
	ctx := context.Background()
	w := newPDFWorkshop(t, 6, nil)
	cf := &countingFs{Fs: w.fs}
	w.e.Arch = archiveOf(cf)
	r := w.export(ExportOptions{})
	if n := cf.opens.Load(); n != 6 {
		t.Fatalf("first export read %d PDFs, want 6", n)
	}
	want := map[string]history.Hash{}
	for _, row := range w.rows {
		want[row[colNr]] = pdfSum(sample.PDF(row[colNr]))
	}
	gen1 := r.Generation
	if got := snapshotPDFs(t, w.e, gen1); !equalPDFs(got, want) {
		t.Fatalf("generation %d records %v, want %v", gen1, got, want)
	}
	gens, err := w.e.openHistory(nil).List(ctx)
	if err != nil || !gens[len(gens)-1].PDFs {
		t.Fatalf("generation does not say it records PDFs: %+v %v", gens, err)
	}

	cf.opens.Store(0)
	r = w.export(ExportOptions{})
	if n := cf.opens.Load(); n != 0 {
		t.Fatalf("unchanged export read %d PDFs, want none", n)
	}
	if got := snapshotPDFs(t, w.e, r.Generation); !equalPDFs(got, want) {
		t.Fatalf("unchanged generation records %v", got)
	}

	victim := w.rows[2]
	replaced := []byte("%PDF-1.4\n% ausgetauscht\n")
	w.write(w.pdfPath(victim), string(replaced))
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := w.fs.Chtimes(w.pdfPath(victim), later, later); err != nil {
		t.Fatal(err)
	}
	cf.opens.Store(0)
	r, err = w.e.Export(ctx, ExportOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("export over a PDF that no longer matches its hash: %v, want exit 3", err)
	}
	if n := cf.opens.Load(); n != 1 {
		t.Fatalf("export read %d PDFs, want the replaced one", n)
	}
	hasProblem(t, r, LevelWarning, w.pdfPath(victim), "Auftrag "+victim[colNr], "passt nicht", pdfSum(replaced).String())
	want[victim[colNr]] = pdfSum(replaced)
	if got := snapshotPDFs(t, w.e, r.Generation); !equalPDFs(got, want) {
		t.Fatalf("generation %d records %v, want the replaced PDF", r.Generation, got)
	}
	vs, err := w.e.openHistory(nil).Versions(ctx, history.Selector{AuftragNr: victim[colNr]})
	if err != nil {
		t.Fatal(err)
	}
	last := vs[len(vs)-1]
	if len(vs) != 2 || !last.PDFChanged || last.Info.Seq != r.Generation ||
		last.PDFBefore != pdfSum(sample.PDF(victim[colNr])) || last.Entry.PDF != pdfSum(replaced) {
		t.Fatalf("versions of %s: %+v", victim[colNr], vs)
	}
	// Unchanged since: not read again, still named.
	cf.opens.Store(0)
	r, err = w.e.Export(ctx, ExportOptions{})
	if !errors.Is(err, ErrValidation) || cf.opens.Load() != 0 {
		t.Fatalf("export after: %v, %d PDFs read", err, cf.opens.Load())
	}
	hasProblem(t, r, LevelWarning, w.pdfPath(victim), "passt nicht")
}

func equalPDFs(a, b map[string]history.Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRestorePDFsAtGenerationSHA1: rows whose hash is a SHA-1 (the copy is
// named by the SHA-256, which the row does not give); the application
// replaced a PDF and its row's hash. restore --pdfs --at a time before
// gives back the old PDF byte-identical from its copy, found by the
// PDF its generation records. On main it read the replaced PDF from the
// tree, found it did not match the old row's hash, and restored nothing.
func TestRestorePDFsAtGenerationSHA1(t *testing.T) {
	o := newOffsite(t, 4)
	o.rowsSHA1(t)
	now := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	o.e.setFs(genClockFs{Fs: o.fs, now: &now})
	o.export(ExportOptions{})
	before := now
	now = now.Add(24 * time.Hour)
	row := o.rows[1]
	newPDF := append(sample.PDF(row[colNr]), "% ersetzt\n"...)
	o.treeWrite(t, row, newPDF)
	s1 := sha1.Sum(newPDF)
	execDB(t, o.e.DBPath, "UPDATE auftraege SET hash = '"+hex.EncodeToString(s1[:])+"' WHERE auftrag_nr = '"+row[colNr]+"'")
	o.export(ExportOptions{})
	for _, tc := range []struct {
		name string
		opts PDFRestoreOptions
		want []byte
	}{
		{"jetzt", PDFRestoreOptions{}, newPDF},
		{"vorher", PDFRestoreOptions{At: before}, sample.PDF(row[colNr])},
		{"generation1", PDFRestoreOptions{Generation: 1}, sample.PDF(row[colNr])},
	} {
		target := afero.NewMemMapFs()
		tc.opts.Target, tc.opts.TargetName = archiveOf(target), tc.name
		r, err := o.e.RestorePDFs(context.Background(), tc.opts)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, problems(r))
		}
		if r.PDFs.Restored != 4 {
			t.Fatalf("%s: %d restored, want 4", tc.name, r.PDFs.Restored)
		}
		if !bytes.Equal(fileContent(t, target, o.pdfPath(row)), tc.want) {
			t.Fatalf("%s: wrong PDF restored", tc.name)
		}
	}
}

// rowsSHA1 makes every row's hash the SHA-1 of its PDF.
func (o *offsite) rowsSHA1(t *testing.T) {
	t.Helper()
	for _, row := range o.rows {
		s := sha1.Sum(sample.PDF(row[colNr]))
		execDB(t, o.e.DBPath, "UPDATE auftraege SET hash = '"+hex.EncodeToString(s[:])+"' WHERE auftrag_nr = '"+row[colNr]+"'")
	}
}

// replacePDF replaces the order's PDF on the NAS and its row's hash (as
// the application does) and returns the new PDF.
func (o *offsite) replacePDF(t *testing.T, row []string, note string) []byte {
	t.Helper()
	newPDF := append(sample.PDF(row[colNr]), ("% " + note + "\n")...)
	o.treeWrite(t, row, newPDF)
	execDB(t, o.e.DBPath, "UPDATE auftraege SET hash = '"+sha(newPDF)+"' WHERE auftrag_nr = '"+row[colNr]+"'")
	return newPDF
}

// TestForgetFreesPDFCopies: a PDF copy stays while a kept generation
// records it; once forget removed the last generation that did (and the
// index names another), forget deletes it; the copies still needed stay
// and restore. A dry run only lists. On main forget left every copy
// forever.
func TestForgetFreesPDFCopies(t *testing.T) {
	ctx := context.Background()
	o := newOffsite(t, 4)
	o.export(ExportOptions{})
	row := o.rows[0]
	oldCopy := pdf.ObjectName(sha(sample.PDF(row[colNr])))
	newPDF := o.replacePDF(t, row, "ersetzt")
	o.export(ExportOptions{})
	if n := o.objects(t); n != 5 {
		t.Fatalf("%d copies, want 5", n)
	}
	r, err := o.e.Forget(ctx, ForgetOptions{Policy: history.Retention{Last: 2}})
	if err != nil || len(r.Forget.PDFsRemoved) != 0 || o.objects(t) != 5 {
		t.Fatalf("forget keeping both generations freed %v: %v", r.Forget.PDFsRemoved, err)
	}
	r, err = o.e.Forget(ctx, ForgetOptions{Policy: history.Retention{Last: 1}, DryRun: true})
	if err != nil || len(r.Forget.PDFsRemoved) != 1 || r.Forget.PDFsRemoved[0] != oldCopy || o.objects(t) != 5 {
		t.Fatalf("dry run: %v %v, %d copies", r.Forget.PDFsRemoved, err, o.objects(t))
	}
	r, err = o.e.Forget(ctx, ForgetOptions{Policy: history.Retention{Last: 1}})
	if err != nil || len(r.Forget.PDFsRemoved) != 1 || r.Forget.PDFsRemoved[0] != oldCopy {
		t.Fatalf("forget: %v %v", r.Forget.PDFsRemoved, err)
	}
	if o.exists(oldCopy) || o.objects(t) != 4 {
		t.Fatalf("old copy still there (%d copies)", o.objects(t))
	}
	if !strings.Contains(o.log.String(), "PDF-Kopien, die keine behaltene Generation braucht, entfernt: 1") {
		t.Fatalf("forget does not say it freed a copy:\n%s", o.log)
	}
	target := afero.NewMemMapFs()
	if rr, err := o.e.RestorePDFs(ctx, PDFRestoreOptions{Target: archiveOf(target), TargetName: "t", Generation: r.Forget.Kept[0].Generation}); err != nil || rr.PDFs.Restored != 4 {
		t.Fatalf("restore after forget: %v\n%s", err, problems(rr))
	}
	if !bytes.Equal(fileContent(t, target, o.pdfPath(row)), newPDF) {
		t.Fatal("the kept generation's PDF is not restored")
	}
}

// TestForgetLeavesRetainedPDFCopy: on a store with Object Lock a copy no
// generation needs any more but still retained cannot be deleted: forget
// leaves it, names it, and succeeds; after its retention it is freed.
func TestForgetLeavesRetainedPDFCopy(t *testing.T) {
	ctx := context.Background()
	f, s, clock := objFixture(t, pdfRows(4), true)
	tree := afero.NewMemMapFs()
	for _, row := range f.rowsOf() {
		if err := afero.WriteFile(tree, pdfPathOf(row), sample.PDF(row[colNr]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.e.PDFs = archiveOf(tree)
	f.e.HistoryLock = 2 * 24 * time.Hour
	f.export(ExportOptions{})
	row := f.rowsOf()[0]
	oldCopy := pdf.ObjectName(sha(sample.PDF(row[colNr])))
	newPDF := append(sample.PDF(row[colNr]), "% ersetzt\n"...)
	if err := afero.WriteFile(tree, pdfPathOf(row), newPDF, 0o644); err != nil {
		t.Fatal(err)
	}
	execDB(t, f.e.DBPath, "UPDATE auftraege SET hash = '"+sha(newPDF)+"' WHERE auftrag_nr = '"+row[colNr]+"'")
	*clock = clock.Add(time.Hour)
	f.export(ExportOptions{})
	// The old copy is retained longer than the history (someone extended it).
	if err := s.Retain(oldCopy, clock.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	*clock = clock.Add(10 * 24 * time.Hour) // every generation's lock is over
	r, err := f.e.Forget(ctx, ForgetOptions{Policy: history.Retention{Last: 1}})
	if err != nil {
		t.Fatalf("forget with a retained copy: %v\n%s", err, problems(r))
	}
	if len(r.Forget.PDFsRetained) != 1 || r.Forget.PDFsRetained[0] != oldCopy || len(r.Forget.PDFsRemoved) != 0 || r.Errors != 0 {
		t.Fatalf("retained %v, removed %v, errors %d", r.Forget.PDFsRetained, r.Forget.PDFsRemoved, r.Errors)
	}
	if !strings.Contains(f.log.String(), "noch gesperrt") || !f.exists(oldCopy) {
		t.Fatalf("the retained copy is not named, or gone:\n%s", f.log)
	}
	*clock = clock.Add(31 * 24 * time.Hour)
	r, err = f.e.Forget(ctx, ForgetOptions{Policy: history.Retention{Last: 1}})
	if err != nil || len(r.Forget.PDFsRemoved) != 1 || f.exists(oldCopy) {
		t.Fatalf("after its retention: removed %v, %v", r.Forget.PDFsRemoved, err)
	}
}

// pdfRows are sample rows, each complete.
func pdfRows(n int) [][]string {
	rows := sample.Rows(n, 7)
	for _, r := range rows {
		r[colComplete] = "1"
	}
	return rows
}

func pdfPathOf(r []string) string {
	c := pdf.Candidates(r[colPath], r[colNr], "")
	return c[len(c)-1]
}

// rowsOf reads the fixture's rows back from its database.
func (f *fixture) rowsOf() [][]string { return dbRows(f.t, f.e.DBPath) }
