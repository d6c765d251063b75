package codec

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/codec/csvfmt"
)

var abc = []string{"a", "b", "c"}

func TestDecodeRows(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][]string
	}{
		{"one row", "a,b,c\r\n1,2,3\r\n", [][]string{{"1", "2", "3"}}},
		{"LF", "a,b,c\n1,2,3\n", [][]string{{"1", "2", "3"}}},
		{"no final line end", "a,b,c\r\n1,2,3", [][]string{{"1", "2", "3"}}},
		{"BOM", "\ufeffa,b,c\r\n1,2,3\r\n", [][]string{{"1", "2", "3"}}},
		{"empty fields", "a,b,c\r\n,,\r\n", [][]string{{"", "", ""}}},
		{"two rows", "a,b,c\r\n1,2,3\r\n4,5,6\r\n", [][]string{{"1", "2", "3"}, {"4", "5", "6"}}},
		{"blank lines", "a,b,c\r\n\r\n1,2,3\r\n\n4,5,6\r\n\r\n", [][]string{{"1", "2", "3"}, {"4", "5", "6"}}},
		{"quoted CRLF kept", "a,b,c\r\n\"x\r\ny\",\"\"\"\",ä\r\n", [][]string{{"x\r\ny", "\"", "ä"}}},
		{"quoted header", "\"a\",b,\"c\"\r\n1,2,3\r\n", [][]string{{"1", "2", "3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRows([]byte(tt.in), abc)
			if err != nil {
				t.Fatalf("DecodeRows: %v", err)
			}
			if !slices.EqualFunc(got, tt.want, slices.Equal) {
				t.Errorf("DecodeRows = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDecodeRowsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", "Datei ist leer"},
		{"only BOM", "\ufeff", "keine Kopfzeile"},
		{"only blank lines", "\r\n\n", "keine Kopfzeile"},
		{"header only", "a,b,c\r\n", "keine Datenzeile"},
		{"header only blank after", "a,b,c\r\n\r\n", "keine Datenzeile"},
		{"wrong header", "a,x,c\r\n1,2,3\r\n", "Kopfzeile passt nicht"},
		{"header case", "A,b,c\r\n1,2,3\r\n", "Kopfzeile passt nicht"},
		{"header order", "b,a,c\r\n1,2,3\r\n", "Kopfzeile passt nicht"},
		{"header short", "a,b\r\n1,2\r\n", "Kopfzeile passt nicht"},
		{"header long", "a,b,c,d\r\n1,2,3,4\r\n", "Kopfzeile passt nicht"},
		{"header spaces", "a, b,c\r\n1,2,3\r\n", "Kopfzeile passt nicht"},
		{"missing header", "1,2,3\r\n", "Kopfzeile passt nicht"},
		{"extra field", "a,b,c\r\n1,2,3,4\r\n", "Datenzeile 1 hat 4 Felder statt 3"},
		{"missing field", "a,b,c\r\n1,2\r\n", "Datenzeile 1 hat 2 Felder statt 3"},
		{"second row bad", "a,b,c\r\n1,2,3\r\n1\r\n", "Datenzeile 2 hat 1 Felder statt 3"},
		{"NUL", "a,b,c\r\n1,\x00,3\r\n", "NUL-Byte an Position 9"},
		{"invalid UTF-8", "a,b,c\r\nä,\xff,3\r\n", "kein gültiges UTF-8 (ab Byte 10)"},
		{"overlong UTF-8", "a,b,c\r\n\xc0\xaf,2,3\r\n", "kein gültiges UTF-8 (ab Byte 7)"},
		{"surrogate UTF-8", "a,b,c\r\n\xed\xa0\x80,2,3\r\n", "kein gültiges UTF-8 (ab Byte 7)"},
		{"truncated UTF-8", "a,b,c\r\n1,2,\xc3", "kein gültiges UTF-8 (ab Byte 11)"},
		{"unclosed quote", "a,b,c\r\n1,\"2,3\r\n", "Zeile 2: Anführungszeichen nicht geschlossen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeRows([]byte(tt.in), abc)
			if err == nil {
				t.Fatalf("DecodeRows = %q, want error containing %q", got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeRows error = %q, want it to contain %q", err, tt.want)
			}
			if got != nil {
				t.Errorf("DecodeRows returned rows %q with error", got)
			}
		})
	}
}

func TestDecodeRowsSyntaxErrorType(t *testing.T) {
	_, err := DecodeRows([]byte("a,b,c\r\n1,x\"y,3\r\n"), abc)
	var se *csvfmt.SyntaxError
	if !errors.As(err, &se) || se.Line != 2 {
		t.Fatalf("error = %v, want *csvfmt.SyntaxError on line 2", err)
	}
}

func TestDecodeRowsSize(t *testing.T) {
	head := "a,b,c\r\n1,2,"
	pad := func(n int) []byte {
		return []byte(head + strings.Repeat("x", n-len(head)-2) + "\r\n")
	}
	at := pad(MaxDataSize)
	if len(at) != MaxDataSize {
		t.Fatalf("test bug: %d", len(at))
	}
	if _, err := DecodeRows(at, abc); err != nil {
		t.Errorf("file of exactly MaxDataSize bytes refused: %v", err)
	}
	_, err := DecodeRows(pad(MaxDataSize+1), abc)
	if err == nil || !strings.Contains(err.Error(), "höchstens 1048576 erlaubt") {
		t.Errorf("file of MaxDataSize+1 bytes: error = %v", err)
	}
}

func TestInvalidUTF8At(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
	}{
		{"", -1},
		{"abc", -1},
		{"äöü😀", -1},
		{"\xff", 0},
		{"ab\x80", 2},
		{"ä\xc3", 2},
	} {
		if got := invalidUTF8At([]byte(tt.in)); got != tt.want {
			t.Errorf("invalidUTF8At(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestTextProblem(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"", ""},
		{"Müller 😀 \r\n\t\"", ""},
		{"\ufeff", ""},
		{"a\x00b", "NUL"},
		{"\x00", "NUL"},
		{"a\xffb", "UTF-8"},
		{"\xed\xa0\x80", "UTF-8"},
	} {
		got := TextProblem(tt.in)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("TextProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPathProblem(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string
	}{
		{"test_archiv/2024/076329/076329_Auftrag.pdf", ""},
		{"/abs/2024/076329/x.pdf", ""},
		{`C:\Archiv\2024\076329\076329_Auftrag.pdf`, ""},
		{`\\nas\share\2024\076329\x.pdf`, ""},
		{"a/.../b", ""},
		{"a/..b/c", ""},
		{"..a", ""},
		{"./a", ""},
		{"", "fehlt"},
		{"  ", "fehlt"},
		{"\t\r\n", "fehlt"},
		{"..", ".."},
		{"../etc/passwd", ".."},
		{"a/../../b", ".."},
		{"a/b/..", ".."},
		{`a\..\b`, ".."},
		{`..\b`, ".."},
		{"a//..//b", ".."},
	} {
		got := PathProblem(tt.in)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("PathProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
