package store

import (
	"context"
	"fmt"
	"iter"
	"testing"

	v1 "werkstatt-backup/codec/v1"
)

// benchDef has the 14 columns of backup schema 1.0.
var benchDef = func() TableDef {
	def := TableDef{Name: "auftraege"}
	for _, c := range (v1.Codec{}).Columns() {
		def.Columns = append(def.Columns, ColumnDef{Name: c.Name, Type: c.Type, NotNull: c.NotNull, PrimaryKey: c.PrimaryKey})
	}
	return def
}()

// benchRows generates n rows on the fly, reusing one slice (as a CSV
// reader with ReuseRecord would).
func benchRows(n int) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		row := make([]string, 14)
		for i := range n {
			nr := fmt.Sprintf("%06d", (i*7919)%1000000)
			row[0] = fmt.Sprint(i + 1)
			row[1] = nr
			row[2] = "Müller, Hans"
			row[3] = fmt.Sprintf("K%05d", i%100000)
			row[4] = "B-AB 1234"
			row[5] = "WVWZZZ1JZ3W386752"
			row[6] = "2024-07-29"
			row[7] = "neu"
			row[8] = `{"Garantie": [2], "Ölwechsel": [1]}`
			row[9] = "archiv/2024/" + nr + "/" + nr + "_Auftrag.pdf"
			row[10] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
			row[11] = "1"
			row[12] = "2024-07-29T10:30:00"
			row[13] = "2024-07-30T08:15:00"
			if !yield(row, nil) {
				return
			}
		}
	}
}

func benchmarkReplace(b *testing.B, n int) {
	db, _ := newWriteDB(b)
	ctx := context.Background()
	if _, err := db.Replace(ctx, benchDef, benchRows(n)); err != nil {
		b.Fatal(err)
	}
	mustExec(b, db, "CREATE INDEX idx_auftrag_nr ON auftraege (auftrag_nr)")
	b.ReportAllocs()
	for b.Loop() {
		got, err := db.Replace(ctx, benchDef, benchRows(n))
		if err != nil || got != n {
			b.Fatalf("Replace = %d, %v", got, err)
		}
	}
}

// BenchmarkReplace10k replaces a table of 10,000 rows by 10,000 new rows.
func BenchmarkReplace10k(b *testing.B) { benchmarkReplace(b, 10000) }

// BenchmarkReplace100k replaces a table of 100,000 rows by 100,000 new rows.
func BenchmarkReplace100k(b *testing.B) { benchmarkReplace(b, 100000) }

// BenchmarkScan10k reads 10,000 rows.
func BenchmarkScan10k(b *testing.B) {
	db, _ := newWriteDB(b)
	ctx := context.Background()
	if _, err := db.Replace(ctx, benchDef, benchRows(10000)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.Scan(ctx, "auftraege", func(_, _ []string) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
