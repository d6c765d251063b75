package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// BackupTo writes a consistent copy of the whole database to dest using
// VACUUM INTO and syncs it to stable storage. dest must not exist; on
// failure a partly written copy is removed. The copy is written as
// dest + ".tmp" and renamed to dest once complete and synced, so a process
// killed meanwhile never leaves a partial copy under a name that promises
// a backup.
func (db *DB) BackupTo(ctx context.Context, dest string) error {
	if _, err := os.Lstat(dest); err == nil {
		return fmt.Errorf("Sicherungskopie %s existiert bereits: %w", dest, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("Sicherungskopie %s: %w", dest, err)
	}
	tmp := dest + ".tmp"
	// Left by a killed run: VACUUM INTO refuses to overwrite a database.
	os.Remove(tmp)
	os.Remove(tmp + "-journal")
	if _, err := db.sql.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("Sicherungskopie %s von %s: %w", dest, db.path, err)
	}
	// SQLite does not fsync the file VACUUM INTO writes.
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("Sicherungskopie %s: %w", dest, err)
	}
	if err := os.Rename(tmp, dest); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("Sicherungskopie %s: %w", dest, err)
	}
	if err := syncDir(filepath.Dir(dest)); err != nil {
		return fmt.Errorf("Sicherungskopie %s: Verzeichnis: %w", dest, err)
	}
	return nil
}

// syncFile flushes the file at path to stable storage.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error listing
// the problems unless SQLite reports "ok".
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.sql.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("Integritätsprüfung %s: %w", db.path, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("Integritätsprüfung %s: %w", db.path, err)
		}
		msgs = append(msgs, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("Integritätsprüfung %s: %w", db.path, err)
	}
	if len(msgs) == 1 && msgs[0] == "ok" {
		return nil
	}
	return fmt.Errorf("Integritätsprüfung %s fehlgeschlagen: %s", db.path, strings.Join(msgs, "; "))
}

// Exec runs query, which may hold several statements separated by
// semicolons, in one write transaction. It is meant for setting up schemas
// (sample data, tests), not for bulk data.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("Datenbank %s: %w", db.path, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("Datenbank %s: %w", db.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("Datenbank %s (Commit): %w", db.path, err)
	}
	return nil
}

// syncDir flushes a directory's entries (the rename) to stable storage;
// filesystems that cannot sync a directory are left alone.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EBADF) {
		return nil
	}
	return err
}
