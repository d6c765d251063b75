package history

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCommitUnchanged: the history's share of an unchanged export of
// 10,000 orders, with a chain of 60 daily deltas behind the newest
// generation (the worst case is DefaultMaxChain).
func BenchmarkCommitUnchanged(b *testing.B) {
	clock := newClock("2026-01-01T02:00:00Z")
	fsys := archiveClockFs{Fs: memArchive(), clock: clock}
	s := Open(archiveOf(fsys))
	tab := newTable(43, 10000)
	ctx := context.Background()
	for range 60 {
		recs, content, _ := tab.records()
		if _, err := s.Commit(ctx, recs, content); err != nil {
			b.Fatal(err)
		}
		tab.churn(30)
		clock.Add(24 * time.Hour)
	}
	recs, content, _ := tab.records()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Commit(ctx, recs, content); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoad10k: loading the newest generation of that history, as
// restore --at and Commit do.
func BenchmarkLoad10k(b *testing.B) {
	s := Open(archiveOf(memArchive()))
	tab := newTable(44, 10000)
	ctx := context.Background()
	var last uint64
	for range 60 {
		last = commit(b, s, tab).Info.Seq
		tab.churn(30)
	}
	for b.Loop() {
		if _, err := s.Load(ctx, last); err != nil {
			b.Fatal(err)
		}
	}
}
