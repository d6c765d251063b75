// Package store is the SQLite layer of werkstatt-backup. It opens the
// workshop database through database/sql with the pure-Go driver
// modernc.org/sqlite, reads a table as a consistent snapshot and rebuilds a
// table atomically in one write transaction.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
)

// sqliteNotADB is SQLite's primary result code SQLITE_NOTADB.
const sqliteNotADB = 26

// busyTimeoutMS is how long a connection waits for another process's lock.
const busyTimeoutMS = 10000

// DB is an open SQLite database. It is safe for concurrent use.
type DB struct {
	sql  *sql.DB
	path string
}

// OpenRead opens the existing database at path read-only. It never creates
// the file: a missing file is an error wrapping fs.ErrNotExist, and a file
// that is not an SQLite database is an error naming the path.
func OpenRead(ctx context.Context, path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("Datenbank %s nicht gefunden: %w", path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("Datenbank %s: %w", path, err)
	}
	db, err := open(ctx, path, "mode=ro")
	if isReadonlyRollback(err) {
		// A writer was killed inside a transaction (a restore, the web
		// app) and left a hot journal. SQLite lets only a read-write
		// connection roll it back and refuses to read until then, so
		// export and verify would fail until the next writer came along.
		if rollbackHotJournal(ctx, path) != nil {
			return nil, err
		}
		db, err = open(ctx, path, "mode=ro")
	}
	return db, err
}

// rollbackHotJournal opens the database read-write once, which rolls a hot
// journal back to the last committed state, exactly what the killed writer
// would have done.
func rollbackHotJournal(ctx context.Context, path string) error {
	w, err := open(ctx, path, "_txlock=immediate")
	if err != nil {
		return err
	}
	return w.Close()
}

// sqliteReadonlyRollback is SQLITE_READONLY_ROLLBACK: a read-only
// connection found a hot journal it may not roll back.
const sqliteReadonlyRollback = 776

func isReadonlyRollback(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqliteReadonlyRollback
}

// OpenWrite opens the database at path read-write and creates it if it does
// not exist. Its parent directory must exist. Connections wait up to 10s for
// locks held by other processes, and write transactions start with BEGIN
// IMMEDIATE.
func OpenWrite(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("Datenbank %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("Verzeichnis %s für Datenbank %s nicht gefunden: %w", dir, path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("Verzeichnis %s für Datenbank %s: %w", dir, path, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s (für Datenbank %s) ist kein Verzeichnis", dir, path)
	}
	return open(ctx, path, "_txlock=immediate")
}

// open opens path with the extra URI parameters params and checks that the
// file is an SQLite database.
func open(ctx context.Context, path, params string) (*DB, error) {
	dsn, err := fileURI(path)
	if err != nil {
		return nil, fmt.Errorf("Datenbank %s: %w", path, err)
	}
	dsn += fmt.Sprintf("?%s&_pragma=busy_timeout(%d)", params, busyTimeoutMS)
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("Datenbank %s öffnen: %w", path, err)
	}
	sdb.SetMaxOpenConns(4)
	sdb.SetMaxIdleConns(2)
	// Reading the schema forces SQLite to read the file header.
	var n int
	if err := sdb.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		sdb.Close()
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqliteNotADB {
			return nil, fmt.Errorf("Datenbank %s ist keine SQLite-Datenbank: %w", path, err)
		}
		return nil, fmt.Errorf("Datenbank %s öffnen: %w", path, err)
	}
	return &DB{sql: sdb, path: path}, nil
}

// fileURI turns a file system path into an absolute SQLite "file:" URI,
// percent-encoding the characters that would end or alter the path.
func fileURI(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: C:/x → /C:/x
	}
	var b strings.Builder
	b.WriteString("file://")
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' || c == '?' || c == '#' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// Close closes the database.
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("Datenbank %s schließen: %w", db.path, err)
	}
	return nil
}
