package history

import (
	"context"
	"errors"
	"testing"
	"time"
)

// The time history shows for a generation (milliseconds, local time)
// selects that generation, also for two generations in one second.
func TestShownTimeSelectsThatGeneration(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-11-02T02:00:00Z")
	s := Open(archiveOf(archiveClockFs{Fs: memArchive(), clock: clock}), WithClock(clock.Now))
	tb := newTable(12, 5)
	var gens []GenerationInfo
	for range 4 {
		gens = append(gens, commit(t, s, tb).Info)
		tb.churn(2)
		clock.Add(300 * time.Millisecond)
	}
	for _, g := range gens {
		at, seq, err := ParseAt(g.ArchiveTime.Local().Format(TimeLayout), nil)
		if err != nil || seq != 0 {
			t.Fatalf("shown time of generation %d: %v", g.Seq, err)
		}
		snap, err := s.At(ctx, at)
		if err != nil || snap.Info.Seq != g.Seq {
			t.Fatalf("--at %s: %v %v, want generation %d", g.ArchiveTime.Local().Format(TimeLayout), snap, err, g.Seq)
		}
	}
	if _, seq, err := ParseAt("#3", nil); err != nil || seq != 3 {
		t.Fatalf("#3: %d %v", seq, err)
	}
	if _, _, err := ParseAt("#0", nil); err == nil {
		t.Fatal("#0 accepted")
	}
}

// When the archive's clock went back, --at a time the jump covers does
// not guess: it names the candidates.
func TestAtRefusesWhenTimesGoBackwards(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-11-02T02:00:00Z")
	s := Open(archiveOf(archiveClockFs{Fs: memArchive(), clock: clock}), WithClock(clock.Now))
	tb := newTable(13, 5)
	commit(t, s, tb) // 1: 02:00
	clock.Add(24 * time.Hour)
	commit(t, s, tb) // 2: +1 day
	clock.Add(-12 * time.Hour)
	commit(t, s, tb) // 3: back 12 h
	clock.Add(24 * time.Hour)
	commit(t, s, tb) // 4
	_, err := s.At(ctx, time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC))
	var amb *AmbiguousTimeError
	if !errors.As(err, &amb) || len(amb.Candidates) != 3 || amb.Candidates[0].Seq != 1 || amb.Candidates[2].Seq != 3 {
		t.Fatalf("At over a clock jump: %v", err)
	}
	if snap, err := s.At(ctx, time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)); err != nil || snap.Info.Seq != 4 {
		t.Fatalf("At after the jump: %v %v", snap, err)
	}
	if snap, err := s.At(ctx, time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC)); err != nil || snap.Info.Seq != 1 {
		t.Fatalf("At before the jump: %v %v", snap, err)
	}
}

// history --auftrag 55433 finds the order the table stores as 055433.
func TestVersionsFindZeroPaddedOrderNumber(t *testing.T) {
	ctx := context.Background()
	s := Open(archiveOf(memArchive()))
	tb := newTable(16, 3) // order numbers 070001 …
	commit(t, s, tb)
	vs, err := s.Versions(ctx, Selector{AuftragNr: "70002"})
	if err != nil || len(vs) != 1 || vs[0].Entry.AuftragNr != "070002" {
		t.Fatalf("70002: %v %v", vs, err)
	}
	if vs, _ := s.Versions(ctx, Selector{AuftragNr: "7002"}); len(vs) != 0 {
		t.Fatalf("7002 matched %v", vs)
	}
	if !SameOrderNumber("055433", "55433") || SameOrderNumber("A55433", "55433") || SameOrderNumber("0", "") {
		t.Fatal("SameOrderNumber")
	}
}

// A store that keeps whole seconds gives two generations in one second
// the same time: they still get distinct times in order, and each time
// selects its generation.
func TestGenerationsInOneSecondAreDistinct(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-11-02T02:00:00Z") // never moves
	s := Open(archiveOf(archiveClockFs{Fs: memArchive(), clock: clock}), WithClock(clock.Now))
	tb := newTable(17, 4)
	var gens []GenerationInfo
	for range 3 {
		gens = append(gens, commit(t, s, tb).Info)
		tb.churn(1)
	}
	for i, g := range gens {
		if i > 0 && !g.ArchiveTime.After(gens[i-1].ArchiveTime) {
			t.Fatalf("generation %d at %v, not after %v", g.Seq, g.ArchiveTime, gens[i-1].ArchiveTime)
		}
		at, _, _ := ParseAt(g.ArchiveTime.Local().Format(TimeLayout), nil)
		if snap, err := s.At(ctx, at); err != nil || snap.Info.Seq != g.Seq {
			t.Fatalf("generation %d: %v %v", g.Seq, snap, err)
		}
	}
}
