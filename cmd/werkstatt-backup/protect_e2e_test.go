package main

import (
	"context"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/store"
)

// webAppDB creates the web app's database with rows as a real workshop has
// them, written by SQL as the web app writes them: SQLite's own
// CURRENT_TIMESTAMP, a German date typed by a person, "ja" for 0/1, text
// that is no JSON, two rows for one order, an order number that is none.
func webAppDB(t *testing.T, path string) {
	t.Helper()
	db, err := store.OpenWrite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const schema = `CREATE TABLE auftraege (
		record_id INTEGER PRIMARY KEY, auftrag_nr TEXT NOT NULL, kunde_name TEXT, kunden_nr TEXT,
		kennzeichen TEXT, vin TEXT, datum TEXT, formular_version TEXT, keywords_json TEXT,
		file_path TEXT NOT NULL, hash TEXT, data_complete INTEGER, created_at TEXT, updated_at TEXT);
	INSERT INTO auftraege VALUES
		(1, '076329', 'Müller', 'K1', 'B-AB 1', 'WVW1', '2023-05-01', 'neu', '{"Garantie": [2]}',
		 'archiv/2023/076329/076329_Auftrag.pdf', 'h1', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
		(2, '076330', 'Meier, "Hans"', 'K2', 'B-AB 2', 'WVW2', '01.02.2023', 'alt', 'Garantie',
		 'archiv/2023/076330/076330_Auftrag.pdf', 'h2', 'ja', '2023-05-01T10:20', '2023-05-01 10:20:30.000'),
		(3, '076330', 'Zweite Erfassung', 'K3', NULL, NULL, '2023-02-01', 'alt', NULL,
		 'archiv/2023/076330/076330_Auftrag.pdf', NULL, 0, '2023-05-01', '2023-05-01T10:20:30+02:00'),
		(4, 'A-17', 'Ohne Nummer', NULL, NULL, NULL, NULL, NULL, NULL,
		 'scan.pdf', NULL, NULL, '2023-06-01 08:00:00', '2023-06-01 08:00:00'),
		(5, '076332', 'Schmidt' || char(13, 10) || 'zweite Zeile', 'K5', 'B-AB 5', NULL, '2024-01-31', 'neu', '[]',
		 'archiv/2024/076332/076332_Auftrag.pdf', 'h5', 1, '20240131T120000', '2024-01-31 12:00:00.123456');`
	if err := db.Exec(context.Background(), schema); err != nil {
		t.Fatal(err)
	}
}

func tableRows(t *testing.T, path string) [][]string {
	t.Helper()
	db, err := store.OpenRead(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows [][]string
	if _, err := db.Scan(context.Background(), "auftraege", func(_, vals []string) error {
		rows = append(rows, slices.Clone(vals))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return rows
}

// dataFiles returns every data.csv below root, by path relative to it.
func dataFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "data.csv" {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestEveryRowRoundTripsThroughTheBinary: export protects every row of a
// realistic database (exit 3 for the field-rule warnings and the rows
// without an order folder), verify accepts the archive, restore brings the
// table back exactly, and exporting the restored table writes the same
// bytes. A column outside the backup schema is an ERROR --quiet shows.
func TestEveryRowRoundTripsThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"archiv", "archiv2"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	webAppDB(t, filepath.Join(dir, "werkstatt.db"))

	r := wb(t, dir, "export", "--db", "./werkstatt.db", "--archiv", "./archiv").expect(t, 3)
	for _, want := range []string{
		"Export abgeschlossen: 5 erfolgreich, 0 Fehler",
		`WARNING - record_id 2: Auftrag 076330 verletzt Feldregeln`,
		`WARNING - record_id 3: Auftrag 076330: Ordner 2023/076330 gehört zu mehreren Datensätzen`,
		`WARNING - record_id 4: Auftrag A-17 hat keinen eigenen Ordner`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("export output lacks %q:\n%s", want, r.stdout)
		}
	}
	first := dataFiles(t, filepath.Join(dir, "archiv"))
	want := []string{"2023/076329/data.csv", "2023/076330/data.csv", "2024/076332/data.csv", "_ohne_ordner/3/data.csv", "_ohne_ordner/4/data.csv"}
	if got := slices.Sorted(maps.Keys(first)); !slices.Equal(got, want) {
		t.Fatalf("backups %q, want %q", got, want)
	}
	if !strings.Contains(first["2023/076330/data.csv"], ",01.02.2023,alt,Garantie,") ||
		!strings.Contains(first["2023/076330/data.csv"], ",ja,2023-05-01T10:20,2023-05-01 10:20:30.000\r\n") {
		t.Errorf("data.csv does not hold the row as the database does:\n%s", first["2023/076330/data.csv"])
	}

	wb(t, dir, "verify", "--archiv", "./archiv").expect(t, 0)
	r = wb(t, dir, "restore", "--db", "./neu.db", "--archiv", "./archiv").expect(t, 0)
	if !strings.Contains(r.stdout, "Restore abgeschlossen: 5 Datensätze wiederhergestellt, 0 Fehler") {
		t.Fatalf("restore:\n%s", r.stdout)
	}
	orig, restored := tableRows(t, filepath.Join(dir, "werkstatt.db")), tableRows(t, filepath.Join(dir, "neu.db"))
	if !slices.EqualFunc(orig, restored, slices.Equal) {
		t.Fatalf("restored table differs:\n got %q\nwant %q", restored, orig)
	}
	wb(t, dir, "verify", "--archiv", "./archiv", "--db", "./neu.db").expect(t, 0)
	wb(t, dir, "export", "--db", "./neu.db", "--archiv", "./archiv2").expect(t, 3)
	second := dataFiles(t, filepath.Join(dir, "archiv2"))
	for name, data := range first {
		if second[name] != data {
			t.Errorf("%s: export of the restored database differs:\n%q\n%q", name, second[name], data)
		}
	}

	db, err := store.OpenWrite(context.Background(), filepath.Join(dir, "werkstatt.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), `ALTER TABLE auftraege ADD COLUMN notiz TEXT`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r = wb(t, dir, "export", "--quiet", "--db", "./werkstatt.db", "--archiv", "./archiv").expect(t, 3)
	if !strings.Contains(r.stdout, "ERROR - Spalte notiz der Tabelle auftraege gehört nicht zu Schema 1.0") {
		t.Fatalf("--quiet hid the extra column:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}
