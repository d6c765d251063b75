package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/pdf"
	"werkstatt-backup/sample"
)

// countingFs counts the PDFs opened for reading.
type countingFs struct {
	afero.Fs
	opens atomic.Int64
}

func (c *countingFs) Open(name string) (afero.File, error) {
	if strings.HasSuffix(name, ".pdf") {
		c.opens.Add(1)
	}
	return c.Fs.Open(name)
}

func (c *countingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if strings.HasSuffix(name, ".pdf") && flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		c.opens.Add(1)
	}
	return c.Fs.OpenFile(name, flag, perm)
}

// offsite is a workshop whose PDFs live in their own tree (the NAS) and
// whose archive is elsewhere: export copies the PDFs into the archive.
type offsite struct {
	*pdfWorkshop
	tree *countingFs
}

func newOffsite(t *testing.T, n int) *offsite {
	t.Helper()
	w := newPDFWorkshop(t, n, nil)
	// Move the PDFs out of the archive into their own tree.
	tree := &countingFs{Fs: afero.NewMemMapFs()}
	for _, r := range w.rows {
		p := w.pdfPath(r)
		data := fileContent(t, w.fs, p)
		if err := w.fs.Remove(p); err != nil {
			t.Fatal(err)
		}
		if err := tree.MkdirAll(pathDir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(tree.Fs, p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.e.PDFs = archiveOf(tree)
	return &offsite{pdfWorkshop: w, tree: tree}
}

func pathDir(p string) string { return p[:strings.LastIndex(p, "/")] }

func (o *offsite) treeWrite(t *testing.T, r []string, data []byte) {
	t.Helper()
	p := o.pdfPath(r)
	if err := afero.WriteFile(o.tree.Fs, p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A new modification time, as any write on a NAS gives.
	later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := o.tree.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
}

// stored returns the archive's copy of the order's PDF per the index.
func (o *offsite) stored(t *testing.T, r []string) []byte {
	t.Helper()
	idx, ok, err := pdf.LoadIndex(context.Background(), o.e.Arch)
	if err != nil || !ok {
		t.Fatalf("index: %v %v", ok, err)
	}
	for _, en := range idx.Entries {
		if en.AuftragNr == r[colNr] {
			if en.Position != o.pdfPath(r) {
				t.Fatalf("order %s recorded at %q, want %q", en.AuftragNr, en.Position, o.pdfPath(r))
			}
			return fileContent(t, o.fs, pdf.ObjectName(en.SHA256))
		}
	}
	t.Fatalf("order %s not in the index", r[colNr])
	return nil
}

func (o *offsite) objects(t *testing.T) int {
	t.Helper()
	have, err := o.e.storedPDFs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(have)
}

// TestExportCopiesPDFs: export to an archive elsewhere stores every PDF
// byte-identical, once per content; an unchanged export reads no PDF; a
// PDF replaced together with its row's hash is stored anew; a PDF that no
// longer matches its hash is refused with a WARNING (exit 3) and the good
// copy stays. On main export stored no PDF at all.
func TestExportCopiesPDFs(t *testing.T) {
	o := newOffsite(t, 15)
	r := o.export(ExportOptions{})
	if r.PDFs == nil || r.PDFs.Stored != 15 {
		t.Fatalf("first export: %+v, want 15 stored\n%s", r.PDFs, problems(r))
	}
	for _, row := range o.rows {
		if got, want := o.stored(t, row), sample.PDF(row[colNr]); !bytes.Equal(got, want) {
			t.Fatalf("copy of %s differs from the PDF", row[colNr])
		}
	}
	if n := o.objects(t); n != 15 {
		t.Fatalf("%d objects, want 15", n)
	}
	if len(r.pdfRefs) != 15 || r.pdfRefs[0].PDF.IsZero() {
		t.Fatalf("refs for the history: %+v", r.pdfRefs)
	}
	if ents, _ := afero.ReadDir(o.fs, pdf.TempDir); len(ents) != 0 {
		t.Fatalf("temp copies left: %d", len(ents))
	}

	// Unchanged: recognised by size and time, not read; the index is
	// not written again either.
	o.tree.opens.Store(0)
	idxInfo, _ := o.fs.Stat(pdf.IndexFile)
	r = o.export(ExportOptions{})
	if after, _ := o.fs.Stat(pdf.IndexFile); !after.ModTime().Equal(idxInfo.ModTime()) {
		t.Fatal("an unchanged export wrote the index again")
	}
	if n := o.tree.opens.Load(); n != 0 || r.PDFs.Unchanged != 15 || r.PDFs.Stored != 0 {
		t.Fatalf("unchanged export opened %d PDFs, summary %+v", n, r.PDFs)
	}

	// The application replaces one PDF and its row's hash: stored anew.
	replaced := o.rows[3]
	newPDF := append(sample.PDF(replaced[colNr]), "% neu unterschrieben\n"...)
	o.treeWrite(t, replaced, newPDF)
	db, err := openWrite(o.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), "UPDATE auftraege SET hash = ? WHERE auftrag_nr = ?", sha(newPDF), replaced[colNr]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	o.tree.opens.Store(0)
	r = o.export(ExportOptions{})
	if n := o.tree.opens.Load(); n != 1 || r.PDFs.Stored != 1 {
		t.Fatalf("one replaced PDF: %d opened, %+v", n, r.PDFs)
	}
	if !bytes.Equal(o.stored(t, replaced), newPDF) {
		t.Fatal("replaced PDF not stored")
	}

	// A PDF that no longer matches: refused, the good copy stays.
	victim := o.rows[5]
	o.treeWrite(t, victim, []byte("überschrieben"))
	r, err = o.e.Export(context.Background(), ExportOptions{})
	if !errors.Is(err, ErrValidation) || errors.Is(err, ErrPDFGuard) {
		t.Fatalf("export with a wrong PDF: %v, want a validation error (exit 3)\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelWarning, o.pdfPath(victim), "Auftrag "+victim[colNr], "passt nicht", victim[colHash], sha([]byte("überschrieben")), "bleibt")
	if !bytes.Equal(o.stored(t, victim), sample.PDF(victim[colNr])) {
		t.Fatal("the good copy was replaced by the wrong PDF")
	}
	if o.exists(pdf.ObjectName(sha([]byte("überschrieben")))) {
		t.Fatal("the wrong PDF was stored")
	}
}

// TestExportPDFRansomwareGuard: 40 % of the PDFs overwritten in one go:
// export stores none of them, keeps every copy and the index as they
// were, says why and exits 3.
func TestExportPDFRansomwareGuard(t *testing.T) {
	o := newOffsite(t, 20)
	o.e.MassChange = DefaultMassChange
	o.export(ExportOptions{})
	before := o.read(pdf.IndexFile)
	for _, row := range o.rows[:8] {
		o.treeWrite(t, row, append([]byte("VERSCHLÜSSELT"), sample.PDF(row[colNr])...))
	}
	// A new order whose PDF is fine must not be stored either.
	r, err := o.e.Export(context.Background(), ExportOptions{})
	if !errors.Is(err, ErrPDFGuard) || !errors.Is(err, ErrValidation) {
		t.Fatalf("ransomware run: %v, want ErrPDFGuard (exit 3)\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelError, pdf.StoreDir, "8 von 20 PDFs", "Kein PDF gespeichert")
	if got := o.read(pdf.IndexFile); got != before {
		t.Fatal("the index changed in a refused run")
	}
	if n := o.objects(t); n != 20 {
		t.Fatalf("%d objects after the refused run, want the 20 good ones", n)
	}
	for _, row := range o.rows[:8] {
		if !bytes.Equal(o.stored(t, row), sample.PDF(row[colNr])) {
			t.Fatal("a good copy was lost")
		}
	}
	if ents, _ := afero.ReadDir(o.fs, pdf.TempDir); len(ents) != 0 {
		t.Fatalf("temp copies left: %d", len(ents))
	}
	// Confirmed: the good ones go on as before, the 8 are still refused.
	r, err = o.e.Export(context.Background(), ExportOptions{AllowMassChange: true})
	if !errors.Is(err, ErrValidation) || errors.Is(err, ErrPDFGuard) || r.PDFs.Refused != 8 {
		t.Fatalf("--allow-mass-change: %v %+v", err, r.PDFs)
	}
	for _, row := range o.rows[:8] {
		if !bytes.Equal(o.stored(t, row), sample.PDF(row[colNr])) {
			t.Fatal("a good copy was lost")
		}
	}
}

// TestVerifyPDFCopies: verify --pdfs of an archive whose PDFs live
// elsewhere also reads the copies export stored: a damaged or deleted
// copy is an ERROR (exit 1), though the NAS's PDFs are fine.
func TestVerifyPDFCopies(t *testing.T) {
	o := newOffsite(t, 6)
	o.export(ExportOptions{})
	r, err := o.verify(VerifyOptions{PDFs: true})
	if err != nil || r.PDFs.Copies == nil || r.PDFs.Copies.Good != 6 {
		t.Fatalf("verify --pdfs: %v %+v\n%s", err, r.PDFs, problems(r))
	}
	rotten, gone := o.objectOf(t, o.rows[0]), o.objectOf(t, o.rows[1])
	o.write(rotten, "bitfäule")
	if err := o.fs.Remove(gone); err != nil {
		t.Fatal(err)
	}
	r, err = o.verify(VerifyOptions{PDFs: true})
	var pe *PDFError
	if !errors.As(err, &pe) || pe.Bad != 1 || pe.Missing != 1 {
		t.Fatalf("verify with damaged copies: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelError, rotten, "Kopie", "beschädigt")
	hasProblem(t, r, LevelError, gone, "Kopie", "fehlt")

	// The next export stores the missing copy again; export --full also
	// replaces the damaged one (checked against its row's hash first).
	o.export(ExportOptions{})
	if !o.exists(gone) {
		t.Fatal("export did not store the missing copy again")
	}
	r = o.export(ExportOptions{Full: true})
	hasProblem(t, r, LevelWarning, rotten, "ersetzt")
	if r, err := o.verify(VerifyOptions{PDFs: true}); err != nil {
		t.Fatalf("verify after the repair: %v\n%s", err, problems(r))
	}
}
