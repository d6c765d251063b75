package sample

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	_ "modernc.org/sqlite"

	"werkstatt-backup/store"
)

func TestCreateDBRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "werkstatt.db")
	rows := Rows(450, 7)
	if err := CreateDB(ctx, path, rows); err != nil {
		t.Fatal(err)
	}
	if err := CreateDB(ctx, path, rows); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second CreateDB: err = %v, want fs.ErrExist", err)
	}
	db, err := store.OpenRead(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cols, err := db.Columns(ctx, "auftraege")
	if err != nil || !slices.Equal(cols, Columns) {
		t.Fatalf("Columns = %q, %v", cols, err)
	}
	var got [][]string
	n, err := db.Scan(ctx, "auftraege", func(_, vals []string) error {
		got = append(got, slices.Clone(vals))
		return nil
	})
	if err != nil || n != len(rows) || !slices.EqualFunc(got, rows, slices.Equal) {
		t.Fatalf("Scan: n = %d, err = %v, rows equal = %v", n, err, slices.EqualFunc(got, rows, slices.Equal))
	}
	if c, err := db.Count(ctx, "einstellungen"); c != 2 || err != nil {
		t.Errorf("einstellungen: %d rows, %v", c, err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}

	// Storage classes, checked with plain SQL.
	sdb, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	var empties, nonInt, nulls, idx int
	err = sdb.QueryRow(`SELECT
		(SELECT count(*) FROM auftraege WHERE kunden_nr = '' OR vin = '' OR keywords_json = ''),
		(SELECT count(*) FROM auftraege WHERE typeof(record_id) <> 'integer' OR typeof(data_complete) <> 'integer'),
		(SELECT count(*) FROM auftraege WHERE kunden_nr IS NULL OR vin IS NULL OR keywords_json IS NULL),
		(SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'auftraege' AND sql LIKE '%(auftrag_nr)%')`).
		Scan(&empties, &nonInt, &nulls, &idx)
	if err != nil {
		t.Fatal(err)
	}
	if empties != 0 || nonInt != 0 || nulls == 0 || idx != 1 {
		t.Errorf("empty strings %d, non-integer ids %d, NULLs %d, auftrag_nr indexes %d; want 0, 0, >0, 1",
			empties, nonInt, nulls, idx)
	}
}

func TestCreateDBFailureRemovesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "werkstatt.db")
	rows := Rows(10, 1)
	rows[5] = rows[5][:3]
	if err := CreateDB(context.Background(), path, rows); err == nil {
		t.Fatal("no error for a short row")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("failed CreateDB left %s behind", path)
	}
}

func TestCreateDBMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fehlt", "werkstatt.db")
	if err := CreateDB(context.Background(), path, Rows(1, 1)); err == nil {
		t.Fatal("no error for a missing directory")
	}
}
