package v1_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/codec"
	v1 "werkstatt-backup/codec/v1"
)

const header = "record_id,auftrag_nr,kunde_name,kunden_nr,kennzeichen,vin,datum,formular_version,keywords_json,file_path,hash,data_complete,created_at,updated_at\r\n"

// validRow returns a fresh row that passes every rule.
func validRow() []string {
	return []string{
		v1.RecordID:        "12",
		v1.AuftragNr:       "076329",
		v1.KundeName:       "Müller",
		v1.KundenNr:        "K12345",
		v1.Kennzeichen:     "B-AB 1234",
		v1.VIN:             "WVW1234567890",
		v1.Datum:           "2024-07-29",
		v1.FormularVersion: "neu",
		v1.KeywordsJSON:    `{"Garantie": [2]}`,
		v1.FilePath:        "test_archiv/2024/076329/076329_Auftrag.pdf",
		v1.Hash:            "abc123",
		v1.DataComplete:    "1",
		v1.CreatedAt:       "2024-07-29T10:00:00",
		v1.UpdatedAt:       "2024-07-29T10:00:00",
	}
}

func TestColumns(t *testing.T) {
	c := v1.Codec{}
	if c.Version() != "1.0" || v1.Version != "1.0" {
		t.Errorf("Version = %q", c.Version())
	}
	want := strings.Split(strings.TrimSuffix(header, "\r\n"), ",")
	if got := codec.Names(c); !slices.Equal(got, want) {
		t.Errorf("Names = %q, want %q", got, want)
	}
	if len(validRow()) != len(want) {
		t.Fatalf("column constants: %d, want %d", len(validRow()), len(want))
	}
	for i, col := range c.Columns() {
		wantType := "TEXT"
		if col.Name == "record_id" || col.Name == "data_complete" {
			wantType = "INTEGER"
		}
		if col.Type != wantType {
			t.Errorf("column %s type %s, want %s", col.Name, col.Type, wantType)
		}
		if col.NotNull != (col.Name == "auftrag_nr" || col.Name == "file_path") {
			t.Errorf("column %s NotNull = %v", col.Name, col.NotNull)
		}
		if col.PrimaryKey != (i == v1.RecordID) {
			t.Errorf("column %s PrimaryKey = %v", col.Name, col.PrimaryKey)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		col   int    // the column set to value
		value string // in the otherwise valid row
		word  string // part of the Reason; "" means the row is valid
	}{
		{"record_id ok", v1.RecordID, "1", ""},
		{"record_id max int64", v1.RecordID, "9223372036854775807", ""},
		{"record_id empty", v1.RecordID, "", "ganze Zahl"},
		{"record_id zero", v1.RecordID, "0", "nicht positiv"},
		{"record_id negative", v1.RecordID, "-1", "nicht positiv"},
		{"record_id leading zero", v1.RecordID, "01", "ganze Zahl"},
		{"record_id minus zero", v1.RecordID, "-0", "ganze Zahl"},
		{"record_id fraction", v1.RecordID, "1.5", "ganze Zahl"},
		{"record_id letters", v1.RecordID, "abc", "ganze Zahl"},
		{"record_id overflow", v1.RecordID, "9223372036854775808", "ganze Zahl"},
		{"record_id plus", v1.RecordID, "+1", "ganze Zahl"},
		{"record_id leading space", v1.RecordID, " 1", "ganze Zahl"},
		{"record_id trailing space", v1.RecordID, "1 ", "ganze Zahl"},
		{"record_id trailing newline", v1.RecordID, "1\n", "ganze Zahl"},
		{"record_id exponent", v1.RecordID, "1e3", "ganze Zahl"},
		{"record_id hex", v1.RecordID, "0x1", "ganze Zahl"},
		{"record_id underscore", v1.RecordID, "1_000", "ganze Zahl"},
		{"record_id arabic digits", v1.RecordID, "١٢", "ganze Zahl"},

		{"auftrag_nr leading zeros ok", v1.AuftragNr, "000001", ""},
		{"auftrag_nr 5 digits", v1.AuftragNr, "76329", "6 Ziffern"},
		{"auftrag_nr 7 digits", v1.AuftragNr, "0763290", "6 Ziffern"},
		{"auftrag_nr letters", v1.AuftragNr, "07632a", "6 Ziffern"},
		{"auftrag_nr all letters", v1.AuftragNr, "ABCDEF", "6 Ziffern"},
		{"auftrag_nr empty", v1.AuftragNr, "", "6 Ziffern"},
		{"auftrag_nr trailing newline", v1.AuftragNr, "076329\n", "6 Ziffern"},
		{"auftrag_nr spaces", v1.AuftragNr, " 76329", "6 Ziffern"},
		{"auftrag_nr fullwidth digits", v1.AuftragNr, "０７６３２９", "6 Ziffern"},
		{"auftrag_nr negative", v1.AuftragNr, "-76329", "6 Ziffern"},

		{"datum empty ok", v1.Datum, "", ""},
		{"datum leap day ok", v1.Datum, "2024-02-29", ""},
		{"datum February 30", v1.Datum, "2024-02-30", "Datum"},
		{"datum no leap year", v1.Datum, "2023-02-29", "Datum"},
		{"datum month 13", v1.Datum, "2024-13-01", "Datum"},
		{"datum German", v1.Datum, "29.07.2024", "Datum"},
		{"datum short", v1.Datum, "2024-7-29", "Datum"},
		{"datum timestamp", v1.Datum, "2024-07-29T10:00:00", "Datum"},
		{"datum space", v1.Datum, " ", "Datum"},

		{"keywords_json empty ok", v1.KeywordsJSON, "", ""},
		{"keywords_json umlaut ok", v1.KeywordsJSON, `{"Garantie": [2], "Ölwechsel": [1]}`, ""},
		{"keywords_json array ok", v1.KeywordsJSON, `[]`, ""},
		{"keywords_json null ok", v1.KeywordsJSON, `null`, ""},
		{"keywords_json string ok", v1.KeywordsJSON, `"Garantie"`, ""},
		{"keywords_json multi-line ok", v1.KeywordsJSON, "{\r\n  \"a\": 1\r\n}", ""},
		{"keywords_json unclosed", v1.KeywordsJSON, `{"Garantie": [2]`, "JSON"},
		{"keywords_json single quotes", v1.KeywordsJSON, `{'Garantie': [2]}`, "JSON"},
		{"keywords_json bare word", v1.KeywordsJSON, `Garantie`, "JSON"},
		{"keywords_json trailing comma", v1.KeywordsJSON, `[1,]`, "JSON"},
		{"keywords_json two values", v1.KeywordsJSON, `{} {}`, "JSON"},
		{"keywords_json NaN", v1.KeywordsJSON, `NaN`, "JSON"},
		{"keywords_json space", v1.KeywordsJSON, ` `, "JSON"},

		{"file_path windows ok", v1.FilePath, `C:\Archiv\2024\076329\076329_Auftrag.pdf`, ""},
		{"file_path dots in name ok", v1.FilePath, "a/..b/c..", ""},
		{"file_path empty", v1.FilePath, "", "fehlt"},
		{"file_path spaces", v1.FilePath, "  ", "fehlt"},
		{"file_path parent", v1.FilePath, "../etc/passwd", ".."},
		{"file_path backslash parent", v1.FilePath, `a\..\b`, ".."},
		{"file_path parent at end", v1.FilePath, "a/b/..", ".."},

		{"data_complete empty ok", v1.DataComplete, "", ""},
		{"data_complete 0 ok", v1.DataComplete, "0", ""},
		{"data_complete 1 ok", v1.DataComplete, "1", ""},
		{"data_complete 2", v1.DataComplete, "2", "0 oder 1"},
		{"data_complete yes", v1.DataComplete, "yes", "0 oder 1"},
		{"data_complete true", v1.DataComplete, "true", "0 oder 1"},
		{"data_complete 01", v1.DataComplete, "01", "0 oder 1"},
		{"data_complete space", v1.DataComplete, " 1", "0 oder 1"},
		{"data_complete -1", v1.DataComplete, "-1", "0 oder 1"},

		{"created_at empty ok", v1.CreatedAt, "", ""},
		{"created_at fraction ok", v1.CreatedAt, "2024-07-29T10:00:00.123456", ""},
		{"created_at Z ok", v1.CreatedAt, "2024-07-29T10:00:00Z", ""},
		{"created_at +02:00 ok", v1.CreatedAt, "2024-07-29T10:00:00+02:00", ""},
		{"created_at +0200 ok", v1.CreatedAt, "2024-07-29T10:00:00+0200", ""},
		{"created_at fraction and offset ok", v1.CreatedAt, "2024-07-29T10:00:00.5-05:00", ""},
		{"created_at SQLite ok", v1.CreatedAt, "2024-07-29 10:00:00", ""},
		{"created_at date only ok", v1.CreatedAt, "2024-07-29", ""},
		{"created_at milliseconds ok", v1.CreatedAt, "2024-07-29 10:00:00.000", ""},
		{"created_at week date ok", v1.CreatedAt, "2011-W01-2", ""},
		{"created_at basic ok", v1.CreatedAt, "20231101T102030", ""},
		{"created_at bad month", v1.CreatedAt, "2024-13-29T10:00:00", "ISO-8601"},
		{"created_at hour 25", v1.CreatedAt, "2024-07-29T25:00:00", "ISO-8601"},
		{"created_at no seconds ok", v1.CreatedAt, "2024-07-29T10:00", ""},
		{"created_at hour only ok", v1.CreatedAt, "2024-07-29T10", ""},
		{"created_at month only", v1.CreatedAt, "2024-07", "ISO-8601"},
		{"created_at German", v1.CreatedAt, "29.07.2024 10:00", "ISO-8601"},
		{"updated_at empty ok", v1.UpdatedAt, "", ""},
		{"updated_at fraction ok", v1.UpdatedAt, "2024-07-29T10:00:00.123", ""},
		{"updated_at Z ok", v1.UpdatedAt, "2024-07-29T10:00:00Z", ""},
		{"updated_at +02:00 ok", v1.UpdatedAt, "2024-07-29T10:00:00+02:00", ""},
		{"updated_at +0200 ok", v1.UpdatedAt, "2024-07-29T10:00:00+0200", ""},
		{"updated_at SQLite ok", v1.UpdatedAt, "2024-07-29 10:00:00", ""},
		{"updated_at two spaces", v1.UpdatedAt, "2024-07-29  10:00:00", "ISO-8601"},
		{"updated_at bad month", v1.UpdatedAt, "2024-00-29T10:00:00", "ISO-8601"},
		{"updated_at hour 25", v1.UpdatedAt, "2024-07-29T25:00:00", "ISO-8601"},
		{"updated_at bad day", v1.UpdatedAt, "2024-02-30T10:00:00", "ISO-8601"},

		{"free text anything ok", v1.KundeName, "Ä, \"Ö\"\r\nü\rß 😀 \\ \t\ufeff", ""},
		{"free text empty ok", v1.Kennzeichen, "", ""},
	}
	names := codec.Names(v1.Codec{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := validRow()
			row[tt.col] = tt.value
			errs := v1.Codec{}.Validate(row)
			if tt.word == "" {
				if len(errs) != 0 {
					t.Fatalf("Validate(%s=%q) = %v, want no errors", names[tt.col], tt.value, errs)
				}
				return
			}
			if len(errs) != 1 {
				t.Fatalf("Validate(%s=%q) = %v, want one error", names[tt.col], tt.value, errs)
			}
			if errs[0].Column != names[tt.col] || !strings.Contains(errs[0].Reason, tt.word) {
				t.Errorf("Validate(%s=%q) = %+v, want column %s, reason with %q", names[tt.col], tt.value, errs[0], names[tt.col], tt.word)
			}
			// Only a record_id that is no integer makes the row unusable;
			// every other rule is a warning and the row is still protected.
			wantWarning := tt.col != v1.RecordID || tt.word == "nicht positiv"
			if errs[0].Warning != wantWarning {
				t.Errorf("Validate(%s=%q).Warning = %v, want %v", names[tt.col], tt.value, errs[0].Warning, wantWarning)
			}
		})
	}
}

// TestValidateText puts a NUL byte and invalid UTF-8 into every column: each
// is reported for that column (other rules may complain about it as well).
func TestValidateText(t *testing.T) {
	names := codec.Names(v1.Codec{})
	for col, name := range names {
		for _, bad := range []struct{ suffix, word string }{
			{"\x00", "NUL"},
			{"\xff", "UTF-8"},
			{"\xc3", "UTF-8"},         // truncated ä
			{"\xed\xa0\x80", "UTF-8"}, // UTF-16 surrogate
		} {
			row := validRow()
			row[col] += bad.suffix
			errs := v1.Codec{}.Validate(row)
			found := false
			for _, e := range errs {
				if e.Column != name {
					t.Errorf("%s+%q: error for another column: %+v", name, bad.suffix, e)
				}
				if strings.Contains(e.Reason, bad.word) {
					found = true
					if e.Warning {
						t.Errorf("%s+%q: %+v is a warning, want an error", name, bad.suffix, e)
					}
				}
			}
			if !found {
				t.Errorf("%s+%q: Validate = %v, want a %s error", name, bad.suffix, errs, bad.word)
			}
		}
	}
}

func TestValidateManyErrors(t *testing.T) {
	row := []string{"x", "1", "", "", "", "", "2024-02-30", "", "{", "..", "", "2", "gestern", "morgen"}
	errs := v1.Codec{}.Validate(row)
	var cols []string
	for _, e := range errs {
		cols = append(cols, e.Column)
	}
	want := []string{"record_id", "auftrag_nr", "datum", "keywords_json", "file_path", "data_complete", "created_at", "updated_at"}
	if !slices.Equal(cols, want) {
		t.Errorf("Validate reported columns %q, want %q", cols, want)
	}
}

func TestValidateFieldCount(t *testing.T) {
	for _, n := range []int{0, 1, 13, 15} {
		row := make([]string, n)
		copy(row, validRow())
		errs := v1.Codec{}.Validate(row)
		if len(errs) != 1 || errs[0].Column != "*" || !strings.Contains(errs[0].Reason, "Felder statt 14") {
			t.Errorf("Validate(%d fields) = %v", n, errs)
		}
	}
	if errs := (v1.Codec{}).Validate(nil); len(errs) != 1 {
		t.Errorf("Validate(nil) = %v", errs)
	}
}

func TestIdentity(t *testing.T) {
	row := validRow()
	row[v1.CreatedAt] = "2024-07-29T09:00:00"
	got := v1.Codec{}.Identity(row)
	want := codec.Identity{
		RecordID:  12,
		AuftragNr: "076329",
		FilePath:  "test_archiv/2024/076329/076329_Auftrag.pdf",
		Datum:     "2024-07-29",
		CreatedAt: "2024-07-29T09:00:00",
		UpdatedAt: "2024-07-29T10:00:00",
	}
	if got != want {
		t.Errorf("Identity = %+v, want %+v", got, want)
	}
	row[v1.RecordID] = "abc"
	if id := (v1.Codec{}).Identity(row); id.RecordID != 0 {
		t.Errorf("Identity of invalid record_id = %d, want 0", id.RecordID)
	}
}

func TestEncode(t *testing.T) {
	c := v1.Codec{}
	if got := string(c.Encode()); got != header {
		t.Errorf("Encode() = %q, want the header", got)
	}
	row := validRow()
	want := header + "12,076329,Müller,K12345,B-AB 1234,WVW1234567890,2024-07-29,neu,\"{\"\"Garantie\"\": [2]}\",test_archiv/2024/076329/076329_Auftrag.pdf,abc123,1,2024-07-29T10:00:00,2024-07-29T10:00:00\r\n"
	if got := string(c.Encode(row)); got != want {
		t.Errorf("Encode(row) =\n%q\nwant\n%q", got, want)
	}
	row2 := validRow()
	row2[v1.RecordID] = "13"
	row2[v1.KundeName] = "a\r\nb"
	got, err := c.Decode(c.Encode(row, row2))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(got, [][]string{row, row2}, slices.Equal) {
		t.Errorf("Decode(Encode(row, row2)) = %q", got)
	}
}

func TestDecode(t *testing.T) {
	row := validRow()
	line := strings.TrimPrefix(string(v1.Codec{}.Encode(row)), header)
	lf := func(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }
	tests := []struct {
		name string
		in   string
		want int // rows
	}{
		{"one row", header + line, 1},
		{"BOM", "\ufeff" + header + line, 1},
		{"LF", lf(header + line), 1},
		{"no final line end", header + strings.TrimSuffix(line, "\r\n"), 1},
		{"multi-row", header + line + line + line, 3},
		{"blank line between rows", header + line + "\r\n" + line, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := v1.Codec{}.Decode([]byte(tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(rows) != tt.want {
				t.Fatalf("Decode returned %d rows, want %d", len(rows), tt.want)
			}
			for _, r := range rows {
				if !slices.Equal(r, row) {
					t.Errorf("row = %q, want %q", r, row)
				}
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	row := validRow()
	line := strings.TrimPrefix(string(v1.Codec{}.Encode(row)), header)
	wrongHeader := strings.Replace(header, "kunde_name", "kundename", 1)
	huge := validRow()
	huge[v1.KundeName] = strings.Repeat("x", codec.MaxDataSize)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty file", "", "leer"},
		{"only BOM", "\ufeff", "keine Kopfzeile"},
		{"zero data rows", header, "keine Datenzeile"},
		{"missing header", line, "Kopfzeile passt nicht"},
		{"wrong header", wrongHeader + line, "Kopfzeile passt nicht"},
		{"header with extra column", strings.TrimSuffix(header, "\r\n") + ",extra\r\n" + line, "Kopfzeile passt nicht"},
		{"header without last column", strings.TrimSuffix(header, ",updated_at\r\n") + "\r\n" + line, "Kopfzeile passt nicht"},
		{"header upper case", strings.ToUpper(header) + line, "Kopfzeile passt nicht"},
		{"extra column in row", header + strings.TrimSuffix(line, "\r\n") + ",x\r\n", "Datenzeile 1 hat 15 Felder statt 14"},
		{"missing column in row", header + "12,076329\r\n", "Datenzeile 1 hat 2 Felder statt 14"},
		{"second row short", header + line + "13\r\n", "Datenzeile 2 hat 1 Felder statt 14"},
		{"too large", string(v1.Codec{}.Encode(huge)), "höchstens"},
		{"NUL byte", header + strings.Replace(line, "Müller", "Mül\x00ler", 1), "NUL-Byte"},
		{"invalid UTF-8", header + strings.Replace(line, "Müller", "M\xfcller", 1), "UTF-8"},
		{"Latin-1 file", strings.ReplaceAll(header+line, "ü", "\xfc"), "UTF-8"},
		{"UTF-16 BOM", "\xff\xfe" + header + line, "UTF-8"},
		{"unclosed quote", header + strings.Replace(line, "\"{", "{", 1), "Zeile 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := v1.Codec{}.Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("Decode = %d rows, want error with %q", len(rows), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	c := v1.Codec{}
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.csv"))
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	row := validRow()
	enc := c.Encode(row)
	for _, s := range []string{
		"", header, string(enc), "\ufeff" + string(enc), strings.ReplaceAll(string(enc), "\r\n", "\n"),
		string(c.Encode(row, row)), string(enc) + "x", string(enc[:len(enc)-10]), header + ",,,,,,,,,,,,,\r\n",
		header + "\"\r\n", header + "a\"b\r\n", header + "\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := c.Decode(data)
		if err != nil {
			if rows != nil {
				t.Fatalf("Decode returned rows with error %v", err)
			}
			return
		}
		if len(rows) == 0 {
			t.Fatal("Decode succeeded without a row")
		}
		for _, r := range rows {
			if len(r) != 14 {
				t.Fatalf("row with %d fields", len(r))
			}
			if errs := c.Validate(r); len(errs) == 0 {
				if id := c.Identity(r); id.RecordID <= 0 || len(id.AuftragNr) != 6 || id.FilePath == "" {
					t.Fatalf("valid row with identity %+v", id)
				}
			} else {
				_ = c.Identity(r) // must not panic either
			}
		}
		again := c.Encode(rows...)
		if len(again) > codec.MaxDataSize {
			return // quoting and CRLF can grow a file past the limit
		}
		got, err := c.Decode(again)
		if err != nil {
			t.Fatalf("Decode(Encode(rows)): %v", err)
		}
		if !slices.EqualFunc(got, rows, slices.Equal) {
			t.Fatalf("Decode(Encode(rows)) = %q, want %q", got, rows)
		}
	})
}
