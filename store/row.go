package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Value is one column value exactly as SQLite stores it: its storage class
// and its content. It is what a single-row restore keeps of the row it
// replaces, so that undoing it writes back the very same value (an integer
// stays an integer, a text "1" stays text, NULL stays NULL).
type Value struct {
	Kind string // KindNull, KindInteger, KindReal, KindText, KindBlob
	Int  int64
	Real float64
	Text string // text, or the bytes of a blob
}

// Storage classes of a Value.
const (
	KindNull    = "null"
	KindInteger = "integer"
	KindReal    = "real"
	KindText    = "text"
	KindBlob    = "blob"
)

// valueOf turns what the driver returns into a Value.
func valueOf(v any) Value {
	switch v := v.(type) {
	case nil:
		return Value{Kind: KindNull}
	case int64:
		return Value{Kind: KindInteger, Int: v}
	case float64:
		return Value{Kind: KindReal, Real: v}
	case []byte:
		return Value{Kind: KindBlob, Text: string(v)}
	case string:
		return Value{Kind: KindText, Text: v}
	case bool:
		if v {
			return Value{Kind: KindInteger, Int: 1}
		}
		return Value{Kind: KindInteger}
	}
	return Value{Kind: KindText, Text: formatValue(v)}
}

// arg is the value bound for v.
func (v Value) arg() any {
	switch v.Kind {
	case KindInteger:
		return v.Int
	case KindReal:
		return v.Real
	case KindText:
		return v.Text
	case KindBlob:
		return []byte(v.Text)
	}
	return nil
}

// String is the value as a backup holds it (NULL is "").
func (v Value) String() string { return formatValue(v.arg()) }

// Equal reports whether a and b are the same stored value.
func (v Value) Equal(o Value) bool {
	if v.Kind != o.Kind {
		return false
	}
	switch v.Kind {
	case KindInteger:
		return v.Int == o.Int
	case KindReal:
		return v.Real == o.Real || (math.IsNaN(v.Real) && math.IsNaN(o.Real))
	case KindText, KindBlob:
		return v.Text == o.Text
	}
	return true
}

// ValueFor is the value a restore stores for the backup text s in column c
// (the rule of Replace: "" is NULL except in a NOT NULL TEXT column, an
// integer as export writes it is an INTEGER, anything else text).
func ValueFor(c ColumnDef, s string) (Value, error) {
	v, err := convert(c, s)
	if err != nil {
		return Value{}, err
	}
	return valueOf(v), nil
}

// valueJSON is a Value in a file: reals as text, so that every float64
// (also ±Inf) reads back exactly.
type valueJSON struct {
	Column string `json:"column"`
	Type   string `json:"type"`
	Value  any    `json:"value"`
}

// Row is one row of a table: column names and their values, in table order.
type Row struct {
	Columns []string
	Values  []Value
}

// Get returns the value of column name.
func (r *Row) Get(name string) (Value, bool) {
	if r == nil {
		return Value{}, false
	}
	for i, c := range r.Columns {
		if c == name {
			return r.Values[i], true
		}
	}
	return Value{}, false
}

// MarshalJSON writes the row as a list of {column, type, value}.
func (r Row) MarshalJSON() ([]byte, error) {
	out := make([]valueJSON, len(r.Columns))
	for i, c := range r.Columns {
		v := r.Values[i]
		out[i] = valueJSON{Column: c, Type: v.Kind}
		switch v.Kind {
		case KindInteger:
			out[i].Value = v.Int
		case KindReal:
			out[i].Value = strconv.FormatFloat(v.Real, 'g', -1, 64)
		case KindText:
			out[i].Value = v.Text
		case KindBlob:
			out[i].Value = []byte(v.Text) // base64
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads what MarshalJSON wrote; an unknown type or a value
// that does not fit its type is an error naming the column.
func (r *Row) UnmarshalJSON(b []byte) error {
	var in []struct {
		Column string          `json:"column"`
		Type   string          `json:"type"`
		Value  json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	r.Columns, r.Values = make([]string, len(in)), make([]Value, len(in))
	for i, c := range in {
		if c.Column == "" {
			return fmt.Errorf("Spalte %d ohne Namen", i+1)
		}
		v := Value{Kind: c.Type}
		var err error
		switch c.Type {
		case KindNull:
		case KindInteger:
			err = json.Unmarshal(c.Value, &v.Int)
		case KindReal:
			var s string
			if err = json.Unmarshal(c.Value, &s); err == nil {
				v.Real, err = strconv.ParseFloat(s, 64)
			}
		case KindText:
			err = json.Unmarshal(c.Value, &v.Text)
		case KindBlob:
			var raw []byte
			err = json.Unmarshal(c.Value, &raw)
			v.Text = string(raw)
		default:
			err = fmt.Errorf("unbekannter Typ %q", c.Type)
		}
		if err != nil {
			return fmt.Errorf("Spalte %s: %w", c.Column, err)
		}
		r.Columns[i], r.Values[i] = c.Column, v
	}
	return nil
}

// RowChange replaces, inserts or deletes one row of a table, found by its
// INTEGER primary key.
type RowChange struct {
	Table string
	Key   string // the primary key column
	ID    int64
	// New is what the row holds afterwards, for the columns it names
	// (others keep their values; a new row gets their defaults). nil
	// deletes the row.
	New *Row
	// Check, if set, runs inside the write transaction before anything is
	// written, with the row as it is now (nil: there is none, all its
	// columns) and a lookup of the primary keys of the rows whose column
	// holds a text; an error rolls back and is returned.
	Check func(old *Row, lookup func(column, value string) ([]int64, error)) error
}

// ReplaceRow applies c in one write transaction (BEGIN IMMEDIATE: SQLite's
// write lock is held from the first read to the commit). No other row and
// no other table is written. It returns the row as it was before and as
// it is after the change (nil: none), both with all the table's columns;
// after differs from c.New when a trigger of the database changed it.
func (db *DB) ReplaceRow(ctx context.Context, c RowChange) (old, after *Row, err error) {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("Schreibtransaktion für %s: %w", c.Table, err)
	}
	defer tx.Rollback() // no-op after Commit
	cols, err := columns(ctx, tx, c.Table)
	if err != nil {
		return nil, nil, err
	}
	if old, err = readRow(ctx, tx, c.Table, cols, c.Key, c.ID); err != nil {
		return nil, nil, err
	}
	if c.Check != nil {
		lookup := func(column, value string) ([]int64, error) { return lookupKeys(ctx, tx, c.Table, c.Key, column, value) }
		if err := c.Check(old, lookup); err != nil {
			return nil, nil, err
		}
	}
	table, key := quoteIdent(c.Table), quoteIdent(c.Key)
	var stmt string
	var args []any
	switch {
	case c.New == nil:
		stmt, args = "DELETE FROM "+table+" WHERE "+key+" = ?", []any{c.ID}
	case old == nil:
		names := make([]string, len(c.New.Columns))
		for i, n := range c.New.Columns {
			names[i] = quoteIdent(n)
			args = append(args, c.New.Values[i].arg())
		}
		stmt = "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES (" +
			strings.Repeat("?, ", len(names)-1) + "?)"
	default:
		sets := make([]string, len(c.New.Columns))
		for i, n := range c.New.Columns {
			sets[i] = quoteIdent(n) + " = ?"
			args = append(args, c.New.Values[i].arg())
		}
		stmt = "UPDATE " + table + " SET " + strings.Join(sets, ", ") + " WHERE " + key + " = ?"
		args = append(args, c.ID)
	}
	if _, err := tx.ExecContext(ctx, stmt, args...); err != nil {
		return nil, nil, fmt.Errorf("Tabelle %s, %s %d schreiben: %w", c.Table, c.Key, c.ID, err)
	}
	if after, err = readRow(ctx, tx, c.Table, cols, c.Key, c.ID); err != nil {
		return nil, nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("Tabelle %s schreiben (Commit): %w", c.Table, err)
	}
	return old, after, nil
}

// readRow reads the row whose key column is id (nil: none).
func readRow(ctx context.Context, tx rowQuerier, table string, cols []string, key string, id int64) (*Row, error) {
	exprs := make([]string, len(cols))
	for i, c := range cols {
		exprs[i] = "+" + quoteIdent(c) // stored value as is (see scanRows)
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	err := tx.QueryRowContext(ctx, "SELECT "+strings.Join(exprs, ", ")+" FROM "+quoteIdent(table)+
		" WHERE "+quoteIdent(key)+" = ?", id).Scan(ptrs...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Tabelle %s, %s %d lesen: %w", table, key, id, err)
	}
	r := &Row{Columns: cols, Values: make([]Value, len(cols))}
	for i, v := range raw {
		r.Values[i] = valueOf(v)
	}
	return r, nil
}

// lookupKeys returns the keys of the rows whose column holds value
// (compared as stored text), in key order.
func lookupKeys(ctx context.Context, tx rowQuerier, table, key, column, value string) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, "SELECT "+quoteIdent(key)+" FROM "+quoteIdent(table)+
		" WHERE CAST("+quoteIdent(column)+" AS TEXT) = ? ORDER BY 1", value)
	if err != nil {
		return nil, fmt.Errorf("Tabelle %s nach %s = %q durchsuchen: %w", table, column, value, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("Tabelle %s nach %s = %q durchsuchen: %w", table, column, value, err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// rowQuerier is what *sql.DB and *sql.Tx have in common for one row.
type rowQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// ReadRow returns the row of table whose key column is id, with all its
// columns (nil: there is none, or no such table), without writing.
func (db *DB) ReadRow(ctx context.Context, table, key string, id int64) (*Row, error) {
	cols, err := columns(ctx, db.sql, table)
	if errors.Is(err, ErrNoTable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return readRow(ctx, db.sql, table, cols, key, id)
}

// KeysWhere returns the keys of the rows of table whose column holds value
// (compared as stored text), without writing.
func (db *DB) KeysWhere(ctx context.Context, table, key, column, value string) ([]int64, error) {
	if _, err := columns(ctx, db.sql, table); errors.Is(err, ErrNoTable) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return lookupKeys(ctx, db.sql, table, key, column, value)
}
