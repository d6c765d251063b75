package store

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// withShmDir points the snapshot's shared-memory folder at dir for one
// test.
func withShmDir(t *testing.T, dir string) {
	t.Helper()
	old := shmDir
	shmDir = dir
	t.Cleanup(func() { shmDir = old })
}

// bigDB makes a rollback-journal database of about mb megabytes.
func bigDB(t *testing.T, mb int) string {
	t.Helper()
	w, p := newWriteDB(t)
	mustExec(t, w, "CREATE TABLE konto (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
	// One statement inserts the rows 1 … mb·1000: a statement per row
	// costs more than the rest of the test under the race detector.
	_, err := w.sql.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
		INSERT INTO konto (id, text) SELECT i, ? FROM n`, mb*1000, strings.Repeat("x", 1000))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// allocatedDuring returns the bytes the Go heap allocated while fn ran.
func allocatedDuring(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The snapshot of a rollback-journal database is copied in shared memory
// by the kernel: taking it allocates far less than the database's size
// (the copy read whole into the heap allocated all of it, 80 MB at
// 300,000 rows). The rows read afterwards are the database's.
func TestSnapshotCopyIsNotInTheHeap(t *testing.T) {
	withShmDir(t, t.TempDir())
	p := bigDB(t, 16)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenRead(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var s *snapshot
	alloc := allocatedDuring(func() {
		s, err = r.snapshot(context.Background())
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if alloc > uint64(fi.Size())/4 {
		t.Fatalf("taking the snapshot of a %d-byte database allocated %d bytes in the heap", fi.Size(), alloc)
	}
	rows, err := s.q.QueryContext(context.Background(), "SELECT count(*) FROM konto")
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for rows.Next() {
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	rows.Close()
	if n != 16000 {
		t.Fatalf("snapshot holds %d rows, want 16000", n)
	}
	if names := tempNames(t, shmDir); len(names) > 0 {
		t.Fatalf("copies left in the shared-memory folder: %v", names)
	}
}

// Without a usable shared-memory folder (missing, or too small: a
// container's /dev/shm) the snapshot still works: read under the lock,
// written to the temp folder after.
func TestSnapshotWithoutSharedMemory(t *testing.T) {
	withShmDir(t, filepath.Join(t.TempDir(), "fehlt"))
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	p := bigDB(t, 1)
	r, err := OpenRead(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if rows := scanAll(t, r, "konto"); len(rows) != 1000 {
		t.Fatalf("scanned %d rows, want 1000", len(rows))
	}
	if names := tempNames(t, tmp); len(names) > 0 {
		t.Fatalf("temporary copies left: %v", names)
	}
}
