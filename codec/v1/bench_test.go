package v1

import "testing"

// benchRow is a typical order: a quoted name, JSON with quotes.
var benchRow = []string{"12", "076329", "Müller, Hans", "K12345", "B-AB 1234", "WVWZZZ1JZ3W386752",
	"2024-07-29", "neu", `{"Garantie": [2], "Ölwechsel": [1]}`, "archiv/2024/076329/076329_Auftrag.pdf",
	"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "1", "2024-07-29T10:30:00", "2024-07-30T08:15:00"}

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Codec{}.Encode(benchRow)
	}
}

func BenchmarkDecode(b *testing.B) {
	data := Codec{}.Encode(benchRow)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (Codec{}).Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if errs := (Codec{}).Validate(benchRow); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
