package csvfmt

import (
	"strings"
	"testing"
)

// benchFile is a data.csv as export writes it: header and one order with
// a quoted name and a JSON field full of quotes.
var benchFile = []byte("record_id,auftrag_nr,kunde_name,kunden_nr,kennzeichen,vin,datum,formular_version,keywords_json,file_path,hash,data_complete,created_at,updated_at\r\n" +
	`12,076329,"Müller, Hans",K12345,B-AB 1234,WVWZZZ1JZ3W386752,2024-07-29,neu,"{""Garantie"": [2], ""Ölwechsel"": [1]}",archiv/2024/076329/076329_Auftrag.pdf,` +
	strings.Repeat("9f", 32) + ",1,2024-07-29T10:30:00,2024-07-30T08:15:00\r\n")

func BenchmarkParse(b *testing.B) {
	b.SetBytes(int64(len(benchFile)))
	b.ReportAllocs()
	for b.Loop() {
		rows, err := Parse(benchFile)
		if err != nil || len(rows) != 2 {
			b.Fatal(rows, err)
		}
	}
}

func BenchmarkAppendRow(b *testing.B) {
	rows, err := Parse(benchFile)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRow(buf[:0], rows[1])
	}
}
