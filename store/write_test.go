package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"testing"
)

// testDef is a table shaped like auftraege.
var testDef = TableDef{Name: "auftraege", Columns: []ColumnDef{
	{Name: "record_id", Type: "INTEGER", PrimaryKey: true},
	{Name: "auftrag_nr", Type: "TEXT", NotNull: true},
	{Name: "kunde_name", Type: "TEXT"},
	{Name: "data_complete", Type: "INTEGER"},
	{Name: "file_path", Type: "TEXT", NotNull: true},
}}

// testRows returns n rows for testDef; row bad (1-based, 0 for none) holds
// an invalid integer.
func testRows(n, bad int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		id := fmt.Sprint(i + 1)
		if i+1 == bad {
			id = "ja" // a primary key must be an integer
		}
		rows[i] = []string{id, fmt.Sprintf("%06d", i*7), fmt.Sprintf("Kunde %d, Ä", i), fmt.Sprint(i % 2), fmt.Sprintf("archiv/2024/%06d/x.pdf", i*7)}
	}
	return rows
}

// setupOld creates the old state: auftraege with rows, an index, a
// trigger, and an unrelated table.
func setupOld(t *testing.T, db *DB) {
	t.Helper()
	if _, err := db.Replace(context.Background(), testDef, seqOf(testRows(3, 0))); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `CREATE INDEX idx_auftrag_nr ON auftraege (auftrag_nr);
		CREATE UNIQUE INDEX idx_path ON auftraege (file_path) WHERE file_path <> '';
		CREATE TABLE einstellungen (key TEXT PRIMARY KEY, value TEXT);
		INSERT INTO einstellungen VALUES ('firma', 'Autohaus "Zum Stern"'), ('ort', 'München');
		CREATE TABLE log (nr TEXT);
		CREATE TRIGGER auftraege_neu AFTER INSERT ON auftraege BEGIN INSERT INTO log VALUES (NEW.auftrag_nr); END;
		CREATE INDEX idx_log ON log (nr)`)
}

// schema returns the sqlite_master rows, sorted.
func schema(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	if _, err := db.Scan(context.Background(), "sqlite_master", func(_, v []string) error {
		if v[2] == "auftraege" {
			v[3] = "" // the rebuilt table and its indexes get new root pages
		}
		out = append(out, strings.Join(v, "|"))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestReplaceRoundTrip(t *testing.T) {
	ctx := context.Background()
	db, _ := newWriteDB(t)
	setupOld(t, db)
	before := schema(t, db)
	settings := scanAll(t, db, "einstellungen")

	rows := testRows(1234, 0)
	rows[5][2] = ""       // NULL
	rows[6][4] = ""       // NOT NULL TEXT keeps ""
	rows[7][3] = ""       // INTEGER NULL
	rows[8][2] = "a\r\nb" // text as is
	n, err := db.Replace(ctx, testDef, seqOf(rows))
	if err != nil {
		t.Fatal(err)
	}
	if n != len(rows) {
		t.Fatalf("n = %d, want %d", n, len(rows))
	}
	if got := scanAll(t, db, "auftraege"); !equalRows(got, rows) {
		t.Fatal("rows differ after round trip")
	}
	var nulls, empties int
	if err := db.sql.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM auftraege WHERE kunde_name IS NULL) + (SELECT count(*) FROM auftraege WHERE data_complete IS NULL),
		(SELECT count(*) FROM auftraege WHERE file_path = '')`).Scan(&nulls, &empties); err != nil {
		t.Fatal(err)
	}
	if nulls != 2 || empties != 1 {
		t.Errorf("NULLs = %d, empty NOT NULL texts = %d; want 2, 1", nulls, empties)
	}
	if after := schema(t, db); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("schema changed:\n%s\nwant\n%s", strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	if got := scanAll(t, db, "einstellungen"); !equalRows(got, settings) {
		t.Errorf("einstellungen changed: %q", got)
	}
	// The trigger is back (it did not fire for restored rows) and works.
	if c, _ := db.Count(ctx, "log"); c != 0 {
		t.Errorf("trigger fired %d times during Replace", c)
	}
	mustExec(t, db, "INSERT INTO auftraege (auftrag_nr, file_path) VALUES ('999999', 'p')")
	if c, _ := db.Count(ctx, "log"); c != 1 {
		t.Errorf("trigger not re-created: log has %d rows", c)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

func TestReplaceCreatesMissingTable(t *testing.T) {
	db, _ := newWriteDB(t)
	n, err := db.Replace(context.Background(), testDef, seqOf(testRows(200, 0)))
	if err != nil || n != 200 {
		t.Fatalf("n, err = %d, %v", n, err)
	}
	n, err = db.Replace(context.Background(), testDef, seqOf(nil))
	if err != nil || n != 0 {
		t.Fatalf("empty: n, err = %d, %v", n, err)
	}
	if c, _ := db.Count(context.Background(), "auftraege"); c != 0 {
		t.Fatalf("Count = %d after empty Replace", c)
	}
}

// assertUnchanged runs a failing Replace and checks that the file and the
// old rows are untouched.
func assertUnchanged(t *testing.T, ctx context.Context, def TableDef, rows iter.Seq2[[]string, error], wantErr string) error {
	t.Helper()
	db, path := newWriteDB(t)
	setupOld(t, db)
	oldRows := scanAll(t, db, "auftraege")
	before := readFile(t, path)
	n, err := db.Replace(ctx, def, rows)
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("err = %v, want it to contain %q", err, wantErr)
	}
	if n != 0 {
		t.Errorf("n = %d on failure", n)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Error("database file changed")
	}
	if got := scanAll(t, db, "auftraege"); !equalRows(got, oldRows) {
		t.Errorf("old rows changed: %q", got)
	}
	return err
}

func TestReplaceBadIntegerRollsBack(t *testing.T) {
	assertUnchanged(t, context.Background(), testDef, seqOf(testRows(1000, 500)),
		`Zeile 500: Spalte record_id: "ja" ist keine ganze Zahl`)
}

func TestReplaceConstraintRollsBack(t *testing.T) {
	rows := testRows(1000, 0)
	rows[700][0] = "1" // duplicate primary key, found by SQLite in a later batch
	assertUnchanged(t, context.Background(), testDef, seqOf(rows), "UNIQUE constraint failed")
}

func TestReplaceIteratorErrorRollsBack(t *testing.T) {
	boom := errors.New("CSV kaputt")
	rows := func(yield func([]string, error) bool) {
		for i, r := range testRows(1000, 0) {
			if i == 600 {
				yield(nil, boom)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	err := assertUnchanged(t, context.Background(), testDef, rows, "Zeile 601: CSV kaputt")
	if !errors.Is(err, boom) {
		t.Errorf("err = %v does not wrap the iterator's error", err)
	}
}

func TestReplaceWrongWidthRollsBack(t *testing.T) {
	rows := testRows(500, 0)
	rows[450] = rows[450][:4]
	assertUnchanged(t, context.Background(), testDef, seqOf(rows), "Zeile 451: 4 Werte statt 5")
}

func TestReplaceCancelRollsBack(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows := func(yield func([]string, error) bool) {
		for i, r := range testRows(1000, 0) {
			if i == 450 { // after two batches went to SQLite
				cancel()
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	err := assertUnchanged(t, ctx, testDef, rows, "abgebrochen")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestReplaceIndexOnDroppedColumnRollsBack(t *testing.T) {
	def := testDef
	def.Columns = def.Columns[:4] // no file_path: idx_path cannot be re-created
	rows := testRows(10, 0)
	for i := range rows {
		rows[i] = rows[i][:4]
	}
	assertUnchanged(t, context.Background(), def, seqOf(rows), "idx_path")
}

func TestReplaceInvalidDef(t *testing.T) {
	db, _ := newWriteDB(t)
	for _, def := range []TableDef{
		{},
		{Name: "t"},
		{Name: "t", Columns: []ColumnDef{{Name: "a", Type: "REAL"}}},
		{Name: "t", Columns: []ColumnDef{{Name: "a", Type: "TEXT"}, {Name: "A", Type: "TEXT"}}},
	} {
		if _, err := db.Replace(context.Background(), def, seqOf(nil)); err == nil {
			t.Errorf("Replace(%+v) succeeded", def)
		}
	}
}

func TestReplaceStopsPullingOnError(t *testing.T) {
	db, _ := newWriteDB(t)
	pulled := 0
	rows := func(yield func([]string, error) bool) {
		for _, r := range testRows(1000, 10) {
			pulled++
			if !yield(r, nil) {
				return
			}
		}
	}
	if _, err := db.Replace(context.Background(), testDef, rows); err == nil {
		t.Fatal("no error")
	}
	if pulled != 10 {
		t.Errorf("pulled %d rows, want 10 (lazy, stops at the bad row)", pulled)
	}
}

// TestReplaceKeepsIntegerColumnValues restores values of an INTEGER column
// that break the 0/1 rule, as Scan read them from a database with that
// column, exactly so again: a person's "ja" is no integer, and binding it as
// one failed the whole restore.
func TestReplaceKeepsIntegerColumnValues(t *testing.T) {
	db, _ := newWriteDB(t)
	values := []string{"0", "1", "-3", "ja", "1.5", "1e+20", "0x10", "nan", "9223372036854775807", "9.223372036854776e+18", "Ω"}
	var rows [][]string
	for i, v := range values {
		rows = append(rows, []string{fmt.Sprint(i + 1), "000001", "", v, "a/2024/000001/x.pdf"})
	}
	if _, err := db.Replace(context.Background(), testDef, seqOf(rows)); err != nil {
		t.Fatal(err)
	}
	got := scanAll(t, db, "auftraege")
	for i, v := range values {
		if got[i][3] != v {
			t.Errorf("data_complete %q restored as %q", v, got[i][3])
		}
	}
}
