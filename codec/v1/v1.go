// Package v1 is schema version 1.0 of the backup format: the layout of the
// table auftraege as the original Python tool wrote it. Released versions are
// frozen: change nothing here that alters the bytes written or read; add a new
// version. Which field rule is only reported (a warning) may change.
package v1

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"werkstatt-backup/codec"
	"werkstatt-backup/codec/csvfmt"
)

// Version is the schema_version this package reads and writes.
const Version = "1.0"

// Column positions, in data.csv order.
const (
	RecordID = iota
	AuftragNr
	KundeName
	KundenNr
	Kennzeichen
	VIN
	Datum
	FormularVersion
	KeywordsJSON
	FilePath
	Hash
	DataComplete
	CreatedAt
	UpdatedAt
	numColumns
)

var columns = []codec.Column{
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
}

// Codec implements codec.Codec for schema 1.0.
type Codec struct{}

var _ codec.Codec = Codec{}

var header = csvfmt.AppendRow(nil, codec.Names(Codec{}))

// Version returns "1.0".
func (Codec) Version() string { return Version }

// Columns returns the 14 columns of auftraege.
func (Codec) Columns() []codec.Column { return columns }

// Encode returns header and rows as Python's csv.writer writes them.
func (Codec) Encode(rows ...[]string) []byte {
	n := len(header)
	for _, vals := range rows {
		n += 2*len(vals) + 2
		for _, v := range vals {
			n += len(v)
		}
	}
	b := append(make([]byte, 0, n), header...)
	for _, vals := range rows {
		b = csvfmt.AppendRow(b, vals)
	}
	return b
}

// Decode parses data.csv and checks header and field counts.
func (Codec) Decode(data []byte) ([][]string, error) {
	return codec.DecodeRows(data, codec.Names(Codec{}))
}

var (
	sixDigits = regexp.MustCompile(`^[0-9]{6}$`)
	integer   = regexp.MustCompile(`^(0|-?[1-9][0-9]*)$`) // as Python writes an int: no plus, no leading zero
)

// Validate checks one row (SPEC 2.1). Errors: a wrong field count, a NUL
// byte or invalid UTF-8, a record_id that is no integer. Everything else is
// a field rule, reported as a warning: such a row is still backed up and
// restored exactly as it is.
func (Codec) Validate(vals []string) []codec.FieldError {
	if len(vals) != numColumns {
		return []codec.FieldError{{Column: "*", Reason: fmt.Sprintf("%d Felder statt %d", len(vals), numColumns)}}
	}
	var errs []codec.FieldError
	bad := func(col int, format string, args ...any) {
		errs = append(errs, codec.FieldError{Column: columns[col].Name, Reason: fmt.Sprintf(format, args...)})
	}
	rule := func(col int, format string, args ...any) {
		errs = append(errs, codec.FieldError{Column: columns[col].Name, Reason: fmt.Sprintf(format, args...), Warning: true})
	}
	for i, v := range vals {
		if r := codec.TextProblem(v); r != "" {
			bad(i, "%s", r)
		}
	}
	if id, err := strconv.ParseInt(vals[RecordID], 10, 64); !integer.MatchString(vals[RecordID]) || err != nil {
		bad(RecordID, "keine ganze Zahl: %s", codec.Quote(vals[RecordID]))
	} else if id <= 0 {
		rule(RecordID, "nicht positiv: %d", id)
	}
	if !sixDigits.MatchString(vals[AuftragNr]) {
		rule(AuftragNr, "nicht genau 6 Ziffern: %s", codec.Quote(vals[AuftragNr]))
	}
	if d := vals[Datum]; d != "" {
		if _, ok := codec.ParseDate(d); !ok {
			rule(Datum, "kein gültiges Datum JJJJ-MM-TT: %s", codec.Quote(d))
		}
	}
	if k := vals[KeywordsJSON]; k != "" && !json.Valid([]byte(k)) {
		rule(KeywordsJSON, "kein gültiges JSON: %s", codec.Quote(k))
	}
	if r := codec.PathProblem(vals[FilePath]); r != "" {
		rule(FilePath, "%s", r)
	}
	if dc := vals[DataComplete]; dc != "" && dc != "0" && dc != "1" {
		rule(DataComplete, "nicht 0 oder 1: %s", codec.Quote(dc))
	}
	for _, col := range []int{CreatedAt, UpdatedAt} {
		if t := vals[col]; t != "" {
			if _, _, ok := codec.ParseTimestamp(t); !ok {
				rule(col, "kein ISO-8601-Zeitstempel (wie Pythons datetime.fromisoformat ihn liest): %s", codec.Quote(t))
			}
		}
	}
	return errs
}

// Identity returns the identifying fields; record_id is 0 if invalid.
func (Codec) Identity(vals []string) codec.Identity {
	id, _ := strconv.ParseInt(vals[RecordID], 10, 64)
	return codec.Identity{
		RecordID:  id,
		AuftragNr: vals[AuftragNr],
		FilePath:  vals[FilePath],
		Datum:     vals[Datum],
		CreatedAt: vals[CreatedAt],
		UpdatedAt: vals[UpdatedAt],
	}
}
