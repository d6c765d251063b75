package store

import (
	"context"
	"iter"
	"os"
	"path/filepath"
	"testing"
)

// newWriteDB creates an empty database file in a temporary directory.
func newWriteDB(t testing.TB) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "werkstatt.db")
	db, err := OpenWrite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

// mustExec runs SQL or fails the test.
func mustExec(t testing.TB, db *DB, query string, args ...any) {
	t.Helper()
	if err := db.Exec(context.Background(), query, args...); err != nil {
		t.Fatal(err)
	}
}

// scanAll returns copies of all rows of table.
func scanAll(t testing.TB, db *DB, table string) [][]string {
	t.Helper()
	var out [][]string
	_, err := db.Scan(context.Background(), table, func(_, vals []string) error {
		out = append(out, append([]string(nil), vals...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seqOf yields the given rows.
func seqOf(rows [][]string) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// readFile returns the bytes of path or fails the test.
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
