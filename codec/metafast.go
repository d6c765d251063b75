package codec

import (
	"strconv"
)

// The fast paths below handle the one layout that export writes, and the
// Python tool's json.dump(..., indent=2) too, which is the same:
//
//	{
//	  "schema_version": "1.0",
//	  "checksum": "…",
//	  "exported_at": "…",
//	  "auftrag_nr": "…",
//	  "record_id": 12,
//	  "file_size": 1024
//	}
//
// with or without a final newline, and only when every string is plain
// printable ASCII that JSON writes as it is. Anything else goes the general
// way through encoding/json, with the same result: verify and the unchanged
// check of export read one meta.json per record, and encoding/json was a
// fifth of their CPU time.

// metaKeys are the keys of Meta in the order EncodeMeta writes them.
var metaKeys = [...]string{"schema_version", "checksum", "exported_at", "auftrag_nr", "record_id", "file_size"}

// plainJSON reports whether JSON writes s as it is between its quotes, and
// reads it back as the same bytes: printable ASCII without '"' and '\', and
// without '<', '>' and '&', which encoding/json escapes.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// encodeMetaFast renders m exactly as json.MarshalIndent(m, "", "  ") plus
// a newline would, if its strings are plain.
func encodeMetaFast(m Meta) ([]byte, bool) {
	strs := [...]string{m.SchemaVersion, m.Checksum, m.ExportedAt, m.AuftragNr}
	n := 128
	for _, s := range strs {
		if !plainJSON(s) {
			return nil, false
		}
		n += len(s)
	}
	b := make([]byte, 0, n)
	b = append(b, "{\n"...)
	for i, s := range strs {
		b = append(b, `  "`...)
		b = append(b, metaKeys[i]...)
		b = append(b, `": "`...)
		b = append(b, s...)
		b = append(b, "\",\n"...)
	}
	b = append(b, `  "record_id": `...)
	b = strconv.AppendInt(b, m.RecordID, 10)
	b = append(b, ",\n  \"file_size\": "...)
	b = strconv.AppendInt(b, m.FileSize, 10)
	b = append(b, "\n}\n"...)
	return b, true
}

// decodeMetaFast parses data if it has the layout above. ok is false for
// anything else, which the caller then parses the general way; it is never
// false for a layout it has half accepted, so the result does not depend on
// which path ran.
func decodeMetaFast(data []byte) (m Meta, ok bool) {
	p := fastParser{data: data}
	if !p.lit("{\n") {
		return Meta{}, false
	}
	strs := [...]*string{&m.SchemaVersion, &m.Checksum, &m.ExportedAt, &m.AuftragNr}
	for i, dst := range strs {
		if !p.key(metaKeys[i]) || !p.str(dst) || !p.lit(",\n") {
			return Meta{}, false
		}
	}
	if !p.key("record_id") || !p.int(&m.RecordID) || !p.lit(",\n") ||
		!p.key("file_size") || !p.int(&m.FileSize) || !p.lit("\n}") {
		return Meta{}, false
	}
	if rest := p.data[p.pos:]; len(rest) > 1 || len(rest) == 1 && rest[0] != '\n' {
		return Meta{}, false
	}
	return m, true
}

type fastParser struct {
	data []byte
	pos  int
}

// lit consumes s.
func (p *fastParser) lit(s string) bool {
	if len(p.data)-p.pos < len(s) || string(p.data[p.pos:p.pos+len(s)]) != s {
		return false
	}
	p.pos += len(s)
	return true
}

// key consumes `  "name": `.
func (p *fastParser) key(name string) bool {
	return p.lit(`  "`) && p.lit(name) && p.lit(`": `)
}

// str consumes a quoted plain string.
func (p *fastParser) str(dst *string) bool {
	if !p.lit(`"`) {
		return false
	}
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] != '"' {
		c := p.data[p.pos]
		if c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
		p.pos++
	}
	if p.pos == len(p.data) {
		return false
	}
	*dst = string(p.data[start:p.pos])
	p.pos++
	return true
}

// int consumes a JSON integer of at most 18 digits (no overflow possible).
func (p *fastParser) int(dst *int64) bool {
	start := p.pos
	if p.pos < len(p.data) && p.data[p.pos] == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.data) && '0' <= p.data[p.pos] && p.data[p.pos] <= '9' {
		p.pos++
	}
	n := p.pos - digits
	if n == 0 || n > 18 || n > 1 && p.data[digits] == '0' {
		return false
	}
	v, err := strconv.ParseInt(string(p.data[start:p.pos]), 10, 64)
	if err != nil {
		return false
	}
	*dst = v
	return true
}
