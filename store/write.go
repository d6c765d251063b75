package store

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"strconv"
	"strings"
)

// batchRows is the number of rows one INSERT statement carries.
const batchRows = 200

// maxParams stays below SQLite's default limit of 32766 bound parameters.
const maxParams = 32000

// Replace rebuilds table def.Name with the given rows in one write
// transaction (BEGIN IMMEDIATE, so SQLite's write lock is held throughout).
// It keeps the SQL of the table's explicit indexes and triggers, drops the
// table, creates it from def, inserts the rows in batches, re-creates the
// indexes and triggers and commits. Each row's values are aligned with
// def.Columns: "" becomes NULL, except in NOT NULL TEXT columns; INTEGER
// values must parse as decimal integers. rows is consumed lazily, one row at
// a time. Any error, including one from rows or a cancelled ctx, rolls back
// everything, so the database is unchanged. Other tables are never touched.
// Replace returns the number of rows inserted.
func (db *DB) Replace(ctx context.Context, def TableDef, rows iter.Seq2[[]string, error]) (int, error) {
	if err := def.validate(); err != nil {
		return 0, err
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("Schreibtransaktion für %s: %w", def.Name, err)
	}
	defer tx.Rollback() // no-op after Commit
	extras, err := schemaExtras(ctx, tx, def.Name)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "DROP TABLE IF EXISTS "+quoteIdent(def.Name)); err != nil {
		return 0, fmt.Errorf("Tabelle %s löschen: %w", def.Name, err)
	}
	if _, err := tx.ExecContext(ctx, def.CreateSQL()); err != nil {
		return 0, fmt.Errorf("Tabelle %s anlegen: %w", def.Name, err)
	}
	n, err := insertAll(ctx, tx, def, rows)
	if err != nil {
		return 0, err
	}
	for _, stmt := range extras {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return 0, fmt.Errorf("Tabelle %s: %q wiederherstellen: %w", def.Name, stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("Tabelle %s schreiben (Commit): %w", def.Name, err)
	}
	return n, nil
}

// schemaExtras returns the SQL of the explicit indexes, then the triggers,
// that belong to table.
func schemaExtras(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT sql FROM sqlite_master
		WHERE tbl_name = ? COLLATE NOCASE AND type IN ('index', 'trigger') AND sql IS NOT NULL
		ORDER BY type = 'trigger', rowid`, table)
	if err != nil {
		return nil, fmt.Errorf("Indizes von %s lesen: %w", table, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("Indizes von %s lesen: %w", table, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("Indizes von %s lesen: %w", table, err)
	}
	return out, nil
}

// insertAll inserts rows into the freshly created table in batches.
func insertAll(ctx context.Context, tx *sql.Tx, def TableDef, rows iter.Seq2[[]string, error]) (int, error) {
	ncol := len(def.Columns)
	batch := min(batchRows, max(1, maxParams/ncol))
	full, err := tx.PrepareContext(ctx, insertSQL(def, batch))
	if err != nil {
		return 0, fmt.Errorf("Tabelle %s: INSERT vorbereiten: %w", def.Name, err)
	}
	defer full.Close()
	args := make([]any, 0, batch*ncol)
	n := 0
	for vals, err := range rows {
		if err != nil {
			return 0, fmt.Errorf("Tabelle %s, Zeile %d: %w", def.Name, n+1, err)
		}
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("Tabelle %s, Zeile %d: abgebrochen: %w", def.Name, n+1, err)
		}
		if len(vals) != ncol {
			return 0, fmt.Errorf("Tabelle %s, Zeile %d: %d Werte statt %d", def.Name, n+1, len(vals), ncol)
		}
		for i, c := range def.Columns {
			v, err := convert(c, vals[i])
			if err != nil {
				return 0, fmt.Errorf("Tabelle %s, Zeile %d: %w", def.Name, n+1, err)
			}
			args = append(args, v)
		}
		n++
		if len(args) == cap(args) {
			if _, err := full.ExecContext(ctx, args...); err != nil {
				return 0, fmt.Errorf("Tabelle %s, Zeilen %d-%d einfügen: %w", def.Name, n-batch+1, n, err)
			}
			args = args[:0]
		}
	}
	if len(args) > 0 {
		rest := len(args) / ncol
		if _, err := tx.ExecContext(ctx, insertSQL(def, rest), args...); err != nil {
			return 0, fmt.Errorf("Tabelle %s, Zeilen %d-%d einfügen: %w", def.Name, n-rest+1, n, err)
		}
	}
	return n, nil
}

// insertSQL returns an INSERT statement for k rows of def.
func insertSQL(def TableDef, k int) string {
	cols := make([]string, len(def.Columns))
	for i, c := range def.Columns {
		cols[i] = quoteIdent(c.Name)
	}
	tuple := "(" + strings.Repeat("?, ", len(cols)-1) + "?)"
	var b strings.Builder
	b.WriteString("INSERT INTO " + quoteIdent(def.Name) + " (" + strings.Join(cols, ", ") + ") VALUES ")
	for i := range k {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tuple)
	}
	return b.String()
}

// convert turns a backup value into the value bound for column c. An
// INTEGER column gets an integer only for an integer as export writes one;
// any other value ("ja", "1.5") is bound as text, so the column's affinity
// stores it as it stored it in the database the backup was taken from (a
// field-rule violation is restored as it was, SPEC 2.1). The primary key
// must be an integer.
func convert(c ColumnDef, s string) (any, error) {
	if s == "" {
		if c.NotNull && c.Type == "TEXT" {
			return "", nil
		}
		return nil, nil
	}
	if c.Type == "INTEGER" {
		v, err := strconv.ParseInt(s, 10, 64)
		switch {
		case err == nil && strconv.FormatInt(v, 10) == s:
			return v, nil
		case c.PrimaryKey:
			return nil, fmt.Errorf("Spalte %s: %q ist keine ganze Zahl", c.Name, s)
		}
	}
	return s, nil
}
