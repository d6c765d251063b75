package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Rows and amounts of the konto table the transfer tests use.
const (
	kontoRows  = 2000
	kontoStart = 100
)

// transferWriter stands in for the web app: each of its transactions moves
// one unit from the first row's betrag to the last row's, so the sum of all
// rows is the same after every commit and differs by one inside a
// transaction. It runs in its own goroutine on its own connection and
// writes only when asked, so the test knows when a commit happened.
type transferWriter struct {
	req  chan int
	done chan error
}

func startTransferWriter(t *testing.T, w *DB) *transferWriter {
	tw := &transferWriter{req: make(chan int), done: make(chan error)}
	go func() {
		for n := range tw.req {
			var err error
			for i := 0; i < n && err == nil; i++ {
				err = transfer(w)
			}
			tw.done <- err
		}
	}()
	t.Cleanup(func() { close(tw.req) })
	return tw
}

func transfer(w *DB) error {
	tx, err := w.sql.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE konto SET betrag = betrag - 1 WHERE id = 1"); err != nil {
		return err
	}
	if _, err := tx.Exec("UPDATE konto SET betrag = betrag + 1 WHERE id = ?", kontoRows); err != nil {
		return err
	}
	return tx.Commit()
}

// commit asks for n transactions and waits until they are committed. The
// deadline is only a safety net: the writer's own busy timeout (10 s) ends
// a blocked commit with "database is locked" long before.
func (tw *transferWriter) commit(n int) error {
	tw.req <- n
	select {
	case err := <-tw.done:
		if err != nil {
			return fmt.Errorf("Schreiber konnte während des Lesens nicht committen: %w", err)
		}
		return nil
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("Schreiber wartet nach 2 Minuten noch")
	}
}

// Export's scan must not keep the web app from committing, and must still
// see one consistent state: while a writer commits transfers between the
// first and the last row in the middle of the scan (after the first row
// was read, before the last), the scanned sum stays the same. A read that
// is not one snapshot sees the last row after the transfer and the first
// before it; today's one read transaction in rollback-journal mode keeps
// the writer from committing at all.
func TestScanIsASnapshotWhileAWriterCommits(t *testing.T) {
	for _, mode := range []string{"delete", "wal"} {
		t.Run(mode, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			w, p := newWriteDB(t)
			if _, err := w.sql.Exec("PRAGMA journal_mode = " + mode); err != nil {
				t.Fatal(err)
			}
			mustExec(t, w, "CREATE TABLE konto (id INTEGER PRIMARY KEY, betrag INTEGER NOT NULL)")
			mustExec(t, w, fmt.Sprintf("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < %d) INSERT INTO konto SELECT i, %d FROM c", kontoRows, kontoStart))
			tw := startTransferWriter(t, w)

			r, err := OpenRead(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			sum, first, last := 0, 0, 0
			n, err := r.Scan(context.Background(), "konto", func(_, vals []string) error {
				v, err := strconv.Atoi(vals[1])
				if err != nil {
					return err
				}
				sum += v
				switch vals[0] {
				case "1":
					first = v
					if names := tempNames(t, tmp); len(names) > 0 {
						return fmt.Errorf("temporäre Kopie hat beim Lesen noch einen Namen: %v", names)
					}
					return tw.commit(3)
				case strconv.Itoa(kontoRows / 2):
					return tw.commit(2)
				case strconv.Itoa(kontoRows):
					last = v
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != kontoRows || sum != kontoRows*kontoStart || first != kontoStart || last != kontoStart {
				t.Fatalf("scan saw %d rows, sum %d, first %d, last %d; want %d, %d, %d, %d (the state before the writer's commits)",
					n, sum, first, last, kontoRows, kontoRows*kontoStart, kontoStart, kontoStart)
			}
			// The commits reached the database: the next scan sees them.
			rows := scanAll(t, r, "konto")
			if got := rows[0][1] + "/" + rows[kontoRows-1][1]; got != "95/105" {
				t.Fatalf("second scan: first/last %s, want 95/105", got)
			}
			if names := tempNames(t, tmp); len(names) > 0 {
				t.Fatalf("temporary copies left: %v", names)
			}
		})
	}
}

// The temporary copy is removed when the scan fails, too.
func TestScanRemovesItsCopyOnError(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	w, p := newWriteDB(t)
	mustExec(t, w, "CREATE TABLE konto (id INTEGER PRIMARY KEY, betrag INTEGER NOT NULL); INSERT INTO konto VALUES (1, 1), (2, 2)")
	r, err := OpenRead(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := fmt.Errorf("abgebrochen")
	if _, err := r.Scan(context.Background(), "konto", func(_, _ []string) error { return stop }); err != stop {
		t.Fatalf("Scan = %v, want the callback's error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Scan(ctx, "konto", func(_, _ []string) error { return nil }); err == nil {
		t.Fatal("Scan with a canceled context succeeded")
	}
	if _, err := r.Scan(context.Background(), "fehlt", func(_, _ []string) error { return nil }); err == nil {
		t.Fatal("Scan of a missing table succeeded")
	}
	if names := tempNames(t, tmp); len(names) > 0 {
		t.Fatalf("temporary copies left: %v", names)
	}
}

// A temp folder that cannot take the copy is an error naming it.
func TestScanNamesAnUnusableTempFolder(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "fehlt")
	t.Setenv("TMPDIR", tmp)
	withShmDir(t, filepath.Join(t.TempDir(), "fehlt-auch"))
	w, p := newWriteDB(t)
	mustExec(t, w, "CREATE TABLE konto (id INTEGER PRIMARY KEY, betrag INTEGER NOT NULL)")
	r, err := OpenRead(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Scan(context.Background(), "konto", func(_, _ []string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "Momentaufnahme: temporäre Kopie im Ordner "+tmp+" (TMPDIR) anlegen") {
		t.Fatalf("err = %v", err)
	}
}

// A copy left in the temp folder by a killed run is removed once it is old;
// a young one may belong to a run still copying and stays.
func TestScanRemovesStaleCopies(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	old := filepath.Join(tmp, "werkstatt-backup-snapshot-1.db")
	young := filepath.Join(tmp, "werkstatt-backup-snapshot-2.db")
	for _, p := range []string{old, young} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	long := time.Now().Add(-2 * staleSnapshotAge)
	if err := os.Chtimes(old, long, long); err != nil {
		t.Fatal(err)
	}
	w, p := newWriteDB(t)
	mustExec(t, w, "CREATE TABLE konto (id INTEGER PRIMARY KEY, betrag INTEGER NOT NULL)")
	r, err := OpenRead(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	scanAll(t, r, "konto")
	names := tempNames(t, tmp)
	if len(names) != 1 || names[0] != filepath.Base(young) {
		t.Fatalf("temp folder holds %v, want only %s", names, filepath.Base(young))
	}
}

// tempNames lists the names in dir.
func tempNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}
