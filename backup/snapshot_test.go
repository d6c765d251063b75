package backup

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// midScan wraps the engine's database and calls hook with the number of
// each row Scan hands over, before the row goes on to export.
type midScan struct {
	Database
	hook func(n int) error
}

func (m midScan) Scan(ctx context.Context, table string, fn func(cols, vals []string) error) (int, error) {
	n := 0
	return m.Database.Scan(ctx, table, func(cols, vals []string) error {
		n++
		if err := m.hook(n); err != nil {
			return err
		}
		return fn(cols, vals)
	})
}

// The web app keeps writing while export reads: each of its transactions
// moves one unit of kunde_name (a number here) from the first order to the
// last, so every committed state has the same sum and a half-applied
// transaction does not. The writer commits in the middle of export's read
// (after the first order was read, before the last); the archive must hold
// the state before those commits, restored with the same sum, in both
// journal modes. Before the snapshot, export's read transaction kept the
// writer from committing at all in rollback-journal mode.
func TestExportWhileTheWebAppWrites(t *testing.T) {
	const n, start = 300, 100
	var rows [][]string
	for i := 1; i <= n; i++ {
		rows = append(rows, row(strconv.Itoa(i), fmt.Sprintf("%06d", 70000+i), "kunde_name", strconv.Itoa(start)))
	}
	for _, mode := range []string{"delete", "wal"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			f := newFixture(t, rows)
			web, err := sql.Open("sqlite", "file:"+f.e.DBPath+"?_pragma=busy_timeout(10000)&_txlock=immediate")
			if err != nil {
				t.Fatal(err)
			}
			defer web.Close()
			if _, err := web.Exec("PRAGMA journal_mode = " + mode); err != nil {
				t.Fatal(err)
			}
			commits := 0
			f.e.Open = func(ctx context.Context, path string, write bool) (Database, error) {
				db, err := OpenStore(ctx, path, write)
				if err != nil || write {
					return db, err
				}
				return midScan{Database: db, hook: func(i int) error {
					if i != 1 && i != n/2 {
						return nil
					}
					for range 3 {
						if err := moveOne(web, 1, n); err != nil {
							return fmt.Errorf("Web-App konnte während des Exports nicht schreiben: %w", err)
						}
						commits++
					}
					return nil
				}}, nil
			}
			f.export(ExportOptions{})
			if commits != 6 {
				t.Fatalf("the web app committed %d times during the read, want 6", commits)
			}

			f.e.Open = nil
			f.e.DBPath = filepath.Join(f.dir, "neu.db")
			if _, err := f.e.Restore(context.Background(), RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
			got := dbRows(t, f.e.DBPath)
			sum := 0
			for _, r := range got {
				v, err := strconv.Atoi(r[2])
				if err != nil {
					t.Fatalf("record %s: kunde_name %q", r[0], r[2])
				}
				sum += v
			}
			if len(got) != n || sum != n*start || got[0][2] != strconv.Itoa(start) || got[n-1][2] != strconv.Itoa(start) {
				t.Fatalf("archive holds %d orders, sum %d, first %s, last %s; want %d, %d, %d, %d (the state before the web app's commits)",
					len(got), sum, got[0][2], got[len(got)-1][2], n, n*start, start, start)
			}
		})
	}
}

// moveOne moves one unit of kunde_name from record from to record to in one
// transaction, as the web app would write. A commit blocked by a reader
// fails after the busy timeout (10 s) with "database is locked".
func moveOne(web *sql.DB, from, to int) error {
	tx, err := web.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE auftraege SET kunde_name = CAST(kunde_name AS INTEGER) - 1 WHERE record_id = ?", from); err != nil {
		return err
	}
	if _, err := tx.Exec("UPDATE auftraege SET kunde_name = CAST(kunde_name AS INTEGER) + 1 WHERE record_id = ?", to); err != nil {
		return err
	}
	return tx.Commit()
}

// columnsChanged answers Columns with a column the table no longer has when
// the snapshot (Scan) is taken: a web app dropped it in between.
type columnsChanged struct{ Database }

func (d columnsChanged) Columns(ctx context.Context, table string) ([]string, error) {
	cols, err := d.Database.Columns(ctx, table)
	if err != nil {
		return nil, err
	}
	return append(cols, "bemerkung"), nil
}

// TestExportNoticesColumnsChangedBeforeTheSnapshot: the column list is read
// before the snapshot; when the table changed in between, export must not
// map the snapshot's values by the old list (it would shift them into the
// wrong fields) but stop and say so.
func TestExportNoticesColumnsChangedBeforeTheSnapshot(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002")})
	f.e.Open = func(ctx context.Context, path string, write bool) (Database, error) {
		db, err := OpenStore(ctx, path, write)
		if err != nil {
			return nil, err
		}
		return columnsChanged{db}, nil
	}
	_, err := f.e.Export(context.Background(), ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "während des Exports geändert") {
		t.Fatalf("export: %v", err)
	}
	if ok, _ := afero.Exists(f.fs, "2024/000001/data.csv"); ok {
		t.Fatal("export wrote a backup from a shifted column mapping")
	}
}
