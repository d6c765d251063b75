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

// BenchmarkDecodeGen10k: decoding a full generation of 10,000 entries
// with PDFs (format 3), the largest part of loading the newest
// generation before an unchanged export.
func BenchmarkDecodeGen10k(b *testing.B) {
	recs, _, _ := newTable(45, 10000).records()
	g := &genFile{V2: true, V3: true, Seq: 1, ID: newFileID(), Records: len(recs), PDFs: true}
	g.Origin = g.ID
	for _, r := range recs {
		r.PDF = Sum([]byte(r.Folder))
		g.Upserts = append(g.Upserts, Entry{Record: r, Pack: 1})
	}
	g.Digest = entryDigest(g.Upserts)
	file := encodeGen(g)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeGen(file); err != nil {
			b.Fatal(err)
		}
	}
}
