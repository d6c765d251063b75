package pdf

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// BenchmarkCheck reads realistic PDFs (50–500 KB, incompressible) below a
// local folder with 2 workers and reports MB/s, to compare with sha256sum
// in 2 processes over the same files (ARCHIV_PDF_BENCH_DIR keeps them).
func BenchmarkCheck(b *testing.B) {
	dir := os.Getenv("ARCHIV_PDF_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	const n = 400
	r := mrand.New(mrand.NewPCG(1, 2))
	orders := make([]Order, n)
	var total int64
	for i := range orders {
		nr := fmt.Sprintf("%06d", i)
		p := filepath.Join("2024", nr, nr+"_Auftrag.pdf")
		data := make([]byte, 50<<10+r.IntN(450<<10))
		rand.Read(data)
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, p), data, 0o644); err != nil {
			b.Fatal(err)
		}
		sum := sha256.Sum256(data)
		orders[i] = Order{RecordID: int64(i + 1), AuftragNr: nr, FilePath: "test_archiv/" + filepath.ToSlash(p), Hash: hex.EncodeToString(sum[:])}
		total += int64(len(data))
	}
	ck := &Checker{Tree: &storage.Archive{Fs: afero.NewBasePathFs(afero.NewOsFs(), dir)}, Workers: 2}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		for _, res := range ck.Check(context.Background(), orders) {
			if res.Status != Good {
				b.Fatalf("%s: %v %v", res.Path, res.Status, res.Err)
			}
		}
	}
}

// BenchmarkIndexUpdate: export's work on an index of 100,000 orders in a
// local folder, unchanged and with one entry changed in the middle: as a
// stream (Update) and, for comparison, whole (LoadIndexFile, Same,
// SaveFile, as before issue 25).
func BenchmarkIndexUpdate(b *testing.B) {
	ctx := context.Background()
	a := &storage.Archive{Fs: afero.NewBasePathFs(afero.NewOsFs(), b.TempDir()), Caps: storage.Capabilities{AtomicRename: true}}
	es := streamEntries(100000)
	if err := (Index{Entries: es}).SaveFile(ctx, a, SeenFile, SeenTemp); err != nil {
		b.Fatal(err)
	}
	run := 0 // a changed entry differs from the one the last run wrote
	next := func(change bool, i int) Entry {
		e := es[i]
		if change && i == len(es)/2 {
			e.Size += int64(run)
		}
		return e
	}
	for _, change := range []bool{false, true} {
		name := map[bool]string{false: "unchanged", true: "one changed"}[change]
		b.Run(name+"/stream", func(b *testing.B) {
			for b.Loop() {
				run++
				u := NewUpdate(ctx, a, SeenFile, SeenTemp, true)
				for i := range es {
					prev, ok := u.Prev(es[i].RecordID)
					e := next(change, i)
					if ok {
						u.Put(&prev, &e)
					}
				}
				if written, err := u.Finish(); err != nil || written != change {
					b.Fatal(written, err)
				}
			}
		})
		b.Run(name+"/whole", func(b *testing.B) {
			for b.Loop() {
				run++
				idx, _, err := LoadIndexFile(ctx, a, SeenFile)
				if err != nil {
					b.Fatal(err)
				}
				nx := Index{Version: 1}
				for i := range es {
					nx.Entries = append(nx.Entries, next(change, i))
				}
				if !nx.Same(idx) {
					if err := nx.SaveFile(ctx, a, SeenFile, SeenTemp); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
