package backup

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/sample"
)

// TestRestorePDFsFromCopies: after ransomware overwrote the NAS's PDFs
// (the copies in the archive are untouched), restore --pdfs gives back
// every PDF byte-identical as <JJJJ>/<nr>/<Datei>; --auftrag one only; a
// copy damaged in the archive is refused, not written.
func TestRestorePDFsFromCopies(t *testing.T) {
	o := newOffsite(t, 12)
	o.export(ExportOptions{})
	for _, row := range o.rows {
		o.treeWrite(t, row, []byte("VERSCHLÜSSELT"))
	}
	target := afero.NewMemMapFs()
	r, err := o.e.RestorePDFs(context.Background(), PDFRestoreOptions{Target: archiveOf(target), TargetName: "mem://ziel"})
	if err != nil {
		t.Fatalf("restore --pdfs: %v\n%s", err, problems(r))
	}
	if r.PDFs.Restored != 12 {
		t.Fatalf("restored %d, want 12", r.PDFs.Restored)
	}
	for _, row := range o.rows {
		if got := fileContent(t, target, o.pdfPath(row)); !bytes.Equal(got, sample.PDF(row[colNr])) {
			t.Fatalf("%s not restored byte-identical", o.pdfPath(row))
		}
	}
	if s := r.Summary(); s != "PDF-Restore abgeschlossen: 12 PDFs wiederhergestellt, 0 fehlend, 0 falsch, 0 Fehler" {
		t.Fatalf("summary %q", s)
	}

	one := afero.NewMemMapFs()
	nr := o.rows[4][colNr]
	r, err = o.e.RestorePDFs(context.Background(), PDFRestoreOptions{Target: archiveOf(one), TargetName: "one", Auftrag: nr})
	if err != nil || r.PDFs.Restored != 1 {
		t.Fatalf("--auftrag %s: %v, %+v", nr, err, r.PDFs)
	}
	if _, err := o.e.RestorePDFs(context.Background(), PDFRestoreOptions{Target: archiveOf(one), TargetName: "one", Auftrag: "999999"}); !errors.Is(err, ErrNoOrder) {
		t.Fatalf("--auftrag of no order: %v", err)
	}

	// A damaged copy in the archive: refused, the target keeps its file.
	victim := o.rows[2]
	o.write(o.objectOf(t, victim), "bitfäule")
	before := fileContent(t, target, o.pdfPath(victim))
	r, err = o.e.RestorePDFs(context.Background(), PDFRestoreOptions{Target: archiveOf(target), TargetName: "mem://ziel"})
	var pe *PDFError
	if !errors.As(err, &pe) || pe.Bad != 1 {
		t.Fatalf("restore with a damaged copy: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelError, o.pdfPath(victim), "Auftrag "+victim[colNr], "weicht ab")
	if !bytes.Equal(fileContent(t, target, o.pdfPath(victim)), before) {
		t.Fatal("a damaged copy was written over the target's file")
	}
}

// objectOf is the archive's copy of the order's PDF.
func (o *offsite) objectOf(t *testing.T, r []string) string {
	t.Helper()
	return "_pdfs/" + r[colHash][:2] + "/" + r[colHash] + ".pdf"
}

// TestRestorePDFsSeedLayout: PDFs in the archive itself (no copies): restore
// --pdfs reads them from there, checks each, and names a missing one.
func TestRestorePDFsSeedLayout(t *testing.T) {
	w := newPDFWorkshop(t, 6, nil)
	w.export(ExportOptions{})
	gone := w.rows[1]
	if err := w.fs.Remove(w.pdfPath(gone)); err != nil {
		t.Fatal(err)
	}
	target := afero.NewMemMapFs()
	r, err := w.e.RestorePDFs(context.Background(), PDFRestoreOptions{Target: archiveOf(target), TargetName: "ziel"})
	var pe *PDFError
	if !errors.As(err, &pe) || pe.Missing != 1 || r.PDFs.Restored != 5 {
		t.Fatalf("restore: %v %+v\n%s", err, r.PDFs, problems(r))
	}
	hasProblem(t, r, LevelError, w.pdfPath(gone), "Auftrag "+gone[colNr], "nicht wiederhergestellt")
	for _, row := range w.rows {
		if row[colNr] == gone[colNr] {
			continue
		}
		if !bytes.Equal(fileContent(t, target, w.pdfPath(row)), sample.PDF(row[colNr])) {
			t.Fatal("PDF not restored byte-identical")
		}
	}
}

// TestRestorePDFsAt: the application replaced a PDF and its row's hash;
// restore --pdfs --at a time before gives back the old PDF (its content
// is still in the archive), without --at the new one.
func TestRestorePDFsAt(t *testing.T) {
	o := newOffsite(t, 5)
	now := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	o.e.setFs(genClockFs{Fs: o.fs, now: &now})
	o.export(ExportOptions{})
	before := now
	now = now.Add(24 * time.Hour)
	row := o.rows[0]
	newPDF := append(sample.PDF(row[colNr]), "% ersetzt\n"...)
	o.treeWrite(t, row, newPDF)
	db, err := openWrite(o.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), "UPDATE auftraege SET hash = ? WHERE auftrag_nr = ?", sha(newPDF), row[colNr]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	o.export(ExportOptions{})
	for _, tc := range []struct {
		name string
		opts PDFRestoreOptions
		want []byte
	}{
		{"jetzt", PDFRestoreOptions{}, newPDF},
		{"vorher", PDFRestoreOptions{At: before}, sample.PDF(row[colNr])},
	} {
		target := afero.NewMemMapFs()
		tc.opts.Target, tc.opts.TargetName, tc.opts.Auftrag = archiveOf(target), tc.name, row[colNr]
		r, err := o.e.RestorePDFs(context.Background(), tc.opts)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.name, err, problems(r))
		}
		if !bytes.Equal(fileContent(t, target, o.pdfPath(row)), tc.want) {
			t.Fatalf("%s: wrong PDF restored", tc.name)
		}
	}
}
