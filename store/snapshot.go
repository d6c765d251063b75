package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// snapshotPattern names the temporary copies Scan reads from (os.CreateTemp).
const snapshotPattern = "werkstatt-backup-snapshot-*.db"

// staleSnapshotAge is the age after which a copy left in the temp folder
// by a killed process is removed. A live copy has its name only while it
// is being written and opened, a second or two.
const staleSnapshotAge = time.Hour

// snapshot is a consistent read-only view of the whole database.
type snapshot struct {
	q     querier
	close func() error
}

// snapshot returns a consistent view of the database that holds the
// database's shared lock only briefly, so that the web app's writes never
// wait long on a scan.
//
// In WAL mode readers never block writers: the view is a read transaction
// on the database itself. In rollback-journal mode a reader's shared lock
// keeps every writer from committing, so the database file is copied while
// the shared lock is held (a plain file copy, the fastest way: a few
// hundred milliseconds for 300,000 rows) and the copy is read after the
// lock is released. The copy lives in the system's temp folder (TMPDIR),
// never beside the database, whose folder may be read-only; its name is
// removed as soon as SQLite has opened it, so the disk space returns when
// the scan ends, whatever ends it.
func (db *DB) snapshot(ctx context.Context) (*snapshot, error) {
	removeStaleSnapshots() // before, not while, holding the lock
	s, err := db.trySnapshot(ctx)
	if isReadonlyRollback(err) {
		// The web app was killed inside a transaction after OpenRead: roll
		// its hot journal back, as OpenRead does, and try once more.
		if rerr := rollbackHotJournal(ctx, db.path); rerr != nil {
			return nil, err
		}
		s, err = db.trySnapshot(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("Momentaufnahme: %w", err)
	}
	return s, nil
}

func (db *DB) trySnapshot(ctx context.Context) (*snapshot, error) {
	tx, err := db.sql.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	// The first read takes the shared lock (rolling back a hot journal
	// first, or failing on one a read-only connection may not roll back);
	// the transaction keeps it until it ends.
	var n int
	var mode string
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		tx.Rollback()
		return nil, err
	}
	if mode == "wal" {
		// No descriptor of the file is opened in WAL mode: a connection
		// keeps a shared lock on the database file as long as it is open
		// there, and closing a descriptor would drop it (see below).
		return &snapshot{q: tx, close: tx.Rollback}, nil
	}
	// Rollback-journal mode: no writer can change the file while the
	// shared lock is held (it needs the exclusive lock to write it).
	//
	// Closing any descriptor of the database file drops every POSIX lock
	// this process holds on it, the shared lock of this transaction
	// included (fcntl(2)). So src is closed only after the transaction has
	// ended, and no other connection of this process may hold a lock on
	// the file meanwhile (this program opens one database at a time).
	//
	// Under the lock the file is copied into a file in shared memory
	// (/dev/shm, copyToMemory), by the kernel and in chunks: no page of it
	// is in this process's memory, and no disk is written, which the
	// kernel may throttle for seconds while it writes back other dirty
	// pages (measured: 4.2 s of a writer's wait at 300,000 rows after a
	// large export) while the web app waits. Where there is no such
	// folder, or it is too small (a container's 64 MB), the file is read
	// into this process's memory under the lock and written to a temp file
	// after.
	src, err := os.Open(db.path)
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	shm, merr := copyToMemory(src)
	var data []byte
	var rerr error
	if merr != nil {
		data, rerr = readAll(src)
	}
	if err := tx.Rollback(); rerr == nil && merr == nil {
		rerr = err
	}
	src.Close()
	if rerr != nil {
		if shm != "" {
			os.Remove(shm)
		}
		return nil, fmt.Errorf("Datenbank %s lesen: %w", db.path, rerr)
	}
	if shm != "" {
		return openCopy(ctx, shm)
	}
	tmp, err := writeTemp(data)
	if err != nil {
		if tmp != "" {
			os.Remove(tmp)
		}
		return nil, err
	}
	return openCopy(ctx, tmp)
}

// readAll reads the whole file f, sized by its length.
func readAll(f *os.File) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, fi.Size()+512))
	_, err = buf.ReadFrom(f)
	return buf.Bytes(), err
}

// writeTemp writes data into a new file in the temp folder and returns its
// name; on failure the name is "" or the partial copy the caller removes.
func writeTemp(data []byte) (string, error) {
	f, err := os.CreateTemp("", snapshotPattern)
	if err != nil {
		return "", fmt.Errorf("temporäre Kopie im Ordner %s (TMPDIR) anlegen: %w", os.TempDir(), err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return f.Name(), fmt.Errorf("temporäre Kopie %s schreiben: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return f.Name(), fmt.Errorf("temporäre Kopie %s schreiben: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// openCopy opens the copy at path on one connection, without locks or
// journal (immutable: nothing else knows the file), and removes its name;
// the open descriptor keeps the data until the snapshot is closed.
func openCopy(ctx context.Context, path string) (*snapshot, error) {
	fail := func(err error) (*snapshot, error) {
		os.Remove(path)
		return nil, fmt.Errorf("temporäre Kopie %s öffnen: %w", path, err)
	}
	dsn, err := fileURI(path)
	if err != nil {
		return fail(err)
	}
	s, err := openDSN(ctx, dsn)
	if err != nil {
		return fail(err)
	}
	if err := os.Remove(path); err != nil {
		s.close()
		return nil, fmt.Errorf("temporäre Kopie %s entfernen: %w", path, err)
	}
	return s, nil
}

// openDSN opens a copy of the database read-only on one connection,
// without locks or journal (immutable: nothing else knows the file), and
// reads its schema so that the file is open when it returns.
func openDSN(ctx context.Context, dsn string) (*snapshot, error) {
	sdb, err := sql.Open("sqlite", dsn+"?mode=ro&immutable=1")
	if err != nil {
		return nil, err
	}
	sdb.SetMaxOpenConns(1)
	conn, err := sdb.Conn(ctx)
	if err != nil {
		sdb.Close()
		return nil, err
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		conn.Close()
		sdb.Close()
		return nil, err
	}
	return &snapshot{q: conn, close: func() error {
		return errors.Join(conn.Close(), sdb.Close())
	}}, nil
}

// removeStaleSnapshots removes copies a killed process left in the temp
// folder (by their age, so a concurrent run's copy is never touched).
// Failures are ignored: such a file only costs space.
func removeStaleSnapshots() {
	names, _ := filepath.Glob(filepath.Join(os.TempDir(), snapshotPattern))
	shm, _ := filepath.Glob(filepath.Join(shmDir, snapshotPattern))
	for _, name := range append(names, shm...) {
		if fi, err := os.Lstat(name); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleSnapshotAge {
			os.Remove(name)
		}
	}
}
