// Package csvfmt reads and writes the RFC 4180 dialect of the backup files.
//
// The writer produces exactly what Python's csv.writer writes with its default
// ("excel") dialect: comma separated, CRLF after every row, a field quoted only
// when it holds a comma, a double quote, CR or LF, and quotes doubled inside a
// quoted field. Files written by the original Python tool and by this package
// are therefore byte-identical for the same values.
//
// The reader is tolerant where that is safe (LF or CRLF line ends, a leading
// UTF-8 BOM, blank lines between rows) and strict where it matters: every quote
// must be well-formed and CR/LF inside a quoted field are kept byte for byte
// (encoding/csv would turn CRLF into LF and so change the data).
package csvfmt

import "strings"

// needsQuotes reports whether Python's QUOTE_MINIMAL would quote s.
func needsQuotes(s string) bool {
	return strings.ContainsAny(s, ",\"\r\n")
}

// AppendRow appends one row, terminated by CRLF, to dst and returns the result.
func AppendRow(dst []byte, fields []string) []byte {
	if len(fields) == 1 && fields[0] == "" {
		// csv.writer writes a lone empty field as "" so the row is not blank.
		return append(dst, '"', '"', '\r', '\n')
	}
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		if !needsQuotes(f) {
			dst = append(dst, f...)
			continue
		}
		dst = append(dst, '"')
		for j := 0; j < len(f); j++ {
			if f[j] == '"' {
				dst = append(dst, '"')
			}
			dst = append(dst, f[j])
		}
		dst = append(dst, '"')
	}
	return append(dst, '\r', '\n')
}
