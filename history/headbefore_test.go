package history

import (
	"context"
	"testing"
	"time"
)

// HeadAndBefore gives the newest generation and the one At gives for
// the window before it, or the oldest in a younger history, and nil
// when that is the newest itself; the chain they share is loaded once
// and both prove themselves.
func TestHeadAndBefore(t *testing.T) {
	clock := newClock("2026-01-01T02:00:00Z")
	s := Open(archiveOf(archiveClockFs{Fs: memArchive(), clock: clock}), WithClock(clock.Now))
	tab := newTable(46, 200)
	ctx := context.Background()

	head, before, err := s.HeadAndBefore(ctx, 7*24*time.Hour)
	if head != nil || before != nil || err != nil {
		t.Fatalf("empty history: %v %v %v", head, before, err)
	}
	commit(t, s, tab)
	if head, before, err = s.HeadAndBefore(ctx, 7*24*time.Hour); err != nil || head == nil || before != nil {
		t.Fatalf("one generation: newest %t, before %t, %v", head != nil, before != nil, err)
	}
	want := map[uint64]map[int64][]byte{1: tab.want()}
	for seq := uint64(2); seq <= 10; seq++ {
		clock.Add(24 * time.Hour)
		tab.churn(20)
		commit(t, s, tab)
		want[seq] = tab.want()
	}
	for _, c := range []struct {
		window time.Duration
		want   uint64 // 0: nil
	}{
		{7 * 24 * time.Hour, 3},
		{24 * time.Hour, 9},
		{7*24*time.Hour + time.Minute, 2},
		{30 * 24 * time.Hour, 1}, // younger than the window: the oldest
		{0, 0},                   // the newest itself
	} {
		head, before, err := s.HeadAndBefore(ctx, c.window)
		if err != nil || head == nil || head.Info.Seq != 10 {
			t.Fatalf("window %s: newest %t, %v", c.window, head != nil, err)
		}
		checkEntries(t, head, want[10])
		switch {
		case c.want == 0 && before != nil:
			t.Errorf("window %s: generation %d, want none", c.window, before.Info.Seq)
		case c.want == 0:
		case before == nil:
			t.Errorf("window %s: none, want generation %d", c.window, c.want)
		case before.Info.Seq != c.want:
			t.Errorf("window %s: generation %d, want %d", c.window, before.Info.Seq, c.want)
		default:
			checkEntries(t, before, want[c.want])
			if got, err := s.Load(ctx, c.want); err != nil || got.ident != before.ident {
				t.Errorf("window %s: identity differs from Load's (%v)", c.window, err)
			}
		}
	}
}

func checkEntries(t *testing.T, snap *Snapshot, want map[int64][]byte) {
	t.Helper()
	if len(snap.Entries) != len(want) {
		t.Fatalf("generation %d: %d entries, want %d", snap.Info.Seq, len(snap.Entries), len(want))
	}
	for _, e := range snap.Entries {
		if data, ok := want[e.RecordID]; !ok || Sum(data) != e.Hash {
			t.Fatalf("generation %d: record_id %d is not the table's", snap.Info.Seq, e.RecordID)
		}
	}
}
