package sample

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"

	v1 "werkstatt-backup/codec/v1"
	"werkstatt-backup/store"
)

// auftraege is the web app's table: the columns of backup schema 1.0.
var auftraege = func() store.TableDef {
	def := store.TableDef{Name: "auftraege"}
	for _, c := range (v1.Codec{}).Columns() {
		def.Columns = append(def.Columns, store.ColumnDef{Name: c.Name, Type: c.Type, NotNull: c.NotNull, PrimaryKey: c.PrimaryKey})
	}
	return def
}()

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
