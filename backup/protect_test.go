package backup

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// protectRows are rows a real workshop has: SQLite's own timestamps, a
// person's German date, "ja" for 0/1, broken JSON, no usable number or year,
// record_ids of 0 and below. All of them must be protected.
func protectRows() [][]string {
	return [][]string{
		row("1", "000001"),
		row("2", "000002", "datum", "01.02.2023"),
		row("3", "12345"),
		row("4", "000004", "file_path", "x.pdf", "datum", "", "created_at", ""),
		row("5", "000005", "keywords_json", "{kaputt", "data_complete", "ja"),
		row("6", "000006", "created_at", "2023-05-01 10:20:30", "updated_at", "2023-05-01T10:20"),
		row("7", "000007", "created_at", "2023-05-01", "updated_at", "2023-05-01 10:20:30.000"),
		row("8", "000008", "created_at", "20230501T102030", "updated_at", "2023-05-01 10:20:30.5+02:00"),
		row("0", "", "file_path", "irgendwo.pdf"),
		row("-5", "000009"),
	}
}

// TestExportProtectsEveryRow: every row is backed up, field-rule violations
// and rows without an order folder are warnings that make export exit 3,
// verify accepts the backups (warnings, exit 0), and restore brings back
// the table exactly, so that exporting the restored database writes the
// same bytes again.
func TestExportProtectsEveryRow(t *testing.T) {
	f := newFixture(t, protectRows())
	r, err := f.e.Export(context.Background(), ExportOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("err = %v, want ErrValidation (exit 3)\n%s", err, problems(r))
	}
	if r.OK != 10 || r.Errors != 0 || r.Records != 10 {
		t.Fatalf("report: ok %d errors %d records %d\n%s", r.OK, r.Errors, r.Records, problems(r))
	}
	for _, c := range []struct {
		id    int64
		words []string
	}{
		{2, []string{"datum", "01.02.2023", "trotzdem"}},
		{3, []string{"auftrag_nr", "12345"}},
		{3, []string{"keinen eigenen Ordner", "_ohne_ordner/3"}},
		{4, []string{"kein Jahr", "_ohne_ordner/4"}},
		{5, []string{"keywords_json", "data_complete", "ja"}},
		{0, []string{"record_id 0", "record_id: nicht positiv"}},
		{0, []string{"record_id 0", "_ohne_ordner/0"}},
		{-5, []string{"record_id", "nicht positiv"}},
	} {
		found := false
		for _, p := range r.Problems {
			found = found || p.Level == LevelWarning && p.RecordID == c.id && containsAll(p.Message, c.words)
		}
		if !found {
			t.Errorf("record %d: no warning with %q:\n%s", c.id, c.words, problems(r))
		}
	}
	for _, p := range r.Problems {
		if p.RecordID >= 6 && p.RecordID <= 8 {
			t.Errorf("timestamps Python reads were reported: %s", p)
		}
	}
	for _, dir := range []string{"2024/000001", "2024/000002", NoFolder + "/3", NoFolder + "/4", "2024/000005",
		"2024/000006", "2024/000007", "2024/000008", NoFolder + "/0", "2024/000009"} {
		if !f.exists(dir+"/data.csv") || !f.exists(dir+"/meta.json") {
			t.Errorf("%s: no backup", dir)
		}
	}
	if want := `5,000005,Müller,K12345,B-AB 1234,WVW1234567890ABCD,2024-07-29,neu,{kaputt,test_archiv/2024/000005/000005_Auftrag.pdf,abc123,ja,`; !strings.Contains(f.read("2024/000005/data.csv"), want) {
		t.Errorf("data.csv does not hold the row as the database has it:\n%s", f.read("2024/000005/data.csv"))
	}

	vr, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true})
	if err != nil || vr.Errors != 0 || vr.OK != 10 {
		t.Fatalf("verify: %v, ok %d\n%s", err, vr.OK, problems(vr))
	}
	hasProblem(t, vr, LevelWarning, "2024/000002/data.csv", "Feldregeln", "datum")

	assertRoundTrip(t, f)
}

// assertRoundTrip restores f's archive into a new database, checks that it
// holds exactly f's rows, exports it into a new archive and checks that
// every data.csv there is byte-identical to f's.
func assertRoundTrip(t *testing.T, f *fixture) {
	t.Helper()
	want := dbRows(t, f.e.DBPath)
	restored := f.dir + "/restored.db"
	e := *f.e
	e.DBPath = restored
	rr, err := e.Restore(context.Background(), RestoreOptions{})
	if err != nil || rr.OK != len(want) {
		t.Fatalf("restore: %v, ok %d of %d\n%s", err, rr.OK, len(want), problems(rr))
	}
	got := dbRows(t, restored)
	slices.SortFunc(want, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	slices.SortFunc(got, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("restored rows differ:\n got %q\nwant %q", got, want)
	}
	again := afero.NewMemMapFs()
	e.setFs(again)
	_, _ = e.Export(context.Background(), ExportOptions{}) // exit 3 again: the same warnings
	n := 0
	err = afero.Walk(f.fs, ".", func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || !strings.HasSuffix(p, "/"+DataFile) {
			return err
		}
		n++
		b, err := afero.ReadFile(again, p)
		if err != nil || string(b) != f.read(p) {
			t.Errorf("%s: export of the restored database differs: %v\n%s\n%s", p, err, b, f.read(p))
		}
		return nil
	})
	if err != nil || n != len(want) {
		t.Fatalf("walked %d backups of %d: %v", n, len(want), err)
	}
}

func containsAll(s string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// TestExportFolderCollisionLowestRecordKeepsFolder: of two records with the
// same order folder, the lowest record_id keeps it and the other is backed
// up in NoFolder; both are restored.
func TestExportFolderCollisionLowestRecordKeepsFolder(t *testing.T) {
	f := newFixture(t, [][]string{row("2", "000001", "kunde_name", "Zweiter"), row("1", "000001"), row("3", "000003")})
	r, err := f.e.Export(context.Background(), ExportOptions{})
	if !errors.Is(err, ErrValidation) || r.Errors != 0 || r.OK != 3 {
		t.Fatalf("err %v, ok %d errors %d\n%s", err, r.OK, r.Errors, problems(r))
	}
	hasProblem(t, r, LevelWarning, "", "2024/000001", "mehreren", "record_id 1 behält", "_ohne_ordner/2")
	if m := f.read("2024/000001/meta.json"); !strings.Contains(m, `"record_id": 1,`) {
		t.Fatalf("2024/000001 does not hold record 1:\n%s", m)
	}
	if d := f.read(NoFolder + "/2/data.csv"); !strings.Contains(d, "Zweiter") {
		t.Fatalf("_ohne_ordner/2 does not hold record 2:\n%s", d)
	}
	assertRoundTrip(t, f)
}

// TestExportExtraColumnIsAnError: a column the backup schema lacks holds
// data no backup has; that is an ERROR (shown with --quiet) and exit 3, and
// every row is still backed up. A missing schema column is refused.
func TestExportExtraColumnIsAnError(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002")})
	db, err := openWrite(f.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), `ALTER TABLE auftraege ADD COLUMN notiz TEXT`); err != nil {
		t.Fatal(err)
	}
	r, err := f.e.Export(context.Background(), ExportOptions{})
	if !errors.Is(err, ErrValidation) || r.OK != 2 || r.Errors != 1 {
		t.Fatalf("err %v, ok %d errors %d\n%s", err, r.OK, r.Errors, problems(r))
	}
	hasProblem(t, r, LevelError, "", "notiz", "keiner Sicherung")
	if !f.exists("2024/000001/data.csv") || !f.exists("2024/000002/data.csv") {
		t.Fatal("rows not backed up")
	}

	if err := db.Exec(context.Background(), `ALTER TABLE auftraege DROP COLUMN hash`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = f.e.Export(context.Background(), ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "hash") {
		t.Fatalf("err = %v, want one naming the missing column", err)
	}
}

func execDB(t *testing.T, path, sql string) {
	t.Helper()
	db, err := openWrite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// TestExportRemovesStaleUnplacedCopy: once a record has its own folder
// again and its backup there is written, its old copy in NoFolder goes (a
// dry run leaves it); verify then sees one copy, not a duplicate.
func TestExportRemovesStaleUnplacedCopy(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("3", "12345")})
	if _, err := f.e.Export(context.Background(), ExportOptions{}); !errors.Is(err, ErrValidation) {
		t.Fatalf("first export: %v", err)
	}
	if !f.exists(NoFolder + "/3/data.csv") {
		t.Fatal("record 3 not in _ohne_ordner")
	}
	f.write(NoFolder+"/liesmich.txt", "von Hand abgelegt")
	execDB(t, f.e.DBPath, `UPDATE auftraege SET auftrag_nr = '000003', file_path = 'test_archiv/2024/000003/000003_Auftrag.pdf' WHERE record_id = 3`)

	f.export(ExportOptions{DryRun: true})
	if !f.exists(NoFolder + "/3/data.csv") {
		t.Fatal("dry run removed the old copy")
	}
	f.export(ExportOptions{})
	if f.exists(NoFolder+"/3") || !f.exists("2024/000003/data.csv") {
		t.Fatalf("old copy still there (%v) or new one missing", f.exists(NoFolder+"/3"))
	}
	if !f.exists(NoFolder + "/liesmich.txt") {
		t.Fatal("a file the tool did not write was removed")
	}
	vr, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true})
	if err != nil || len(vr.Problems) != 0 {
		t.Fatalf("verify: %v\n%s", err, problems(vr))
	}
}

// TestExportRowMovingIntoNoFolder: a record that loses its folder is backed
// up in NoFolder; the copy left in its old folder is named by verify as a
// duplicate, and restore takes the newer copy.
func TestExportRowMovingIntoNoFolder(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002")})
	f.export(ExportOptions{})
	execDB(t, f.e.DBPath, `UPDATE auftraege SET auftrag_nr = '1' WHERE record_id = 1`)
	if _, err := f.e.Export(context.Background(), ExportOptions{}); !errors.Is(err, ErrValidation) {
		t.Fatalf("export: %v", err)
	}
	if !f.exists(NoFolder + "/1/data.csv") {
		t.Fatal("record 1 not backed up in _ohne_ordner")
	}
	vr, err := f.e.Verify(context.Background(), VerifyOptions{})
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, problems(vr))
	}
	hasProblem(t, vr, LevelWarning, "", "mehrfach", "2024/000001/data.csv", "Restore nimmt _ohne_ordner/1/data.csv")
	e := *f.e
	e.DBPath = f.dir + "/restored.db"
	if _, err := e.Restore(context.Background(), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := dbRows(t, e.DBPath); len(got) != 2 || got[0][1] != "1" {
		t.Fatalf("restored %q, want record 1 with auftrag_nr 1", got)
	}
}

// TestRestoreNewestUpdatedAtComparesTimes: "newest updated_at wins" reads
// every form Python's fromisoformat reads and compares instants; a naive
// time counts as UTC; equal instants are a tie for exported_at.
func TestRestoreNewestUpdatedAtComparesTimes(t *testing.T) {
	tests := []struct {
		name         string
		a, b         string // updated_at of copies A (2024/000001) and B (2023/000001)
		exportedLate string // the copy exported later
		winner, why  string
	}{
		{"SQLite form against T form", "2024-07-29 12:00:00", "2024-07-29T11:30:00", "B", "A", "updated_at"},
		{"fractions", "2024-07-29 10:00:00.5", "2024-07-29T10:00:00.25", "B", "A", "updated_at"},
		{"date alone is midnight", "2024-07-30", "2024-07-29T23:59:59", "B", "A", "updated_at"},
		{"naive counts as UTC", "2024-07-29 10:00:00", "2024-07-29T11:00:00+02:00", "B", "A", "updated_at"},
		{"naive counts as UTC, other way", "2024-07-29 10:00:00", "2024-07-29T13:00:00+02:00", "A", "B", "updated_at"},
		{"same instant, other spelling: tie", "2024-07-29T10:00:00+02:00", "2024-07-29 08:00:00", "A", "A", "exportiert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			for _, c := range []struct{ dir, name, updated string }{{"2024/000001", "A", tt.a}, {"2023/000001", "B", tt.b}} {
				put(f, c.dir, csvOf(row("1", "000001", "kunde_name", c.name, "updated_at", c.updated)), "")
				if c.name == tt.exportedLate {
					f.write(c.dir+"/meta.json", strings.Replace(f.read(c.dir+"/meta.json"), "2024-07-29T10:30:00", "2024-07-31T10:30:00", 1))
				}
			}
			r, err := f.e.Restore(context.Background(), RestoreOptions{})
			if err != nil {
				t.Fatalf("%v\n%s", err, problems(r))
			}
			hasProblem(t, r, LevelWarning, "", "mehrfach", tt.why)
			if got := dbRows(t, f.e.DBPath); len(got) != 1 || got[0][2] != tt.winner {
				t.Fatalf("restored %q, want kunde_name %s\n%s", got, tt.winner, problems(r))
			}
		})
	}
}
