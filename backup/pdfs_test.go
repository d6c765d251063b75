package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/pdf"
	"werkstatt-backup/sample"
)

// pdfWorkshop is a fixture whose archive also holds the orders' PDFs (the
// seed's layout), one per row at the trailing <JJJJ>/<nr>/<Datei> of its
// file_path. Every row is complete (data_complete = 1) unless told.
type pdfWorkshop struct {
	*fixture
	rows [][]string
}

var (
	colNr       = slices.Index(sample.Columns, "auftrag_nr")
	colPath     = slices.Index(sample.Columns, "file_path")
	colHash     = slices.Index(sample.Columns, "hash")
	colComplete = slices.Index(sample.Columns, "data_complete")
)

func newPDFWorkshop(t *testing.T, n int, edit func(rows [][]string)) *pdfWorkshop {
	t.Helper()
	rows := sample.Rows(n, 7)
	for _, r := range rows {
		r[colComplete] = "1"
	}
	if edit != nil {
		edit(rows)
	}
	f := newFixture(t, rows)
	w := &pdfWorkshop{fixture: f, rows: rows}
	for _, r := range rows {
		f.write(w.pdfPath(r), string(sample.PDF(r[colNr])))
	}
	return w
}

// pdfPath is where the row's PDF lies in the tree.
func (w *pdfWorkshop) pdfPath(r []string) string {
	c := pdf.Candidates(r[colPath], r[colNr], "")
	return c[len(c)-1]
}

func (w *pdfWorkshop) verify(opts VerifyOptions) (*Report, error) {
	return w.e.Verify(context.Background(), opts)
}

// TestVerifyPDFsFindsEachDamage: a changed, a truncated and a deleted PDF,
// one of them named by a Windows path, are each an ERROR naming order,
// path, expected and found hash, and verify fails with a PDFError (exit 1);
// the same damage on an incomplete row is a WARNING. On main verify read
// no PDF at all and said "gültig".
func TestVerifyPDFsFindsEachDamage(t *testing.T) {
	w := newPDFWorkshop(t, 12, func(rows [][]string) {
		rows[0][colPath] = `C:\Werkstatt\archiv\` + strings.ReplaceAll(strings.TrimPrefix(rows[0][colPath], "archiv/"), "/", `\`)
		rows[3][colPath] = `\\nas\auftraege\` + strings.ReplaceAll(strings.TrimPrefix(rows[3][colPath], "archiv/"), "/", `\`)
		rows[4][colComplete] = "0"
		rows[5][colHash] = "kein-hash"
		rows[6][colHash] = strings.ToUpper(rows[6][colHash])
	})
	w.export(ExportOptions{})
	r, err := w.verify(VerifyOptions{PDFs: true})
	if err != nil {
		t.Fatalf("verify --pdfs of intact PDFs: %v\n%s", err, problems(r))
	}
	if c := r.PDFs.Counts; c.Checked != 12 || c.Good != 11 || c.Unverifiable != 1 {
		t.Fatalf("counts %+v, want 12 checked, 11 good, 1 unverifiable", c)
	}
	hasProblem(t, r, LevelWarning, "", "nicht prüfbar", w.rows[5][colNr])

	changed, truncated, deleted, incomplete := w.rows[0], w.rows[1], w.rows[2], w.rows[4]
	w.write(w.pdfPath(changed), string(sample.PDF(changed[colNr]))+"angehängt")
	w.write(w.pdfPath(truncated), string(sample.PDF(truncated[colNr])[:100]))
	if err := w.fs.Remove(w.pdfPath(deleted)); err != nil {
		t.Fatal(err)
	}
	w.write(w.pdfPath(incomplete), "verschlüsselt")

	r, err = w.verify(VerifyOptions{PDFs: true})
	var pe *PDFError
	if !errors.As(err, &pe) || pe.Bad != 2 || pe.Missing != 1 || errors.Is(err, ErrValidation) {
		t.Fatalf("verify --pdfs: err %v, want a PDFError with 2 bad, 1 missing (exit 1)\n%s", err, problems(r))
	}
	for _, row := range [][]string{changed, truncated} {
		found := sha(fileContent(t, w.fs, w.pdfPath(row)))
		hasProblem(t, r, LevelError, w.pdfPath(row), "Auftrag "+row[colNr], "weicht ab", row[colHash], found)
	}
	hasProblem(t, r, LevelError, w.pdfPath(deleted), "Auftrag "+deleted[colNr], "fehlt", deleted[colHash])
	hasProblem(t, r, LevelWarning, w.pdfPath(incomplete), "Auftrag "+incomplete[colNr], "data_complete = 0", "weicht ab")
	if c := r.PDFs.Counts; c.Bad != 3 || c.Missing != 1 || c.Good != 7 {
		t.Fatalf("counts %+v, want 3 bad, 1 missing, 7 good", c)
	}
	if s := r.Summary(); !strings.Contains(s, "PDFs: 12 geprüft, 7 gut, 3 falsch, 1 fehlend, 1 nicht prüfbar") {
		t.Fatalf("summary %q does not count the PDFs", s)
	}
}

// TestVerifyPDFsWithDB: with --db the PDF is also compared with the
// database's row: a row whose hash changed after the export (its PDF
// replaced by the application) is named.
func TestVerifyPDFsWithDB(t *testing.T) {
	w := newPDFWorkshop(t, 4, nil)
	w.export(ExportOptions{})
	db, err := openWrite(w.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), "UPDATE auftraege SET hash = ? WHERE record_id = 2", strings.Repeat("ab", 32)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := w.verify(VerifyOptions{PDFs: true, WithDB: true})
	if err == nil {
		t.Fatal("verify --pdfs --db: no error for a PDF that does not match its row")
	}
	hasProblem(t, r, LevelError, "", "Auftrag "+w.rows[1][colNr], "Datenbank", strings.Repeat("ab", 32))
}

// TestVerifyPDFRotation: without --pdfs, nightly verifies (a fake clock)
// read every PDF within 30 days, each run a small share, the state kept in
// the archive; "aus" reads none, "alle" all.
func TestVerifyPDFRotation(t *testing.T) {
	const n = 90
	w := newPDFWorkshop(t, n, nil)
	w.export(ExportOptions{})
	w.e.PDFCheck = pdf.DefaultPolicy
	day := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	w.e.Now = func() time.Time { return day }
	seen := map[int64]int{}
	var reads []int
	for d := range 30 {
		day = time.Date(2026, 11, 1+d, 2, 0, 0, 0, time.UTC)
		r, err := w.verify(VerifyOptions{})
		if err != nil {
			t.Fatalf("day %d: %v", d, err)
		}
		reads = append(reads, r.PDFs.Checked)
		for _, p := range r.Problems {
			t.Fatalf("day %d: %s", d, p)
		}
		_ = seen
	}
	total := 0
	for _, k := range reads {
		total += k
		if k > n/10 {
			t.Fatalf("one nightly run read %d of %d PDFs, want a small share: %v", k, n, reads)
		}
	}
	if total != n {
		t.Fatalf("30 nightly runs read %d PDFs, want each of %d once: %v", total, n, reads)
	}
	if !w.exists(pdf.RotationFile) {
		t.Fatal("no rotation state in the archive")
	}
	// Which ones: damage one PDF; within the next 30 days a run finds it.
	victim := w.rows[n/2]
	w.write(w.pdfPath(victim), "kaputt")
	found := false
	for d := range 30 {
		day = time.Date(2026, 12, 1+d, 2, 0, 0, 0, time.UTC)
		r, err := w.verify(VerifyOptions{})
		if err != nil {
			hasProblem(t, r, LevelError, w.pdfPath(victim), "weicht ab")
			found = true
			break
		}
	}
	if !found {
		t.Fatal("a damaged PDF was not found by 30 nightly runs")
	}
	w.e.PDFCheck = pdf.Policy{}
	if r, _ := w.verify(VerifyOptions{}); r.PDFs != nil {
		t.Fatalf("pdf_check aus read %d PDFs", r.PDFs.Checked)
	}
	w.e.PDFCheck = pdf.Policy{All: true}
	if r, _ := w.verify(VerifyOptions{}); r.PDFs == nil || r.PDFs.Checked != n {
		t.Fatalf("pdf_check alle: %+v", r.PDFs)
	}
}

func fileContent(t *testing.T, fsys afero.Fs, name string) []byte {
	t.Helper()
	b, err := afero.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(fmt.Errorf("%s: %w", name, err))
	}
	return b
}
