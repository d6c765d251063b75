package sample

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"

	"werkstatt-backup/store"
)

// auftraege is the web app's table, in the column order of Columns.
var auftraege = store.TableDef{Name: "auftraege", Columns: []store.ColumnDef{
	{Name: "record_id", Type: "INTEGER", PrimaryKey: true},
	{Name: "auftrag_nr", Type: "TEXT", NotNull: true},
	{Name: "kunde_name", Type: "TEXT"},
	{Name: "kunden_nr", Type: "TEXT"},
	{Name: "kennzeichen", Type: "TEXT"},
	{Name: "vin", Type: "TEXT"},
	{Name: "datum", Type: "TEXT"},
	{Name: "formular_version", Type: "TEXT"},
	{Name: "keywords_json", Type: "TEXT"},
	{Name: "file_path", Type: "TEXT", NotNull: true},
	{Name: "hash", Type: "TEXT"},
	{Name: "data_complete", Type: "INTEGER"},
	{Name: "created_at", Type: "TEXT"},
	{Name: "updated_at", Type: "TEXT"},
}}

// otherSchema is the rest of the web app's schema: an index on auftrag_nr and
// an unrelated settings table that a restore must leave alone.
const otherSchema = `
CREATE INDEX idx_auftraege_auftrag_nr ON auftraege (auftrag_nr);
CREATE TABLE einstellungen (key TEXT PRIMARY KEY, value TEXT);
INSERT INTO einstellungen (key, value) VALUES
	('werkstatt_name', 'Autohaus "Zum Stern" GmbH'),
	('archiv_pfad', 'archiv');`

// CreateDB creates a new database at path (an error if path exists) with the
// web app's schema and inserts rows, each aligned with Columns, in one
// transaction. Empty values are stored as NULL except in the NOT NULL
// columns; record_id and data_complete are stored as integers. On failure
// the new file is removed.
func CreateDB(ctx context.Context, path string, rows [][]string) (err error) {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("Datenbank %s existiert bereits: %w", path, fs.ErrExist)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("Datenbank %s: %w", path, err)
	}
	db, err := store.OpenWrite(ctx, path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			for _, suffix := range []string{"", "-journal", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}
	}()
	if err := db.Exec(ctx, auftraege.CreateSQL()+";"+otherSchema); err != nil {
		return fmt.Errorf("Beispieldatenbank anlegen: %w", err)
	}
	// Replace keeps the index created above.
	if _, err := db.Replace(ctx, auftraege, all(rows)); err != nil {
		return fmt.Errorf("Beispieldatenbank füllen: %w", err)
	}
	return nil
}

// all yields rows.
func all(rows [][]string) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}
