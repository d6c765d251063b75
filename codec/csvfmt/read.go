package csvfmt

import (
	"fmt"
	"strings"
)

// bom is the UTF-8 byte order mark some editors put at the start of a file.
const bom = "\ufeff"

// SyntaxError describes malformed CSV: the 1-based line where the problem is
// and what is wrong, in German for the operator.
type SyntaxError struct {
	Line   int
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("Zeile %d: %s", e.Line, e.Reason)
}

// Parse splits data into rows of fields. A leading BOM is skipped, rows may end
// in CRLF or LF (the last one may end without), blank lines are skipped. Every
// returned field is a substring of one string copy of data unless it held
// doubled quotes, so a parsed file costs few allocations.
func Parse(data []byte) ([][]string, error) {
	p := parser{s: strings.TrimPrefix(string(data), bom), line: 1}
	var rows [][]string
	for p.pos < len(p.s) {
		if p.atLineEnd() {
			if err := p.lineEnd(); err != nil {
				return nil, err
			}
			continue
		}
		row, err := p.row()
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

type parser struct {
	s    string
	pos  int
	line int
}

func (p *parser) atLineEnd() bool {
	c := p.s[p.pos]
	return c == '\n' || c == '\r'
}

// lineEnd consumes LF or CRLF; a lone CR outside quotes is not valid.
func (p *parser) lineEnd() error {
	if p.s[p.pos] == '\r' {
		if p.pos+1 >= len(p.s) || p.s[p.pos+1] != '\n' {
			return &SyntaxError{p.line, "CR ohne LF außerhalb von Anführungszeichen"}
		}
		p.pos++
	}
	p.pos++
	p.line++
	return nil
}

// row reads fields up to and including the row's line end (or EOF).
func (p *parser) row() ([]string, error) {
	row := make([]string, 0, 16)
	for {
		var f string
		var err error
		if p.pos < len(p.s) && p.s[p.pos] == '"' {
			f, err = p.quoted()
		} else {
			f, err = p.plain()
		}
		if err != nil {
			return nil, err
		}
		row = append(row, f)
		if p.pos >= len(p.s) {
			return row, nil
		}
		if p.s[p.pos] == ',' {
			p.pos++
			continue
		}
		return row, p.lineEnd()
	}
}

// plain reads an unquoted field; a quote inside it is invalid, because every
// writer of this format would have quoted such a field.
func (p *parser) plain() (string, error) {
	start := p.pos
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ',', '\r', '\n':
			return p.s[start:p.pos], nil
		case '"':
			return "", &SyntaxError{p.line, "Anführungszeichen in einem Feld ohne Anführungszeichen"}
		}
		p.pos++
	}
	return p.s[start:], nil
}

// quoted reads a field in double quotes, where "" stands for one quote.
func (p *parser) quoted() (string, error) {
	startLine := p.line
	p.pos++ // opening quote
	start := p.pos
	var b *strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '\n':
			p.line++
		case c == '"' && p.pos+1 < len(p.s) && p.s[p.pos+1] == '"':
			if b == nil {
				b = &strings.Builder{}
			}
			b.WriteString(p.s[start : p.pos+1])
			p.pos += 2
			start = p.pos
			continue
		case c == '"':
			f := p.s[start:p.pos]
			if b != nil {
				b.WriteString(f)
				f = b.String()
			}
			p.pos++
			if p.pos < len(p.s) && !strings.ContainsRune(",\r\n", rune(p.s[p.pos])) {
				return "", &SyntaxError{p.line, "Zeichen nach schließendem Anführungszeichen"}
			}
			return f, nil
		}
		p.pos++
	}
	return "", &SyntaxError{startLine, "Anführungszeichen nicht geschlossen"}
}
