// Package codec defines how one schema version of the backup format turns a
// database row into data.csv bytes and back, and the registry that picks the
// codec from the schema_version a backup's meta.json declares.
//
// Rows travel as []string aligned with the codec's Columns: the backup format
// has no NULL, so NULL and the empty string are the same value.
package codec

import "fmt"

// Column describes one column of a schema version's table.
type Column struct {
	Name       string
	Type       string // "INTEGER" or "TEXT"
	NotNull    bool
	PrimaryKey bool
}

// Identity holds the fields the engine needs to place, match and order a
// record, whatever the schema version calls or orders its columns.
type Identity struct {
	RecordID  int64
	AuftragNr string
	FilePath  string
	Datum     string
	CreatedAt string
	UpdatedAt string
}

// Codec is one frozen schema version of data.csv.
type Codec interface {
	// Version is the schema_version string written to meta.json, e.g. "1.0".
	Version() string
	// Columns is the table layout, in data.csv column order.
	Columns() []Column
	// Encode returns the data.csv bytes: the header, then the rows (one for
	// every backup export writes; several only in files a person merged).
	Encode(rows ...[]string) []byte
	// Decode parses data.csv: the header must equal Columns, every row must
	// have as many fields, and there must be at least one row.
	Decode(data []byte) ([][]string, error)
	// Validate checks one row and returns every problem: errors (the row
	// cannot be stored or identified: wrong field count, NUL byte, invalid
	// UTF-8, a record_id that is no integer) and warnings (a field rule of
	// SPEC 2.1 the row breaks; it is still backed up and restored as it is).
	Validate(vals []string) []FieldError
	// Identity extracts the identifying fields of a row without errors.
	Identity(vals []string) Identity
}

// FieldError is a problem of one field of a row.
type FieldError struct {
	Column string
	Reason string
	// Warning marks a broken field rule (six digits, a calendar date, JSON,
	// 0/1, a timestamp, …): reported, but the row is protected all the same.
	// Without it the row's content cannot be trusted or stored.
	Warning bool
}

func (e FieldError) Error() string { return e.Column + ": " + e.Reason }

// SplitProblems separates errors from warnings, keeping their order.
func SplitProblems(all []FieldError) (errs, warnings []FieldError) {
	for _, fe := range all {
		if fe.Warning {
			warnings = append(warnings, fe)
		} else {
			errs = append(errs, fe)
		}
	}
	return errs, warnings
}

// Names returns the column names of c in order.
func Names(c Codec) []string {
	cols := c.Columns()
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.Name
	}
	return names
}

// VersionError reports a schema version this program cannot read: unknown,
// newer than it knows, or without a migration path to the current version.
type VersionError struct {
	Got      string
	Min, Max string
	Reason   string // e.g. "neuer als dieses Programm"
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("Schema-Version %q %s (unterstützt: %s bis %s)", e.Got, e.Reason, e.Min, e.Max)
}
