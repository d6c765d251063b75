package history

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

// history30 commits 30 daily generations (two on some days) with a fake
// archive clock and a client clock that is years off, and returns the
// table of each generation.
func history30(t *testing.T) (*Store, *fakeClock, map[uint64]map[int64][]byte) {
	t.Helper()
	archive := newClock("2026-10-01T02:00:00Z")
	client := newClock("2031-01-01T00:00:00Z")
	fsys := archiveClockFs{Fs: memArchive(), clock: archive}
	s := Open(archiveOf(fsys), WithClock(client.Now), WithMaxChain(4))
	tb := newTable(7, 60)
	wants := map[uint64]map[int64][]byte{}
	for day := range 30 {
		res := commit(t, s, tb)
		wants[res.Info.Seq] = tb.want()
		tb.churn(3)
		if day%7 == 3 { // a second run that day
			archive.Add(10 * time.Hour)
			res := commit(t, s, tb)
			wants[res.Info.Seq] = tb.want()
			tb.churn(3)
			archive.Add(-10 * time.Hour)
		}
		archive.Add(24 * time.Hour)
		client.Add(-time.Hour) // the client's clock goes its own way
	}
	return s, archive, wants
}

func TestForgetKeepsWhatThePolicyKeepsAndPrunes(t *testing.T) {
	ctx := context.Background()
	s, _, wants := history30(t)
	p := Retention{Last: 2, Daily: 5, Weekly: 3, Location: time.UTC}
	gens, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := p.Apply(gens)
	wantKept := kept(plan)

	dry, err := s.Forget(ctx, p, true)
	if err != nil {
		t.Fatal(err)
	}
	if after, _ := s.List(ctx); len(after) != len(gens) || len(dry.Removed) != len(gens)-len(wantKept) {
		t.Fatalf("dry run changed something or planned wrong: %d → %d, %d to remove", len(gens), len(after), len(dry.Removed))
	}

	res, err := s.Forget(ctx, p, false)
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, g := range slices.Backward(after) {
		got = append(got, g.Seq)
	}
	if !slices.Equal(got, wantKept) {
		t.Fatalf("kept %v, policy keeps %v", got, wantKept)
	}
	for _, seq := range wantKept {
		assertSnapshot(t, s, seq, wants[seq])
	}
	// Counts now compare with the kept generation before.
	for i := 1; i < len(after); i++ {
		if after[i].PrevSeq != after[i-1].Seq {
			t.Fatalf("generation %d compares with %d, not %d", after[i].Seq, after[i].PrevSeq, after[i-1].Seq)
		}
	}
	if len(res.PacksRemoved) == 0 || len(res.Rewritten) == 0 {
		t.Fatalf("nothing pruned or rewritten: %+v", res)
	}
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check after forget: %v %v", d, err)
	}
	// A content only a forgotten generation had is gone from the archive.
	keptData := map[string]bool{}
	for _, seq := range wantKept {
		for _, d := range wants[seq] {
			keptData[string(d)] = true
		}
	}
	gone := map[string]bool{}
	for seq, w := range wants {
		if slices.Contains(wantKept, seq) {
			continue
		}
		for id, data := range w {
			if !keptData[string(data)] && !gone[string(data)] {
				if _, err := s.Content(ctx, Sum(data)); err == nil {
					t.Fatalf("content of record %d from forgotten generation %d still there", id, seq)
				}
				gone[string(data)] = true
			}
		}
	}
	if len(gone) == 0 {
		t.Fatal("test has no content that only forgotten generations had")
	}
	// Forget again: nothing more to do.
	res, err = s.Forget(ctx, p, false)
	if err != nil || len(res.Removed) != 0 || len(res.Rewritten) != 0 || len(res.PacksRemoved) != 0 || len(res.PacksRepacked) != 0 {
		t.Fatalf("second forget: %+v %v", res, err)
	}
}

// The client's clock says 2031 and goes backwards; retention and At go by
// the archive's time and the order, so the right generations stay.
func TestWrongClientClockChangesNothing(t *testing.T) {
	ctx := context.Background()
	s, archive, _ := history30(t)
	gens, _ := s.List(ctx)
	for _, g := range gens {
		if g.ClientTime.Year() != 2030 && g.ClientTime.Year() != 2031 || g.ArchiveTime.Year() != 2026 {
			t.Fatalf("times not as set up: %+v", g)
		}
	}
	snap, err := s.At(ctx, time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if !snap.Info.ArchiveTime.Before(time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)) || snap.Info.ArchiveTime.Day() != 4 {
		t.Fatalf("At 5 Oct gave %v", snap.Info.ArchiveTime)
	}
	_ = archive
	res, err := s.Forget(ctx, Retention{Daily: 7, Location: time.UTC}, false)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.List(ctx)
	if len(after) != 7 || after[0].ArchiveTime.Day() != 24 || after[6].ArchiveTime.Day() != 30 {
		t.Fatalf("kept %d generations from %v to %v (removed %d)", len(after), after[0].ArchiveTime, after[len(after)-1].ArchiveTime, len(res.Removed))
	}
}

func TestForgetRefusesAnEmptyPolicy(t *testing.T) {
	ctx := context.Background()
	s, _, _ := history30(t)
	if _, err := s.Forget(ctx, Retention{}, false); !errors.Is(err, ErrEmptyPolicy) {
		t.Fatalf("empty policy: %v", err)
	}
	if gens, _ := s.List(ctx); len(gens) != 34 {
		t.Fatalf("%d generations left", len(gens))
	}
	res, err := s.Forget(ctx, Retention{AllowEmpty: true}, false)
	if err != nil || len(res.Removed) != 34 {
		t.Fatalf("explicit: %+v %v", res, err)
	}
	if files, _ := historyFiles(t, s.arch.Fs); len(files) != 0 {
		t.Fatalf("left: %v", files)
	}
}
