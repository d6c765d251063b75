package history

import (
	"errors"
	"fmt"

	"werkstatt-backup/codec"
	"werkstatt-backup/codec/csvfmt"
)

// FieldChange is one column whose value differs between two versions of a
// record's data.csv.
type FieldChange struct {
	Column   string
	Old, New string
}

// FieldChanges compares two data.csv contents of one record column by
// column name (so versions of different schema versions compare by the
// columns they share; a column only one has counts as empty in the other),
// in the new file's column order, then the columns only the old one had.
// history --auftrag shows these as old → new.
func FieldChanges(old, new []byte) ([]FieldChange, error) {
	o, err := fieldsOf(old)
	if err != nil {
		return nil, fmt.Errorf("ältere Fassung: %w", err)
	}
	n, err := fieldsOf(new)
	if err != nil {
		return nil, fmt.Errorf("neuere Fassung: %w", err)
	}
	var out []FieldChange
	seen := map[string]bool{}
	for _, f := range n {
		seen[f.name] = true
		if ov := lookup(o, f.name); ov != f.value {
			out = append(out, FieldChange{Column: f.name, Old: ov, New: f.value})
		}
	}
	for _, f := range o {
		if !seen[f.name] && f.value != "" {
			out = append(out, FieldChange{Column: f.name, Old: f.value})
		}
	}
	return out, nil
}

type field struct{ name, value string }

// fieldsOf reads header and first row of a data.csv.
func fieldsOf(data []byte) ([]field, error) {
	if len(data) > codec.MaxDataSize {
		return nil, fmt.Errorf("Datei ist %d Bytes groß (höchstens %d erlaubt)", len(data), codec.MaxDataSize)
	}
	rows, err := csvfmt.Parse(data)
	if err != nil {
		return nil, err
	}
	if len(rows) < 2 {
		return nil, errors.New("keine Datenzeile")
	}
	if len(rows[1]) != len(rows[0]) {
		return nil, fmt.Errorf("Datenzeile hat %d Felder, Kopfzeile %d", len(rows[1]), len(rows[0]))
	}
	out := make([]field, len(rows[0]))
	for i, name := range rows[0] {
		out[i] = field{name, rows[1][i]}
	}
	return out, nil
}

func lookup(fs []field, name string) string {
	for _, f := range fs {
		if f.name == name {
			return f.value
		}
	}
	return ""
}
