package backup

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/sample"
	"werkstatt-backup/store"
)

func TestRestoreReproducesTheDatabase(t *testing.T) {
	rows := sample.Rows(60, 7)
	rows[3][3] = "" // NULL kunden_nr
	rows[4][2] = "Meier, \"Hans\"\r\nHof 2"
	f := newFixture(t, rows)
	f.export(ExportOptions{})

	f.e.DBPath = filepath.Join(f.dir, "neu", "werkstatt.db")
	if err := os.MkdirAll(filepath.Dir(f.e.DBPath), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := f.e.Restore(context.Background(), RestoreOptions{})
	if err != nil || r.OK != 60 {
		t.Fatalf("restore: %v %+v\n%s", err, r, problems(r))
	}
	want := dbRows(t, filepath.Join(f.dir, "werkstatt.db"))
	got := dbRows(t, f.e.DBPath)
	if !slices.EqualFunc(want, got, slices.Equal) {
		t.Fatalf("restored rows differ:\n%v\n%v", want[:2], got[:2])
	}
	for _, cond := range []string{"kunden_nr IS NULL", "vin IS NULL", "keywords_json IS NULL", "kunden_nr = ''"} {
		if a, b := countWhere(t, filepath.Join(f.dir, "werkstatt.db"), cond), countWhere(t, f.e.DBPath, cond); a != b {
			t.Errorf("%s: %d rows in the original, %d restored", cond, a, b)
		}
	}
}

// countWhere counts the rows of auftraege matching cond, straight through SQL.
func countWhere(t *testing.T, path, cond string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM auftraege WHERE " + cond).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRestoreStoresEmptyAsNull(t *testing.T) {
	f := newFixture(t, nil)
	put(f, "2024/000001", csvOf(row("1", "000001", "kunden_nr", "", "data_complete", "")), "")
	if _, err := f.e.Restore(context.Background(), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := countWhere(t, f.e.DBPath, "kunden_nr IS NULL AND data_complete IS NULL AND auftrag_nr = '000001'"); n != 1 {
		t.Fatal("empty fields were not restored as NULL")
	}
}

func TestRestoreAbortsOnInvalidBackupWithDatabaseUnchanged(t *testing.T) {
	f := newFixture(t, sample.Rows(10, 1))
	f.export(ExportOptions{})
	before := fileBytes(t, f.e.DBPath)
	put(f, "2024/999999", strings.Replace(csvOf(row("99", "999999")), "2024-07-29,", "2024-07-32,", 1), "Checksumme")
	r, err := f.e.Restore(context.Background(), RestoreOptions{Force: true})
	if !errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "unverändert") {
		t.Fatalf("err = %v", err)
	}
	hasProblem(t, r, LevelError, "2024/999999/meta.json", "JSON")
	if !bytes.Equal(before, fileBytes(t, f.e.DBPath)) {
		t.Fatal("database changed by an aborted restore")
	}
	if m, _ := filepath.Glob(f.e.DBPath + ".bak-*"); len(m) != 0 {
		t.Fatalf("backup copy made although nothing was restored: %v", m)
	}
}

func TestRestoreSkipInvalid(t *testing.T) {
	f := newFixture(t, nil)
	put(f, "2024/000001", csvOf(row("1", "000001")), "")
	put(f, "2024/000002", strings.Replace(csvOf(row("2", "000002")), "Müller", "Mülle", 1), "")
	f.write("2024/000002/data.csv", csvOf(row("2", "000002"))) // meta.json describes other bytes
	r, err := f.e.Restore(context.Background(), RestoreOptions{SkipInvalid: true})
	if !errors.Is(err, ErrValidation) || r.OK != 1 || r.Errors != 1 {
		t.Fatalf("err %v report %+v", err, r)
	}
	if got := dbRows(t, f.e.DBPath); len(got) != 1 || got[0][0] != "1" {
		t.Fatalf("rows = %v", got)
	}
	if r.Summary() != "Restore abgeschlossen: 1 Datensätze wiederhergestellt, 1 Fehler (2 Ordner: 1 gültig, 1 ungültig, 0 nicht lesbar, 0 Duplikate)" {
		t.Fatal(r.Summary())
	}
}

func TestRestoreNeedsForceAndKeepsACopy(t *testing.T) {
	f := newFixture(t, sample.Rows(5, 2))
	f.export(ExportOptions{})
	before := fileBytes(t, f.e.DBPath)
	_, err := f.e.Restore(context.Background(), RestoreOptions{})
	if !errors.Is(err, ErrNeedForce) || !bytes.Equal(before, fileBytes(t, f.e.DBPath)) {
		t.Fatalf("err = %v (or database changed)", err)
	}
	r, err := f.e.Restore(context.Background(), RestoreOptions{Force: true})
	if err != nil || r.BackupDB == "" {
		t.Fatalf("forced restore: %v, copy %q", err, r.BackupDB)
	}
	if got := dbRows(t, r.BackupDB); len(got) != 5 {
		t.Fatalf("copy holds %d rows", len(got))
	}
	// The settings table of the web app is untouched, and so is its index.
	db, _ := store.OpenRead(context.Background(), f.e.DBPath)
	defer db.Close()
	if n, err := db.Count(context.Background(), "einstellungen"); err != nil || n != 2 {
		t.Fatalf("einstellungen: %d rows, %v", n, err)
	}
}

func TestRestoreDuplicateRules(t *testing.T) {
	var f0 *fixture
	meta := func(dir string, data string, exported string) {
		put(f0, dir, data, "")
		m := f0.read(dir + "/meta.json")
		f0.write(dir+"/meta.json", strings.Replace(m, "2024-07-29T10:30:00", exported, 1))
	}
	tests := []struct {
		name   string
		setup  func()
		winner string // kunde_name of the copy that must win
		why    string
	}{
		{"newest updated_at as time", func() {
			put(f0, "2024/000001", csvOf(row("1", "000001", "kunde_name", "A", "updated_at", "2024-07-29T12:00:00+02:00")), "")
			put(f0, "2023/000001", csvOf(row("1", "000001", "kunde_name", "B", "updated_at", "2024-07-29T10:30:00Z")), "")
		}, "B", "updated_at"},
		{"empty updated_at loses", func() {
			put(f0, "2024/000001", csvOf(row("1", "000001", "kunde_name", "A", "updated_at", "")), "")
			put(f0, "2023/000001", csvOf(row("1", "000001", "kunde_name", "B", "updated_at", "2019-01-01T00:00:00")), "")
		}, "B", "updated_at"},
		{"tie: newest exported_at", func() {
			meta("2024/000001", csvOf(row("1", "000001", "kunde_name", "A")), "2024-07-30T10:00:00")
			meta("2023/000001", csvOf(row("1", "000001", "kunde_name", "B")), "2024-07-31T10:00:00")
		}, "B", "exportiert"},
		{"tie: folder matching file_path", func() {
			put(f0, "2023/000001", csvOf(row("1", "000001", "kunde_name", "A")), "")
			put(f0, "2024/000001", csvOf(row("1", "000001", "kunde_name", "B")), "")
		}, "B", "file_path"},
		{"tie: path order", func() {
			put(f0, "2023/000001", csvOf(row("1", "000001", "kunde_name", "A", "file_path", "x.pdf")), "")
			put(f0, "2022/000001", csvOf(row("1", "000001", "kunde_name", "B", "file_path", "x.pdf")), "")
		}, "B", "Pfad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f0 = newFixture(t, nil)
			tt.setup()
			r, err := f0.e.Restore(context.Background(), RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			hasProblem(t, r, LevelWarning, "", "mehrfach", tt.why)
			if got := dbRows(t, f0.e.DBPath); len(got) != 1 || got[0][2] != tt.winner {
				t.Fatalf("restored %v, want kunde_name %q\n%s", got, tt.winner, problems(r))
			}
		})
	}
}

func TestRestoreDryRunCreatesNoDatabase(t *testing.T) {
	f := newFixture(t, nil)
	put(f, "2024/000001", csvOf(row("1", "000001")), "")
	r, err := f.e.Restore(context.Background(), RestoreOptions{DryRun: true})
	if err != nil || r.OK != 1 {
		t.Fatalf("%v %+v", err, r)
	}
	if _, err := os.Stat(f.e.DBPath); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("dry run created the database")
	}
	// Monitoring greps for "Restore abgeschlossen": a dry run must not
	// say it, in the summary or in the log.
	if s := r.Summary(); !strings.HasPrefix(s, "Restore-Probelauf beendet, nichts geändert: 1 Datensätze würden wiederhergestellt") {
		t.Fatalf("summary of a dry run: %q", s)
	}
	if strings.Contains(f.log.String(), "Restore abgeschlossen") || !strings.Contains(f.log.String(), "Restore-Probelauf beendet") {
		t.Fatalf("log of a dry run:\n%s", f.log)
	}
}
