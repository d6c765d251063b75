package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrNoTable is wrapped by errors about a table that does not exist.
var ErrNoTable = errors.New("Tabelle nicht vorhanden")

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Columns returns the table's column names in table order. A missing table
// is an error wrapping ErrNoTable.
func (db *DB) Columns(ctx context.Context, table string) ([]string, error) {
	return columns(ctx, db.sql, table)
}

func columns(ctx context.Context, q querier, table string) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		return nil, fmt.Errorf("Spalten von %s lesen: %w", table, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("Spalten von %s lesen: %w", table, err)
		}
		cols = append(cols, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("Spalten von %s lesen: %w", table, err)
	}
	if len(cols) == 0 {
		return nil, fmt.Errorf("%s: %w", table, ErrNoTable)
	}
	return cols, nil
}

// Count returns the number of rows of table; 0 if the table does not exist.
func (db *DB) Count(ctx context.Context, table string) (int, error) {
	if _, err := db.Columns(ctx, table); errors.Is(err, ErrNoTable) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM "+quoteIdent(table)).Scan(&n); err != nil {
		return 0, fmt.Errorf("Zeilen von %s zählen: %w", table, err)
	}
	return n, nil
}

// Scan reads every row of table, ordered by rowid, from one consistent
// snapshot of the database even while another process writes, and holds
// the database's shared lock only briefly (see snapshot). For each row it
// calls fn with the column names and the values as strings: NULL is "",
// integers are decimal, floats are formatted like Python's str(float),
// BLOBs are their bytes, and text is returned exactly as stored (a
// DATE-declared column is not parsed). fn must not keep or modify cols or
// vals: both slices are reused for the next row. An error from fn stops the
// scan and is returned. Scan returns the number of rows passed to fn; a
// missing table is an error wrapping ErrNoTable.
func (db *DB) Scan(ctx context.Context, table string, fn func(cols, vals []string) error) (int, error) {
	snap, err := db.snapshot(ctx)
	if err != nil {
		return 0, err
	}
	defer snap.close()
	return scanRows(ctx, snap.q, table, fn)
}

func scanRows(ctx context.Context, q querier, table string, fn func(cols, vals []string) error) (int, error) {
	cols, err := columns(ctx, q, table)
	if err != nil {
		return 0, err
	}
	// "+col" is the value unchanged, but an expression has no declared type,
	// so the driver hands over stored text instead of parsing it as a time.
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = "+" + quoteIdent(c)
	}
	sel := "SELECT " + strings.Join(exprs, ", ") + " FROM " + quoteIdent(table) + " ORDER BY rowid"
	rows, err := q.QueryContext(ctx, sel)
	if err != nil {
		return 0, fmt.Errorf("%s lesen: %w", table, err)
	}
	defer rows.Close()
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	vals := make([]string, len(cols))
	n := 0
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, fmt.Errorf("%s lesen, Zeile %d: %w", table, n+1, err)
		}
		for i, v := range raw {
			vals[i] = formatValue(v)
		}
		n++
		if err := fn(cols, vals); err != nil {
			return n, err
		}
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("%s lesen: %w", table, err)
	}
	return n, nil
}

// formatValue converts a value from the driver to its backup text.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case []byte:
		return string(v)
	case string:
		return v
	case bool:
		if v {
			return "1"
		}
		return "0"
	case time.Time:
		return v.Format("2006-01-02T15:04:05")
	default:
		return fmt.Sprint(v)
	}
}

// formatFloat formats f like Python's str(float): the shortest text that
// reads back as f, fixed-point with at least one decimal ("3.0") when the
// decimal exponent is in [-4, 16), else scientific ("1e+16", "1.5e-05").
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.LastIndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
