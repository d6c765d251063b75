package backup

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/store"
)

// rawTable returns every row of table as SQLite stores it (storage class
// and hex of each value), by rowid, so that a test can say "byte-identical".
func rawTable(t *testing.T, path, table string) map[int64]string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols := []string{}
	rows, err := db.Query("SELECT name FROM pragma_table_info(?)", table)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cols = append(cols, "typeof(\""+c+"\") || ':' || hex(\""+c+"\")")
	}
	rows.Close()
	rows, err = db.Query("SELECT rowid, " + strings.Join(cols, " || '|' || ") + " FROM \"" + table + "\"")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	return out
}

// sameExcept fails unless before and after hold the same rows, byte for
// byte, except the rowids in except.
func sameExcept(t *testing.T, before, after map[int64]string, except ...int64) {
	t.Helper()
	skip := map[int64]bool{}
	for _, id := range except {
		skip[id] = true
	}
	for id, b := range before {
		if !skip[id] && after[id] != b {
			t.Fatalf("row %d changed:\n before %s\n after  %s", id, b, after[id])
		}
	}
	for id := range after {
		if _, ok := before[id]; !ok && !skip[id] {
			t.Fatalf("row %d appeared", id)
		}
	}
}

func field(t *testing.T, path string, id int64, col string) (string, bool) {
	t.Helper()
	db, err := store.OpenRead(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.ReadRow(context.Background(), Table, keyColumn, id)
	if err != nil {
		t.Fatal(err)
	}
	if r == nil {
		return "", false
	}
	v, _ := r.Get(col)
	return v.String(), true
}

func orderFixture(t *testing.T) *fixture {
	f := newFixture(t, [][]string{
		row("1", "076329", "kunde_name", "Schmidt, Jürgen"),
		row("2", "076330"),
		row("3", "076331", "data_complete", "0"),
		row("4", "000007"),
	})
	f.export(ExportOptions{})
	// A table of the web app's that restore must never touch.
	execDB(t, f.e.DBPath, `CREATE TABLE notizen (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notizen VALUES (1, 'bleibt')`)
	return f
}

// TestRestoreOrder: one order back into the live database. Only its row
// changes (UPDATE, byte-identical others, other tables untouched, no
// --force, no copy of the database); the old row is in the log, the
// report and an undo file beside the database, and --undo puts it back.
// A row that is gone is inserted again, and its undo deletes it.
func TestRestoreOrder(t *testing.T) {
	f := orderFixture(t)
	ctx := context.Background()
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Meier, Karl', kennzeichen = NULL WHERE record_id = 1`)
	before, notes := rawTable(t, f.e.DBPath, Table), rawTable(t, f.e.DBPath, "notizen")

	r, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076329"})
	if err != nil {
		t.Fatalf("restore --auftrag: %v\n%s", err, problems(r))
	}
	if v, _ := field(t, f.e.DBPath, 1, "kunde_name"); v != "Schmidt, Jürgen" {
		t.Fatalf("kunde_name = %q", v)
	}
	if v, _ := field(t, f.e.DBPath, 1, "kennzeichen"); v != "B-AB 1234" {
		t.Fatalf("kennzeichen = %q", v)
	}
	sameExcept(t, before, rawTable(t, f.e.DBPath, Table), 1)
	sameExcept(t, notes, rawTable(t, f.e.DBPath, "notizen"))
	if m, _ := filepath.Glob(f.e.DBPath + ".bak-*"); len(m) != 0 {
		t.Fatalf("a copy of the whole database was made: %v", m)
	}
	o := r.Order
	if o == nil || o.Action != OrderReplaced || o.RecordID != 1 || o.Source != "2024/076329/data.csv" || r.OK != 1 {
		t.Fatalf("report: %+v %+v", r, o)
	}
	if v, _ := o.Old.Get("kunde_name"); v.Text != "Meier, Karl" {
		t.Fatalf("old row in the report: %+v", o.Old)
	}
	changed := map[string]bool{}
	for _, fc := range o.Fields {
		if fc.Changed {
			changed[fc.Column] = true
		}
		if fc.Column == "kunde_name" && (fc.Old != "Meier, Karl" || fc.New != "Schmidt, Jürgen") {
			t.Fatalf("field: %+v", fc)
		}
	}
	if len(changed) != 2 || !changed["kunde_name"] || !changed["kennzeichen"] {
		t.Fatalf("changed fields: %v", changed)
	}
	if !strings.Contains(f.log.String(), `alte Zeile: record_id=\"1\"`) || !strings.Contains(f.log.String(), `kunde_name=\"Meier, Karl\"`) ||
		!strings.Contains(f.log.String(), "kennzeichen=NULL") {
		t.Fatalf("old row not in the log:\n%s", f.log)
	}
	if !strings.HasPrefix(r.Summary(), "Restore abgeschlossen: 1 Datensätze wiederhergestellt, 0 Fehler (Auftrag 076329") ||
		!strings.Contains(r.Summary(), "restore --undo "+o.UndoFile) {
		t.Fatalf("summary: %s", r.Summary())
	}
	// The undo file lies beside the database and names the old row.
	if filepath.Dir(o.UndoFile) != filepath.Dir(f.e.DBPath) || !strings.HasPrefix(filepath.Base(o.UndoFile), "werkstatt.db.auftrag-076329-") {
		t.Fatalf("undo file %s", o.UndoFile)
	}
	raw, err := os.ReadFile(o.UndoFile)
	if err != nil || !strings.Contains(string(raw), `"Meier, Karl"`) {
		t.Fatalf("undo file: %v\n%s", err, raw)
	}
	js, _ := json.Marshal(r)
	if !strings.Contains(string(js), `"old":[{"column":"record_id","type":"integer","value":1}`) {
		t.Fatalf("--json lacks the old row: %s", js)
	}

	// Undo: the row as it was, exactly (NULL stays NULL), others untouched.
	after := rawTable(t, f.e.DBPath, Table)
	u, err := f.e.UndoOrder(ctx, UndoOptions{File: o.UndoFile})
	if err != nil {
		t.Fatalf("undo: %v\n%s", err, problems(u))
	}
	sameExcept(t, before, rawTable(t, f.e.DBPath, Table))
	sameExcept(t, after, rawTable(t, f.e.DBPath, Table), 1)
	if u.Order.UndoFile == "" || u.Order.UndoFile == o.UndoFile {
		t.Fatalf("undo keeps no undo file of its own: %+v", u.Order)
	}

	// A deleted row is inserted again; its undo deletes it.
	execDB(t, f.e.DBPath, `DELETE FROM auftraege WHERE record_id = 3`)
	before = rawTable(t, f.e.DBPath, Table)
	r, err = f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076331"})
	if err != nil || r.Order.Action != OrderInserted || r.Order.Old != nil {
		t.Fatalf("re-insert: %v %+v", err, r.Order)
	}
	if v, ok := field(t, f.e.DBPath, 3, "data_complete"); !ok || v != "0" {
		t.Fatalf("re-inserted row: %q %v", v, ok)
	}
	sameExcept(t, before, rawTable(t, f.e.DBPath, Table), 3)
	if _, err := f.e.UndoOrder(ctx, UndoOptions{File: r.Order.UndoFile}); err != nil {
		t.Fatal(err)
	}
	if _, ok := field(t, f.e.DBPath, 3, "kunde_name"); ok {
		t.Fatal("undo of an insert left the row")
	}
	sameExcept(t, before, rawTable(t, f.e.DBPath, Table))
}

// TestRestoreOrderDryRun shows old and new side by side and changes
// nothing, writes no undo file, and its summary says Probelauf.
func TestRestoreOrderDryRun(t *testing.T) {
	f := orderFixture(t)
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Meier, Karl' WHERE record_id = 1`)
	db := fileBytes(t, f.e.DBPath)
	r, err := f.e.RestoreOrder(context.Background(), OrderOptions{AuftragNr: "076329", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	unchangedDB(t, f.e.DBPath, db)
	if m, _ := filepath.Glob(f.e.DBPath + ".auftrag-*"); len(m) != 0 {
		t.Fatalf("dry run wrote %v", m)
	}
	var kunde *FieldChange
	for i := range r.Order.Fields {
		if r.Order.Fields[i].Column == "kunde_name" {
			kunde = &r.Order.Fields[i]
		}
	}
	if kunde == nil || kunde.Old != "Meier, Karl" || kunde.New != "Schmidt, Jürgen" || !kunde.Changed || r.Order.Action != OrderReplaced {
		t.Fatalf("fields: %+v", r.Order)
	}
	if s := r.Summary(); !strings.Contains(s, "Probelauf") || strings.Contains(s, "Restore abgeschlossen") {
		t.Fatalf("summary: %s", s)
	}
	if strings.Contains(f.log.String(), "Restore abgeschlossen") {
		t.Fatalf("dry run logged a finished restore:\n%s", f.log)
	}
}

// TestRestoreOrderRefusals: unknown order, invalid backup, a record_id
// that is another order in the database, and an undo of a row changed
// since: each a clear error of its own kind, the database unchanged.
func TestRestoreOrderRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("unbekannt", func(t *testing.T) {
		f := orderFixture(t)
		db := fileBytes(t, f.e.DBPath)
		_, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "999999"})
		if !errors.Is(err, ErrOrderNotFound) || errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "keine Sicherung von Auftrag 999999") {
			t.Fatalf("unknown order: %v", err)
		}
		unchangedDB(t, f.e.DBPath, db)
	})
	t.Run("ungültig", func(t *testing.T) {
		f := orderFixture(t)
		execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Meier' WHERE record_id = 2`)
		f.write("2024/076330/data.csv", strings.Replace(f.read("2024/076330/data.csv"), "Müller", "Mülle!", 1))
		db := fileBytes(t, f.e.DBPath)
		r, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076330"})
		if !errors.Is(err, ErrValidation) {
			t.Fatalf("invalid backup: %v", err)
		}
		hasProblem(t, r, LevelError, "2024/076330/data.csv", "Checksumme")
		unchangedDB(t, f.e.DBPath, db)
		// Damage of another order's backup does not concern this one.
		if _, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076329"}); err != nil {
			t.Fatalf("other order: %v", err)
		}
	})
	t.Run("fremde record_id", func(t *testing.T) {
		f := orderFixture(t)
		execDB(t, f.e.DBPath, `UPDATE auftraege SET auftrag_nr = '111111' WHERE record_id = 2`)
		db := fileBytes(t, f.e.DBPath)
		_, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076330"})
		if !errors.Is(err, ErrOrderConflict) || !strings.Contains(err.Error(), "record_id 2 ist in der Datenbank Auftrag 111111") {
			t.Fatalf("conflict: %v", err)
		}
		unchangedDB(t, f.e.DBPath, db)
		if m, _ := filepath.Glob(f.e.DBPath + ".auftrag-*"); len(m) != 0 {
			t.Fatalf("refused restore left %v", m)
		}
	})
	t.Run("undo nach Änderung", func(t *testing.T) {
		f := orderFixture(t)
		execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Meier' WHERE record_id = 2`)
		r, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076330"})
		if err != nil {
			t.Fatal(err)
		}
		execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Neu' WHERE record_id = 2`)
		db := fileBytes(t, f.e.DBPath)
		if _, err := f.e.UndoOrder(ctx, UndoOptions{File: r.Order.UndoFile}); !errors.Is(err, ErrRowChanged) {
			t.Fatalf("undo of a changed row: %v", err)
		}
		unchangedDB(t, f.e.DBPath, db)
		if _, err := f.e.UndoOrder(ctx, UndoOptions{File: r.Order.UndoFile, Force: true}); err != nil {
			t.Fatal(err)
		}
		if v, _ := field(t, f.e.DBPath, 2, "kunde_name"); v != "Meier" {
			t.Fatalf("forced undo: %q", v)
		}
		// An undo file of another database is refused.
		other := newFixture(t, [][]string{row("2", "076330")})
		if _, err := other.e.UndoOrder(ctx, UndoOptions{File: r.Order.UndoFile}); !errors.Is(err, ErrUndoFile) {
			t.Fatalf("undo file of another database: %v", err)
		}
	})
}

// TestRestoreOrderNumberForms: order numbers compare as stored; a number
// given without its leading zeros matches with a note; several copies of
// one order: the newest updated_at wins, as in restore, with a warning.
func TestRestoreOrderNumberForms(t *testing.T) {
	ctx := context.Background()
	f := orderFixture(t)
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Meier' WHERE record_id = 4`)
	r, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "7"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Order.AuftragNr != "000007" || r.Order.Requested != "7" || !strings.Contains(r.Order.Note, "führenden Nullen") {
		t.Fatalf("padded match: %+v", r.Order)
	}
	if v, _ := field(t, f.e.DBPath, 4, "kunde_name"); v != "Müller" {
		t.Fatalf("kunde_name %q", v)
	}

	// A newer copy of 076330 in a moved folder wins.
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Neuer', updated_at = '2024-08-01T09:00:00' WHERE record_id = 2`)
	f.export(ExportOptions{})
	newer := f.read("2024/076330/data.csv")
	meta := f.read("2024/076330/meta.json")
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Älter', updated_at = '2024-07-01T09:00:00' WHERE record_id = 2`)
	f.export(ExportOptions{})
	f.write("alt/076330/data.csv", newer)
	f.write("alt/076330/meta.json", meta)
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Kaputt' WHERE record_id = 2`)
	r, err = f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076330"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := field(t, f.e.DBPath, 2, "kunde_name"); v != "Neuer" || r.Order.Source != "alt/076330/data.csv" {
		t.Fatalf("kunde_name %q from %s", v, r.Order.Source)
	}
	hasProblem(t, r, LevelWarning, "", "mehrfach gesichert", "neuestes updated_at")

	// Nothing to do: the row is as in the backup.
	r, err = f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076330"})
	if err != nil || r.Order.Action != OrderUnchanged || r.Order.UndoFile != "" || r.OK != 0 {
		t.Fatalf("unchanged: %v %+v", err, r.Order)
	}
}

// TestRestoreOrderAt takes the order from a generation of the history.
func TestRestoreOrderAt(t *testing.T) {
	f, now := historyFixture(t, [][]string{row("1", "076329", "kunde_name", "Schmidt, Jürgen"), row("2", "076330")})
	f.export(ExportOptions{})
	first := *now
	*now = now.Add(24 * time.Hour)
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Meier, Karl' WHERE record_id = 1`)
	f.export(ExportOptions{})
	before := rawTable(t, f.e.DBPath, Table)

	// The per-order backup holds Meier now; the generation of the first
	// day still has Schmidt.
	r, err := f.e.RestoreOrder(context.Background(), OrderOptions{AuftragNr: "076329", At: first.Add(time.Hour)})
	if err != nil {
		t.Fatalf("--at: %v\n%s", err, problems(r))
	}
	if v, _ := field(t, f.e.DBPath, 1, "kunde_name"); v != "Schmidt, Jürgen" {
		t.Fatalf("kunde_name %q", v)
	}
	if r.Generation != 1 || !strings.Contains(r.Order.Source, "Generation 1") {
		t.Fatalf("generation %d, source %s", r.Generation, r.Order.Source)
	}
	sameExcept(t, before, rawTable(t, f.e.DBPath, Table), 1)
}

// TestRestoreOrderKeepsWhatTheBackupLacks: a column of a newer web app
// keeps its value (the backup has no such column) and is not shown as
// changed; a trigger that changes the row as it is written is named, and
// the undo file records the row as it then is, so --undo needs no --force.
func TestRestoreOrderKeepsWhatTheBackupLacks(t *testing.T) {
	ctx := context.Background()
	f := orderFixture(t)
	execDB(t, f.e.DBPath, `ALTER TABLE auftraege ADD COLUMN notiz TEXT; UPDATE auftraege SET notiz = 'nur in der DB', kunde_name = 'Meier' WHERE record_id = 1;
		CREATE TRIGGER stempel AFTER UPDATE OF kunde_name ON auftraege BEGIN UPDATE auftraege SET updated_at = '2099-01-01T00:00:00' WHERE record_id = NEW.record_id; END`)
	before := rawTable(t, f.e.DBPath, Table)
	r, err := f.e.RestoreOrder(ctx, OrderOptions{AuftragNr: "076329"})
	if err != nil {
		t.Fatalf("%v\n%s", err, problems(r))
	}
	if v, _ := field(t, f.e.DBPath, 1, "notiz"); v != "nur in der DB" {
		t.Fatalf("notiz = %q", v)
	}
	for _, fc := range r.Order.Fields {
		if fc.Column == "notiz" && (fc.Changed || fc.New != "nur in der DB") {
			t.Fatalf("notiz: %+v", fc)
		}
	}
	hasProblem(t, r, LevelWarning, "", "Trigger", "updated_at")
	sameExcept(t, before, rawTable(t, f.e.DBPath, Table), 1)
	if _, err := f.e.UndoOrder(ctx, UndoOptions{File: r.Order.UndoFile}); err != nil {
		t.Fatalf("undo after a trigger: %v", err)
	}
	if v, _ := field(t, f.e.DBPath, 1, "kunde_name"); v != "Meier" {
		t.Fatalf("kunde_name = %q", v)
	}
}
