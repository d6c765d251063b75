package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenReadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fehlt.db")
	_, err := OpenRead(context.Background(), path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
	want := "Datenbank " + path + " nicht gefunden"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenRead created %s", path)
	}
}

func TestOpenReadNotSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kaputt.db")
	junk := strings.Repeat("Das ist keine Datenbank, nur Text. ", 200)
	if err := os.WriteFile(path, []byte(junk), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(context.Context, string) (*DB, error){
		"OpenRead": OpenRead, "OpenWrite": OpenWrite,
	} {
		_, err := open(context.Background(), path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "keine SQLite-Datenbank") {
			t.Errorf("%s: err = %v, want error naming %s as not SQLite", name, err, path)
		}
	}
	if got := readFile(t, path); string(got) != junk {
		t.Error("file was modified")
	}
}

func TestOpenWriteMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gibtsnicht")
	_, err := OpenWrite(context.Background(), filepath.Join(dir, "werkstatt.db"))
	if err == nil || !strings.Contains(err.Error(), dir) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want error naming %s", err, dir)
	}
}

func TestOpenSpecialCharsInPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Büro 50% #1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "werk?statt&mode=ro.db")
	db, err := OpenWrite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE TABLE t (x INTEGER)")
	db.Close()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
		t.Fatalf("directory holds %v, want only %s", entries, filepath.Base(path))
	}
	rdb, err := OpenRead(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if _, err := rdb.Columns(context.Background(), "t"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenReadIsReadOnly(t *testing.T) {
	db, path := newWriteDB(t)
	mustExec(t, db, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)")
	rdb, err := OpenRead(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	if err := rdb.Exec(context.Background(), "INSERT INTO t VALUES (2)"); err == nil {
		t.Fatal("write through OpenRead succeeded")
	}
	def := TableDef{Name: "t", Columns: []ColumnDef{{Name: "x", Type: "INTEGER"}}}
	if _, err := rdb.Replace(context.Background(), def, seqOf(nil)); err == nil {
		t.Fatal("Replace through OpenRead succeeded")
	}
	if n, _ := db.Count(context.Background(), "t"); n != 1 {
		t.Fatalf("Count = %d, want 1", n)
	}
}

func TestCreateSQL(t *testing.T) {
	def := TableDef{Name: `a"b`, Columns: []ColumnDef{
		{Name: "id", Type: "INTEGER", PrimaryKey: true},
		{Name: "nr", Type: "TEXT", NotNull: true},
	}}
	want := `CREATE TABLE "a""b" ("id" INTEGER PRIMARY KEY, "nr" TEXT NOT NULL)`
	if got := def.CreateSQL(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	def.Columns[1].PrimaryKey = true
	want = `CREATE TABLE "a""b" ("id" INTEGER, "nr" TEXT NOT NULL, PRIMARY KEY ("id", "nr"))`
	if got := def.CreateSQL(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestIntegrityCheckFresh(t *testing.T) {
	db, _ := newWriteDB(t)
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x); INSERT INTO t VALUES ('a'), ('b')")
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestBackupTo(t *testing.T) {
	ctx := context.Background()
	db, path := newWriteDB(t)
	mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
		CREATE INDEX t_name ON t (name);
		INSERT INTO t (name) VALUES ('Müller'), ('Schäfer'), (NULL)`)
	want := scanAll(t, db, "t")
	dest := filepath.Join(t.TempDir(), "werkstatt.db.bak-20240729-103000")
	if err := db.BackupTo(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if err := db.BackupTo(ctx, dest); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second BackupTo: err = %v, want fs.ErrExist", err)
	}
	// A read-only connection can take a backup too.
	rdb, err := OpenRead(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	dest2 := dest + "-ro"
	if err := rdb.BackupTo(ctx, dest2); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{dest, dest2} {
		cp, err := OpenRead(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if got := scanAll(t, cp, "t"); !equalRows(got, want) {
			t.Errorf("%s: rows %q, want %q", d, got, want)
		}
		if err := cp.IntegrityCheck(ctx); err != nil {
			t.Error(err)
		}
		cp.Close()
	}
}

func TestBackupToMissingDir(t *testing.T) {
	db, _ := newWriteDB(t)
	dest := filepath.Join(t.TempDir(), "fehlt", "kopie.db")
	if err := db.BackupTo(context.Background(), dest); err == nil || !strings.Contains(err.Error(), dest) {
		t.Fatalf("err = %v, want error naming %s", err, dest)
	}
}

// equalRows reports whether a and b hold the same rows.
func equalRows(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00") != strings.Join(b[i], "\x00") || len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}
