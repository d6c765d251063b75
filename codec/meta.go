package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Meta is the content of meta.json, the commit marker of one record's backup.
type Meta struct {
	SchemaVersion string `json:"schema_version"`
	Checksum      string `json:"checksum"`    // SHA-256 hex of data.csv
	ExportedAt    string `json:"exported_at"` // local time, YYYY-MM-DDTHH:MM:SS
	AuftragNr     string `json:"auftrag_nr"`
	RecordID      int64  `json:"record_id"`
	FileSize      int64  `json:"file_size"` // bytes of data.csv
}

// MaxMetaSize bounds how much of a meta.json is read; real ones are ~200 bytes.
const MaxMetaSize = 64 << 10

// EncodeMeta renders m as indented JSON with a trailing newline, keys in the
// order of the original tool.
func EncodeMeta(m Meta) []byte {
	if b, ok := encodeMetaFast(m); ok {
		return b
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err) // a struct of strings and ints always marshals
	}
	return append(b, '\n')
}

// DecodeMeta parses meta.json. Unknown keys are ignored (newer writers may add
// some); every key of Meta must be present with the right JSON type.
func DecodeMeta(data []byte) (Meta, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	m, ok := decodeMetaFast(data)
	if !ok {
		var err error
		if m, err = decodeMetaJSON(data); err != nil {
			return Meta{}, err
		}
	}
	if !isHexSHA256(m.Checksum) {
		return Meta{}, fmt.Errorf("Feld checksum ist keine SHA-256-Prüfsumme (%s)", truncate(m.Checksum, 40))
	}
	if m.FileSize < 0 {
		return Meta{}, fmt.Errorf("Feld file_size ist negativ (%d)", m.FileSize)
	}
	m.Checksum = strings.ToLower(m.Checksum)
	return m, nil
}

// isHexSHA256 reports whether s is 64 hex digits.
func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeMetaJSON parses any JSON object with the keys of Meta.
func decodeMetaJSON(data []byte) (Meta, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return Meta{}, fmt.Errorf("kein gültiges JSON-Objekt: %s", jsonReason(err))
	}
	// More is false before a stray '}' or ']', so ask for the next token:
	// only the end of the input may follow the object.
	if _, err := dec.Token(); err != io.EOF {
		return Meta{}, fmt.Errorf("kein gültiges JSON-Objekt: Daten nach dem Objekt")
	}
	var m Meta
	var missing []string
	field := func(key string, dst any) error {
		v, ok := raw[key]
		if !ok || string(v) == "null" {
			missing = append(missing, key)
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("Feld %s hat den falschen Typ (%s)", key, truncate(string(v), 40))
		}
		return nil
	}
	for _, f := range []struct {
		key string
		dst any
	}{
		{"schema_version", &m.SchemaVersion},
		{"checksum", &m.Checksum},
		{"exported_at", &m.ExportedAt},
		{"auftrag_nr", &m.AuftragNr},
		{"record_id", &m.RecordID},
		{"file_size", &m.FileSize},
	} {
		if err := field(f.key, f.dst); err != nil {
			return Meta{}, err
		}
	}
	if len(missing) > 0 {
		return Meta{}, fmt.Errorf("Feld %s fehlt", strings.Join(missing, ", "))
	}
	return m, nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (Byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}

// truncate shortens s for an error message, so a huge field never floods a log.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}

// Quote renders a field value for an error message: quoted and truncated.
func Quote(s string) string {
	return fmt.Sprintf("%q", truncate(s, 40))
}
