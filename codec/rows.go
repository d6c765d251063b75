package codec

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"werkstatt-backup/codec/csvfmt"
)

// MaxDataSize bounds a data.csv: one order row is a few hundred bytes, so a
// larger file is damaged or hostile and is refused without being read whole.
const MaxDataSize = 1 << 20

// DecodeRows is the shared part of every version's Decode: size, encoding,
// CSV syntax, header and field counts. It returns the data rows.
func DecodeRows(data []byte, names []string) ([][]string, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("Datei ist leer")
	}
	if len(data) > MaxDataSize {
		return nil, fmt.Errorf("Datei ist %d Bytes groß (höchstens %d erlaubt)", len(data), MaxDataSize)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, fmt.Errorf("NUL-Byte an Position %d", i)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("kein gültiges UTF-8 (ab Byte %d)", invalidUTF8At(data))
	}
	rows, err := csvfmt.Parse(data)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("keine Kopfzeile")
	}
	if err := headerMismatch(rows[0], names); err != nil {
		return nil, err
	}
	if len(rows) == 1 {
		return nil, fmt.Errorf("keine Datenzeile nach der Kopfzeile")
	}
	for i, r := range rows[1:] {
		if len(r) != len(names) {
			return nil, fmt.Errorf("Datenzeile %d hat %d Felder statt %d", i+1, len(r), len(names))
		}
	}
	return rows[1:], nil
}

// headerMismatch names the first column where got differs from want.
func headerMismatch(got, want []string) error {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Errorf("Kopfzeile passt nicht zum Schema: Spalte %d ist %s, erwartet %s", i+1, Quote(got[i]), Quote(want[i]))
		}
	}
	switch {
	case len(got) > len(want):
		return fmt.Errorf("Kopfzeile passt nicht zum Schema: zusätzliche Spalte %s", Quote(got[len(want)]))
	case len(got) < len(want):
		return fmt.Errorf("Kopfzeile passt nicht zum Schema: Spalte %s fehlt", Quote(want[len(got)]))
	}
	return nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// TextProblem returns why s cannot be stored as a text field, or "".
// Rows from the database are checked with it; files are checked whole.
func TextProblem(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return "enthält ein NUL-Byte"
	}
	if !utf8.ValidString(s) {
		return "kein gültiges UTF-8"
	}
	return ""
}

// PathProblem returns why p is not an acceptable file_path, or "". The path
// is data, not a place to write to (the folder is derived from it, SPEC 2.4),
// but a path that climbs out with ".." is refused so no reader can misuse it.
func PathProblem(p string) string {
	if strings.TrimSpace(p) == "" {
		return "fehlt (Pflichtfeld)"
	}
	for _, seg := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			return "enthält \"..\": " + Quote(p)
		}
	}
	return ""
}
