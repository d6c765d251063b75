package codec

import (
	"bytes"
	"strings"
	"testing"
)

const sum = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

var wantMeta = Meta{
	SchemaVersion: "1.0",
	Checksum:      sum,
	ExportedAt:    "2024-07-29T10:30:00",
	AuftragNr:     "076329",
	RecordID:      12,
	FileSize:      1024,
}

// What Python's json.dump(meta, f) writes (separators ", " and ": ").
const pyCompact = `{"schema_version": "1.0", "checksum": "` + sum + `", "exported_at": "2024-07-29T10:30:00", "auftrag_nr": "076329", "record_id": 12, "file_size": 1024}`

// What Python's json.dump(meta, f, indent=2) writes.
const pyIndent = "{\n  \"schema_version\": \"1.0\",\n  \"checksum\": \"" + sum + "\",\n  \"exported_at\": \"2024-07-29T10:30:00\",\n  \"auftrag_nr\": \"076329\",\n  \"record_id\": 12,\n  \"file_size\": 1024\n}"

// metaWith returns pyCompact with the JSON text of key replaced by value, or
// the key removed when value is "".
func metaWith(key, value string) string {
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(pyCompact, "{"), "}"), ", ")
	var out []string
	for _, p := range parts {
		if strings.HasPrefix(p, `"`+key+`":`) {
			if value == "" {
				continue
			}
			p = `"` + key + `": ` + value
		}
		out = append(out, p)
	}
	return "{" + strings.Join(out, ", ") + "}"
}

func TestDecodeMetaValid(t *testing.T) {
	zero := wantMeta
	zero.FileSize = 0
	tests := []struct {
		name string
		in   string
		want Meta
	}{
		{"python compact", pyCompact, wantMeta},
		{"python compact newline", pyCompact + "\n", wantMeta},
		{"python indent", pyIndent, wantMeta},
		{"python indent 4 CRLF", strings.ReplaceAll(strings.ReplaceAll(pyIndent, "\n", "\r\n"), "  ", "    "), wantMeta},
		{"go compact", `{"schema_version":"1.0","checksum":"` + sum + `","exported_at":"2024-07-29T10:30:00","auftrag_nr":"076329","record_id":12,"file_size":1024}`, wantMeta},
		{"BOM", "\ufeff" + pyIndent, wantMeta},
		{"trailing whitespace", pyCompact + " \r\n\t\n", wantMeta},
		{"leading whitespace", "\n  " + pyCompact, wantMeta},
		{"unknown keys ignored", `{"tool": "werkstatt", "extra": {"a": [1, 2, null]}, ` + pyCompact[1:len(pyCompact)-1] + `, "z": null}`, wantMeta},
		{"keys in other order", `{"file_size": 1024, "record_id": 12, "auftrag_nr": "076329", "exported_at": "2024-07-29T10:30:00", "checksum": "` + sum + `", "schema_version": "1.0"}`, wantMeta},
		{"uppercase checksum lowered", metaWith("checksum", `"`+strings.ToUpper(sum)+`"`), wantMeta},
		{"file_size zero", metaWith("file_size", "0"), zero},
		{"escaped strings", metaWith("auftrag_nr", `"\u0030\u0037\u0036329"`), wantMeta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMeta([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeMeta: %v", err)
			}
			if got != tt.want {
				t.Errorf("DecodeMeta = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeMetaInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // part of the error message
	}{
		{"empty", "", "kein gültiges JSON-Objekt"},
		{"whitespace", " \n", "kein gültiges JSON-Objekt"},
		{"truncated", pyCompact[:40], "kein gültiges JSON-Objekt"},
		{"array", "[" + pyCompact + "]", "kein gültiges JSON-Objekt"},
		{"string", `"meta"`, "kein gültiges JSON-Objekt"},
		{"number", `12`, "kein gültiges JSON-Objekt"},
		{"null", `null`, "fehlt"},
		{"double BOM", "\ufeff\ufeff" + pyCompact, "kein gültiges JSON-Objekt"},
		{"trailing garbage", pyCompact + "x", "Daten nach dem Objekt"},
		{"trailing object", pyCompact + "{}", "Daten nach dem Objekt"},
		{"trailing number", pyCompact + " 1", "Daten nach dem Objekt"},
		{"trailing brace", pyCompact + "}", "Daten nach dem Objekt"},
		{"trailing bracket", pyCompact + "]", "Daten nach dem Objekt"},
		{"trailing comma", pyCompact + ",", "Daten nach dem Objekt"},
		{"trailing NUL", pyCompact + "\x00", "Daten nach dem Objekt"},
		{"single quotes", strings.ReplaceAll(pyCompact, `"`, `'`), "kein gültiges JSON-Objekt"},
		{"trailing comma inside", strings.TrimSuffix(pyCompact, "}") + ",}", "kein gültiges JSON-Objekt"},

		{"missing schema_version", metaWith("schema_version", ""), "Feld schema_version fehlt"},
		{"missing checksum", metaWith("checksum", ""), "Feld checksum fehlt"},
		{"missing exported_at", metaWith("exported_at", ""), "Feld exported_at fehlt"},
		{"missing auftrag_nr", metaWith("auftrag_nr", ""), "Feld auftrag_nr fehlt"},
		{"missing record_id", metaWith("record_id", ""), "Feld record_id fehlt"},
		{"missing file_size", metaWith("file_size", ""), "Feld file_size fehlt"},
		{"null record_id", metaWith("record_id", "null"), "Feld record_id fehlt"},
		{"empty object", "{}", "Feld schema_version, checksum, exported_at, auftrag_nr, record_id, file_size fehlt"},
		{"wrong key case", strings.Replace(pyCompact, "record_id", "Record_ID", 1), "Feld record_id fehlt"},

		{"record_id string", metaWith("record_id", `"12"`), "Feld record_id hat den falschen Typ"},
		{"record_id float", metaWith("record_id", `12.5`), "Feld record_id hat den falschen Typ"},
		{"record_id exponent", metaWith("record_id", `1e3`), "Feld record_id hat den falschen Typ"},
		{"record_id overflow", metaWith("record_id", `99999999999999999999`), "Feld record_id hat den falschen Typ"},
		{"record_id bool", metaWith("record_id", `true`), "Feld record_id hat den falschen Typ"},
		{"file_size string", metaWith("file_size", `"1024"`), "Feld file_size hat den falschen Typ"},
		{"schema_version number", metaWith("schema_version", `1.0`), "Feld schema_version hat den falschen Typ"},
		{"auftrag_nr number", metaWith("auftrag_nr", `76329`), "Feld auftrag_nr hat den falschen Typ"},
		{"checksum object", metaWith("checksum", `{}`), "Feld checksum hat den falschen Typ"},
		{"exported_at array", metaWith("exported_at", `["2024"]`), "Feld exported_at hat den falschen Typ"},

		{"checksum empty", metaWith("checksum", `""`), "keine SHA-256-Prüfsumme"},
		{"checksum short", metaWith("checksum", `"`+sum[:63]+`"`), "keine SHA-256-Prüfsumme"},
		{"checksum long", metaWith("checksum", `"`+sum+`0"`), "keine SHA-256-Prüfsumme"},
		{"checksum not hex", metaWith("checksum", `"`+sum[:63]+`g"`), "keine SHA-256-Prüfsumme"},
		{"checksum with prefix", metaWith("checksum", `"sha256:`+sum+`"`), "keine SHA-256-Prüfsumme"},
		{"checksum with newline", metaWith("checksum", `"`+sum+`\n"`), "keine SHA-256-Prüfsumme"},

		{"negative file_size", metaWith("file_size", `-1`), "Feld file_size ist negativ (-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeMeta([]byte(tt.in))
			if err == nil {
				t.Fatalf("DecodeMeta(%q) = %+v, want error containing %q", tt.in, got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeMeta error = %q, want it to contain %q", err, tt.want)
			}
			if got != (Meta{}) {
				t.Errorf("DecodeMeta returned %+v with error", got)
			}
		})
	}
}

func TestDecodeMetaTruncatesHugeField(t *testing.T) {
	huge := strings.Repeat("x", 10000)
	_, err := DecodeMeta([]byte(metaWith("checksum", `"`+huge+`"`)))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a huge checksum should be short, got %d bytes: %.80v", len(err.Error()), err)
	}
	_, err = DecodeMeta([]byte(metaWith("record_id", `"`+huge+`"`)))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error for a huge record_id should be short, got %d bytes", len(err.Error()))
	}
}

func TestEncodeMeta(t *testing.T) {
	got := EncodeMeta(wantMeta)
	// Same bytes as Python's json.dump(meta, f, indent=2) plus a newline:
	// the original tool's key order.
	if want := pyIndent + "\n"; string(got) != want {
		t.Errorf("EncodeMeta =\n%s\nwant\n%s", got, want)
	}
}

func TestEncodeDecodeMetaRoundTrip(t *testing.T) {
	for _, m := range []Meta{
		wantMeta,
		{SchemaVersion: "2.0", Checksum: strings.Repeat("0", 64), ExportedAt: "", AuftragNr: "", RecordID: 0, FileSize: 0},
		{SchemaVersion: "10.3", Checksum: strings.Repeat("f", 64), ExportedAt: "2024-07-29T10:30:00.123456+02:00", AuftragNr: "Ä\"\\<&>\u2028😀", RecordID: 1<<63 - 1, FileSize: 1<<63 - 1},
		{SchemaVersion: "1.0", Checksum: sum, RecordID: -5, AuftragNr: "\x01\t\n"},
	} {
		got, err := DecodeMeta(EncodeMeta(m))
		if err != nil {
			t.Errorf("DecodeMeta(EncodeMeta(%+v)): %v", m, err)
			continue
		}
		if got != m {
			t.Errorf("round trip = %+v, want %+v", got, m)
		}
	}
}

func TestTruncateAndQuote(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 0, ""},
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"äöüß", 2, "äö…"},
		{"äöüß", 4, "äöüß"},
		{"abc", 0, "…"},
	}
	for _, tt := range tests {
		if got := truncate(tt.s, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
	if got, want := Quote(strings.Repeat("ä", 50)), `"`+strings.Repeat("ä", 40)+`…"`; got != want {
		t.Errorf("Quote(50×ä) = %s, want %s", got, want)
	}
	if got, want := Quote("a\"b\n"), `"a\"b\n"`; got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}

func FuzzDecodeMeta(f *testing.F) {
	for _, s := range []string{
		pyCompact, pyIndent, "\ufeff" + pyIndent, string(EncodeMeta(wantMeta)),
		"", "{}", "null", "[]", pyCompact + "}", pyCompact + " x",
		metaWith("record_id", `"12"`), metaWith("checksum", `"`+strings.ToUpper(sum)+`"`),
		metaWith("file_size", "-1"), metaWith("auftrag_nr", `"\ud800"`),
		`{"schema_version": "1.0", "schema_version": "2.0"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMeta(data)
		if err != nil {
			if m != (Meta{}) {
				t.Fatalf("DecodeMeta returned %+v with error %v", m, err)
			}
			return
		}
		if !hexSHA256.MatchString(m.Checksum) || m.Checksum != strings.ToLower(m.Checksum) {
			t.Fatalf("accepted checksum %q", m.Checksum)
		}
		if m.FileSize < 0 {
			t.Fatalf("accepted file_size %d", m.FileSize)
		}
		enc := EncodeMeta(m)
		m2, err := DecodeMeta(enc)
		if err != nil {
			t.Fatalf("DecodeMeta(EncodeMeta(%+v)): %v", m, err)
		}
		if m2 != m {
			t.Fatalf("round trip %+v != %+v", m2, m)
		}
		if !bytes.Equal(EncodeMeta(m2), enc) {
			t.Fatalf("EncodeMeta not stable")
		}
	})
}
