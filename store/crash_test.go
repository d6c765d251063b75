package store

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHelperKilledWriter is the child of TestOpenReadAfterAKilledWriter: it
// changes every row of a big table inside a transaction, so SQLite spills
// changed pages into the database file, says so and waits to be killed.
func TestHelperKilledWriter(t *testing.T) {
	p := os.Getenv("STORE_KILLED_WRITER_DB")
	if p == "" {
		t.Skip("child process of TestOpenReadAfterAKilledWriter")
	}
	db, err := OpenWrite(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.sql.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE gross SET v = v || 'x'"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p+".bereit", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Minute)
}

// A writer killed inside its transaction leaves a hot journal; a read-only
// connection may not roll it back and SQLite refuses to read the file
// (SQLITE_READONLY_ROLLBACK). OpenRead must still open it, and see the last
// committed state.
func TestOpenReadAfterAKilledWriter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "werkstatt.db")
	createGross(t, p)
	killWriterInTransaction(t, p)

	r, err := OpenRead(context.Background(), p)
	if err != nil {
		t.Fatalf("OpenRead after a killed writer: %v", err)
	}
	defer r.Close()
	checkRolledBack(t, r, p)
}

// The web app can be killed inside a transaction while export has the
// database open: the hot journal appears after OpenRead. Scan must roll it
// back before taking its snapshot and see the last committed state.
func TestScanAfterAWriterKilledWhileOpen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "werkstatt.db")
	createGross(t, p)
	r, err := OpenRead(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	killWriterInTransaction(t, p)
	checkRolledBack(t, r, p)
}

// createGross creates a database with a table big enough that changing all
// its rows spills pages into the database file before the commit.
func createGross(t *testing.T, p string) {
	t.Helper()
	db, err := OpenWrite(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, "CREATE TABLE gross (id INTEGER PRIMARY KEY, v TEXT)")
	mustExec(t, db, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < 10000) INSERT INTO gross SELECT i, printf('%.300d', i) FROM c")
	db.Close()
}

// killWriterInTransaction runs TestHelperKilledWriter on p and kills it
// inside its transaction, leaving a hot journal.
func killWriterInTransaction(t *testing.T, p string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^TestHelperKilledWriter$")
	cmd.Env = append(os.Environ(), "STORE_KILLED_WRITER_DB="+p)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(p + ".bereit"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("writer did not start its transaction")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(p + "-journal"); err != nil {
		t.Fatalf("no hot journal after the kill: %v", err)
	}
}

// checkRolledBack scans r: no change of the killed transaction may be
// visible, the journal must be gone and the database intact.
func checkRolledBack(t *testing.T, r *DB, p string) {
	t.Helper()
	changed := 0
	if _, err := r.Scan(context.Background(), "gross", func(_, vals []string) error {
		if vals[1][len(vals[1])-1] == 'x' {
			changed++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if changed > 0 {
		t.Fatalf("%d rows of the killed transaction are visible", changed)
	}
	if _, err := os.Stat(p + "-journal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("hot journal not rolled back: %v", err)
	}
	if err := r.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}
