package history

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/codec"
)

// growth is what a simulated year of history costs.
type growth struct {
	historyBytes, historyFiles int64
	historyBlocks              int64 // in 4 KiB blocks, as a disk or share allocates
	packBytes, genBytes        int64
	fullSetBytes, fullSetFiles int64 // one full set of data.csv + meta.json
	fullSetBlocks              int64
}

func blocks(n int64) int64 { return (n + 4095) / 4096 }

// simulateGrowth commits days daily generations of a table of orders rows
// of which 1 % change each day (90 % of those updated, 5 % deleted, 5 %
// inserted), on an in-memory archive, and measures the history folder
// against one full set of backups of the final table.
func simulateGrowth(tb testing.TB, orders, days int) growth {
	clock := newClock("2026-01-01T02:00:00Z")
	fsys := archiveClockFs{Fs: memArchive(), clock: clock}
	s := Open(archiveOf(fsys))
	tab := newTable(42, orders)
	ctx := context.Background()
	for day := range days {
		recs, content, _ := tab.records()
		if _, err := s.Commit(ctx, recs, content); err != nil {
			tb.Fatalf("day %d: %v", day, err)
		}
		tab.churn(orders / 100)
		clock.Add(24 * time.Hour)
	}
	var g growth
	files, total := historyFiles(tb, fsys)
	g.historyBytes, g.historyFiles = total, int64(len(files))
	for name, size := range files {
		g.historyBlocks += blocks(size)
		if strings.HasSuffix(name, ".pack") {
			g.packBytes += size
		} else {
			g.genBytes += size
		}
	}
	for _, r := range tab.rows {
		data := r.csv()
		meta := codec.EncodeMeta(codec.Meta{SchemaVersion: "1.0", Checksum: Sum(data).String(),
			ExportedAt: "2026-12-31T02:00:00", AuftragNr: r.nr, RecordID: r.id, FileSize: int64(len(data))})
		g.fullSetBytes += int64(len(data) + len(meta))
		g.fullSetFiles += 2
		g.fullSetBlocks += blocks(int64(len(data))) + blocks(int64(len(meta)))
	}
	return g
}

func (g growth) String() string {
	return fmt.Sprintf("history %d bytes (packs %d, generations %d) in %d files (%.2f× a full set of %d bytes in %d files); "+
		"in 4 KiB blocks %.2f× (%d vs %d)",
		g.historyBytes, g.packBytes, g.genBytes, g.historyFiles, float64(g.historyBytes)/float64(g.fullSetBytes), g.fullSetBytes, g.fullSetFiles,
		float64(g.historyBlocks)/float64(g.fullSetBlocks), g.historyBlocks, g.fullSetBlocks)
}

// A year of daily generations with 1 % change a day stays under three
// times one full set of backups (the target), at a tenth of the
// size of the benchmark (BenchmarkHistoryGrowth runs 10,000 orders).
func TestGrowthOfAYear(t *testing.T) {
	if testing.Short() {
		t.Skip("a year of generations")
	}
	orders := 1000
	if raceEnabled {
		orders = 300
	}
	g := simulateGrowth(t, orders, 365)
	t.Log(g)
	if ratio := float64(g.historyBytes) / float64(g.fullSetBytes); ratio >= 3 {
		t.Fatalf("history grew %.2f× a full set: %v", ratio, g)
	}
	if g.historyFiles > 2*365 {
		t.Fatalf("%d files for 365 generations", g.historyFiles)
	}
}

// BenchmarkHistoryGrowth: 365 daily generations of 10,000 orders with 1 %
// change a day (go test -run - -bench HistoryGrowth -benchtime 1x ./history/).
func BenchmarkHistoryGrowth(b *testing.B) {
	for b.Loop() {
		g := simulateGrowth(b, 10000, 365)
		b.ReportMetric(float64(g.historyBytes)/float64(g.fullSetBytes), "x-fullset")
		b.ReportMetric(float64(g.historyBlocks)/float64(g.fullSetBlocks), "x-fullset-blocks")
		b.ReportMetric(float64(g.historyBytes), "history-bytes")
		b.ReportMetric(float64(g.historyFiles), "history-files")
		b.ReportMetric(float64(g.fullSetBytes), "fullset-bytes")
		b.Log(g)
	}
}
