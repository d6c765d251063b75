package v1

import (
	"testing"

	"werkstatt-backup/sample"
)

// benchRow is a typical order of the sample data.
var benchRow = sample.Rows(1, 1)[0]

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
