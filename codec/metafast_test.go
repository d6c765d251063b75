package codec

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// hexSHA256 is the checksum rule as a regexp, an oracle for isHexSHA256.
var hexSHA256 = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)

// slowEncode is EncodeMeta as it was before the fast path.
func slowEncode(m Meta) []byte {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

var fastMetas = []Meta{
	wantMeta,
	{},
	{SchemaVersion: "2.0", Checksum: strings.ToUpper(sum), ExportedAt: "x", AuftragNr: "000000", RecordID: -5, FileSize: 1 << 40},
	{SchemaVersion: "1.0", Checksum: sum, AuftragNr: "a<b>&c", RecordID: 1},
	{SchemaVersion: "1.0", Checksum: sum, AuftragNr: `q"uote\back`, RecordID: 1},
	{SchemaVersion: "1.0", Checksum: sum, AuftragNr: "Müller\t\u2028", RecordID: 1},
	{SchemaVersion: "1.0", Checksum: sum, AuftragNr: "bad \xff utf8", RecordID: 1},
	{SchemaVersion: "1.0", Checksum: sum, RecordID: 1<<63 - 1, FileSize: -1 << 63},
}

// EncodeMeta writes what json.MarshalIndent writes, fast path or not.
func TestEncodeMetaMatchesEncodingJSON(t *testing.T) {
	for _, m := range fastMetas {
		if got, want := EncodeMeta(m), slowEncode(m); !bytes.Equal(got, want) {
			t.Errorf("EncodeMeta(%+v) =\n%s\nwant\n%s", m, got, want)
		}
	}
}

// The fast decoder gives what the general one gives on every input it
// takes, and takes what export writes.
func TestDecodeMetaFastMatchesGeneral(t *testing.T) {
	inputs := []string{pyIndent, pyIndent + "\n", pyIndent + "\n\n", pyIndent + " ", pyCompact,
		strings.Replace(pyIndent, "12", "012", 1), strings.Replace(pyIndent, "12", "-0", 1),
		strings.Replace(pyIndent, "12", "12.0", 1), strings.Replace(pyIndent, "12", "1e3", 1),
		strings.Replace(pyIndent, "12", "99999999999999999999", 1), strings.Replace(pyIndent, "1024", "-1", 1),
		strings.Replace(pyIndent, `"076329"`, `"07\u00e4"`, 1), strings.Replace(pyIndent, `"076329"`, `"0\\"`, 1),
		strings.Replace(pyIndent, `"076329"`, `null`, 1), strings.Replace(pyIndent, `"1.0"`, `"a<&>b"`, 1),
		strings.Replace(pyIndent, "\n}", ",\n  \"x\": 1\n}", 1),
	}
	for _, m := range fastMetas {
		inputs = append(inputs, string(EncodeMeta(m)))
	}
	for _, in := range inputs {
		fast, ok := decodeMetaFast([]byte(in))
		if !ok {
			continue
		}
		slow, err := decodeMetaJSON([]byte(in))
		if err != nil {
			t.Errorf("fast path took %q, which encoding/json refuses: %v", in, err)
			continue
		}
		if fast != slow {
			t.Errorf("%q: fast %+v, general %+v", in, fast, slow)
		}
	}
	for _, m := range fastMetas[:3] {
		if _, ok := decodeMetaFast(EncodeMeta(m)); !ok {
			t.Errorf("fast path does not take what EncodeMeta writes for %+v", m)
		}
	}
}

func FuzzDecodeMetaFast(f *testing.F) {
	f.Add([]byte(pyIndent))
	f.Add(EncodeMeta(wantMeta))
	f.Add([]byte(strings.Replace(pyIndent, "12", "-12", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, ok := decodeMetaFast(data)
		if !ok {
			return
		}
		slow, err := decodeMetaJSON(data)
		if err != nil {
			t.Fatalf("fast path took %q, which encoding/json refuses: %v", data, err)
		}
		if fast != slow {
			t.Fatalf("%q: fast %+v, general %+v", data, fast, slow)
		}
		if isHexSHA256(fast.Checksum) != hexSHA256.MatchString(fast.Checksum) {
			t.Fatalf("isHexSHA256(%q) disagrees with the regexp", fast.Checksum)
		}
	})
}

func FuzzEncodeMetaFast(f *testing.F) {
	f.Add("1.0", sum, "2024-07-29T10:30:00", "076329", int64(12), int64(1024))
	f.Add("<&>", "\"", "\\", "\xff", int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, v, c, e, a string, id, size int64) {
		m := Meta{SchemaVersion: v, Checksum: c, ExportedAt: e, AuftragNr: a, RecordID: id, FileSize: size}
		if got, want := EncodeMeta(m), slowEncode(m); !bytes.Equal(got, want) {
			t.Fatalf("EncodeMeta(%+v) =\n%s\nwant\n%s", m, got, want)
		}
	})
}

func BenchmarkDecodeMeta(b *testing.B) {
	data := EncodeMeta(wantMeta)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMeta(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeMetaGeneral is the encoding/json way, for comparison.
func BenchmarkDecodeMetaGeneral(b *testing.B) {
	data := []byte(pyCompact)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeMeta(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeMeta(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		EncodeMeta(wantMeta)
	}
}
