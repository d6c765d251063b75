package csvfmt

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func equalRows(a, b [][]string) bool { return slices.EqualFunc(a, b, slices.Equal) }

func TestParseTolerant(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][]string
	}{
		{"empty", "", nil},
		{"only BOM", "\ufeff", nil},
		{"only blank lines", "\r\n\n\r\n", nil},
		{"CRLF", "a,b\r\nc,d\r\n", [][]string{{"a", "b"}, {"c", "d"}}},
		{"LF", "a,b\nc,d\n", [][]string{{"a", "b"}, {"c", "d"}}},
		{"mixed line ends", "a,b\nc,d\r\ne,f\n", [][]string{{"a", "b"}, {"c", "d"}, {"e", "f"}}},
		{"no final line end", "a,b\r\nc,d", [][]string{{"a", "b"}, {"c", "d"}}},
		{"no final line end quoted", "a,\"b\"", [][]string{{"a", "b"}}},
		{"BOM", "\ufeffa,b\r\nc,d\r\n", [][]string{{"a", "b"}, {"c", "d"}}},
		{"BOM before quote", "\ufeff\"a\",b\r\n", [][]string{{"a", "b"}}},
		{"only first BOM stripped", "\ufeff\ufeffa\r\n", [][]string{{"\ufeffa"}}},
		{"BOM later is data", "a\r\n\ufeffb\r\n", [][]string{{"a"}, {"\ufeffb"}}},
		{"blank lines skipped", "\r\na,b\r\n\r\n\n\r\nc,d\r\n\r\n", [][]string{{"a", "b"}, {"c", "d"}}},
		{"quoted empty field", "\"\"\r\n", [][]string{{""}}},
		{"empty fields", ",,\r\n", [][]string{{"", "", ""}}},
		{"trailing comma", "a,\r\n", [][]string{{"a", ""}}},
		{"trailing comma at EOF", "a,", [][]string{{"a", ""}}},
		{"ragged rows", "a\r\nb,c,d\r\n", [][]string{{"a"}, {"b", "c", "d"}}},
		{"spaces kept", " a , b \r\n", [][]string{{" a ", " b "}}},
		{"quoted comma", "\"a,b\",c\r\n", [][]string{{"a,b", "c"}}},
		{"doubled quotes", "\"say \"\"hi\"\"\"\r\n", [][]string{{`say "hi"`}}},
		{"only a quote", "\"\"\"\"\r\n", [][]string{{`"`}}},
		{"doubled quotes at both ends", "\"\"\"x\"\"\",y\r\n", [][]string{{`"x"`, "y"}}},
		{"quoted CRLF kept", "\"a\r\nb\",c\r\n", [][]string{{"a\r\nb", "c"}}},
		{"quoted LF kept", "\"a\nb\"\n", [][]string{{"a\nb"}}},
		{"quoted lone CR kept", "\"a\rb\"\r\n", [][]string{{"a\rb"}}},
		{"quoted CR LF mix kept", "\"\r\r\n\n\r\"\r\n", [][]string{{"\r\r\n\n\r"}}},
		{"quoted then LF", "\"a\"\nb\n", [][]string{{"a"}, {"b"}}},
		{"umlauts and emoji", "ÄÖÜ,äöüß,😀\r\n", [][]string{{"ÄÖÜ", "äöüß", "😀"}}},
		{"backslash not special", "C:\\a\\b,\"x\\\"\"\"\r\n", [][]string{{`C:\a\b`, `x\"`}}},
		{"tab and single quote", "a\tb,'c'\r\n", [][]string{{"a\tb", "'c'"}}},
		{"invalid UTF-8 passes through", "\xff,\xc3\r\n", [][]string{{"\xff", "\xc3"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !equalRows(got, tt.want) {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseStrict(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		line   int
		reason string // part of SyntaxError.Reason
	}{
		{"unclosed quote", "\"abc", 1, "nicht geschlossen"},
		{"unclosed quote line 2", "a,b\r\nc,\"d\r\ne\r\n", 2, "nicht geschlossen"},
		{"unclosed quote after multi-line field", "h\r\n\"a\nb\"\r\n\"c", 4, "nicht geschlossen"},
		{"unclosed by doubled quote", "\"a\"\"", 1, "nicht geschlossen"},
		{"lone opening quote", "\"", 1, "nicht geschlossen"},
		{"bare quote in unquoted field", "a\"b", 1, "Feld ohne Anführungszeichen"},
		{"bare quote line 3", "a\r\nb\r\nc,d\"\r\n", 3, "Feld ohne Anführungszeichen"},
		{"space before quote", "a, \"b\"\r\n", 1, "Feld ohne Anführungszeichen"},
		{"bare quote at end", "ab\"", 1, "Feld ohne Anführungszeichen"},
		{"text after closing quote", "\"a\"b", 1, "nach schließendem Anführungszeichen"},
		{"space after closing quote", "\"a\" ,b\r\n", 1, "nach schließendem Anführungszeichen"},
		{"text after multi-line quoted field", "h\r\n\"x\ny\"z\r\n", 3, "nach schließendem Anführungszeichen"},
		{"text after CRLF in quoted field", "h\r\n\"x\r\n\r\ny\"z\r\n", 4, "nach schließendem Anführungszeichen"},
		{"lone CR ends field", "a\rb", 1, "CR ohne LF"},
		{"lone CR at EOF", "a\r", 1, "CR ohne LF"},
		{"lone CR line 2", "a,b\r\nc\rd\r\n", 2, "CR ohne LF"},
		{"lone CR blank line", "a\r\n\r", 2, "CR ohne LF"},
		{"lone CR leading", "\ra", 1, "CR ohne LF"},
		{"CR CR LF", "a\r\r\n", 1, "CR ohne LF"},
		{"lone CR after quoted", "\"a\"\rb", 1, "CR ohne LF"},
		{"lone CR after quoted at EOF", "h\r\n\"a\"\r", 2, "CR ohne LF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in))
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %q, %v; want *SyntaxError", tt.in, got, err)
			}
			if got != nil {
				t.Errorf("Parse returned rows %q with error", got)
			}
			if se.Line != tt.line || !strings.Contains(se.Reason, tt.reason) {
				t.Errorf("Parse(%q) error = line %d %q, want line %d %q", tt.in, se.Line, se.Reason, tt.line, tt.reason)
			}
			if want := "Zeile "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := [][][]string{
		{{"a"}},
		{{""}},
		{{"", ""}},
		{{"", "", ""}, {""}, {"x"}},
		{{"\""}},
		{{"\"\""}, {"\"a\"", "b\""}},
		{{"a,b", ",", ",,"}},
		{{"a\r\nb", "\r\n", "\r", "\n", "\n\r", "\r\r\n\n"}},
		{{" lead", "trail ", "  "}},
		{{"ÄÖÜäöüß", "😀🚗", "\u2028"}},
		{{`{"Garantie": [2], "Ölwechsel": [1]}`, `C:\Archiv\2024\076329\076329_Auftrag.pdf`}},
		{{"record_id", "auftrag_nr"}, {"12", "076329"}, {"13", "076330"}},
		{{"a"}, {"\ufeff"}}, // a BOM that is not the first byte of the file is data
		{{"x\ufeff"}},
	}
	for _, rows := range tests {
		var b []byte
		for _, r := range rows {
			b = AppendRow(b, r)
		}
		got, err := Parse(b)
		if err != nil {
			t.Errorf("Parse(AppendRow(%q)): %v", rows, err)
			continue
		}
		if !equalRows(got, rows) {
			t.Errorf("Parse(AppendRow(%q)) = %q", rows, got)
		}
	}
}

// TestRoundTripLeadingBOM documents the one value the reader cannot tell from
// its tolerance: a first field that starts with a BOM. A writer that wants to
// keep it must put a BOM before the file, and then it survives.
func TestRoundTripLeadingBOM(t *testing.T) {
	rows := [][]string{{"\ufeffa", "b"}}
	b := AppendRow(nil, rows[0])
	if got, _ := Parse(b); equalRows(got, rows) {
		t.Errorf("leading BOM unexpectedly kept: %q", got)
	}
	got, err := Parse(append([]byte(bom), b...))
	if err != nil || !equalRows(got, rows) {
		t.Errorf("Parse(BOM + AppendRow(%q)) = %q, %v", rows, got, err)
	}
}

func TestRoundTripRandom(t *testing.T) {
	for seed := range uint64(20) {
		rows := randomRows(seed, 100)
		var b []byte
		for _, r := range rows {
			b = AppendRow(b, r)
		}
		got, err := Parse(append([]byte(bom), b...))
		if err != nil {
			t.Fatalf("seed %d: Parse(BOM + rows): %v", seed, err)
		}
		if !equalRows(got, rows) {
			t.Fatalf("seed %d: Parse(BOM + rows) differs", seed)
		}
		if strings.HasPrefix(rows[0][0], bom) {
			continue // see TestRoundTripLeadingBOM
		}
		got, err = Parse(b)
		if err != nil {
			t.Fatalf("seed %d: Parse: %v", seed, err)
		}
		if !equalRows(got, rows) {
			for i := range rows {
				if i >= len(got) || !slices.Equal(got[i], rows[i]) {
					t.Fatalf("seed %d: row %d = %q, want %q", seed, i, got[i:min(i+1, len(got))], rows[i])
				}
			}
			t.Fatalf("seed %d: %d rows, want %d", seed, len(got), len(rows))
		}
	}
}

// Parse copies data once: changing the input afterwards changes no field.
func TestParseDoesNotAliasInput(t *testing.T) {
	data := []byte("abc,\"d\"\"e\"\r\n")
	rows, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range data {
		data[i] = 'X'
	}
	if want := [][]string{{"abc", `d"e`}}; !equalRows(rows, want) {
		t.Errorf("rows changed with input: %q", rows)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "\ufeff", "a,b\r\nc,d\r\n", "a,b\nc,d", "\"a\r\nb\",\"\"\"\"\r\n", "\"\"\r\n", ",,\r\n",
		"\r\n\n", "\"abc", "a\"b", "\"a\"b", "a\rb", "\"a\"\r", "\ufeff\ufeffa", "\"\ufeff\"",
		"record_id,auftrag_nr\r\n12,076329\r\n", "\xff\xfe,\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := Parse(data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Line > strings.Count(string(data), "\n")+1 {
				t.Fatalf("Parse error %#v is not a *SyntaxError with a line inside the input", err)
			}
			return
		}
		var b []byte
		for _, r := range rows {
			if len(r) == 0 {
				t.Fatalf("Parse returned an empty row")
			}
			b = AppendRow(b, r)
		}
		// A BOM in front keeps a first field that itself starts with a BOM.
		got, err := Parse(append([]byte(bom), b...))
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b, err)
		}
		if !equalRows(got, rows) {
			t.Fatalf("re-parse = %q, want %q", got, rows)
		}
		if len(rows) > 0 && strings.HasPrefix(rows[0][0], bom) {
			return
		}
		got, err = Parse(b)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", b, err)
		}
		if !equalRows(got, rows) {
			t.Fatalf("re-parse = %q, want %q", got, rows)
		}
	})
}
