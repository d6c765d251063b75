package history

import (
	"context"
	"errors"
	iofs "io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/storage"
	"werkstatt-backup/storage/objtest"
)

const testLock = 10 * 24 * time.Hour

// lockedHistory is a history on the object-store double with Object Lock
// (lock false: a bucket without it), its clock and its bucket.
func lockedHistory(t *testing.T, lock bool) (*Store, *fakeClock, *objtest.Store) {
	t.Helper()
	clock := newClock("2026-10-01T02:00:00Z")
	bucket := objtest.New(clock.Now)
	a := bucket.Archive(lock)
	s := Open(a, WithClock(clock.Now), WithMaxChain(4), WithObjectLock(testLock))
	return s, clock, bucket
}

// historyKeys lists the bucket's history files.
func historyKeys(t *testing.T, b *objtest.Store) []string {
	t.Helper()
	var out []string
	if err := b.List(Dir, func(e storage.Entry) error { out = append(out, e.Name); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Every file a new generation needs (its own, its packs, its delta chain)
// is retained at least until its archive time plus the lock period, and
// files needed again are extended in steps of half a period, not on every
// run.
func TestObjectLockRetainsWhatEachGenerationNeeds(t *testing.T) {
	ctx := context.Background()
	s, clock, bucket := lockedHistory(t, true)
	tb := newTable(3, 40)
	var firstPack string
	var untils []time.Time
	for range 12 {
		res := commit(t, s, tb)
		if firstPack == "" {
			firstPack = packOf(t, s.arch.Fs, 1)
		}
		if res.Unlocked != nil {
			t.Fatalf("generation %d not locked: %v", res.Info.Seq, res.Unlocked)
		}
		st, err := s.CheckLock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Short) > 0 {
			t.Fatalf("after generation %d: retained too short: %v", res.Info.Seq, st.Short)
		}
		if want := res.Info.ArchiveTime.Add(testLock); st.Head != res.Info.Seq || st.HeadUntil.Before(want) {
			t.Fatalf("newest generation %d immutable until %v, want ≥ %v", st.Head, st.HeadUntil, want)
		}
		vs := bucket.Versions(res.Info.File)
		if err := bucket.DeleteVersion(res.Info.File, vs[len(vs)-1].ID); !errors.Is(err, iofs.ErrPermission) {
			t.Fatalf("deleting the new generation's version: %v, want a refusal", err)
		}
		u, err := bucket.RetainedUntil(firstPack)
		if err != nil {
			t.Fatal(err)
		}
		if len(untils) == 0 || !u.Equal(untils[len(untils)-1]) {
			untils = append(untils, u)
		}
		tb.churn(2)
		clock.Add(24 * time.Hour)
	}
	// The first pack is needed by every generation (most contents never
	// change): retained when written and then extended by half a period
	// at a time, about every five days.
	if len(untils) < 2 || len(untils) > 4 {
		t.Fatalf("first pack's retention set %d times (%v), want 2 to 4 over 12 days", len(untils), untils)
	}
}

// Without Object Lock the history retains nothing and forget removes as
// before.
func TestNoObjectLockChangesNothing(t *testing.T) {
	s, clock, bucket := lockedHistory(t, false)
	tb := newTable(3, 20)
	for range 5 {
		commit(t, s, tb)
		tb.churn(2)
		clock.Add(24 * time.Hour)
	}
	if c := bucket.Counts(); c.Retains != 0 {
		t.Fatalf("%d retentions set on a bucket without Object Lock", c.Retains)
	}
	res, err := s.Forget(context.Background(), Retention{Last: 1}, false)
	if err != nil || len(res.Removed) != 4 || len(res.Retained) != 0 {
		t.Fatalf("forget: %v, removed %d, retained %v", err, len(res.Removed), res.Retained)
	}
	if st, err := s.CheckLock(context.Background()); st != nil || err != nil {
		t.Fatalf("CheckLock without Object Lock: %+v, %v", st, err)
	}
}

// forget keeps what is still retained, says which, and removes it once
// the lock has ended; every kept generation stays whole meanwhile.
//
// Once the lock has ended, forget's removals on a bucket that keeps
// versions leave either delete markers (the double's plain DELETE) or
// nothing (backends/s3 deletes every version): neither is an attack.
func TestForgetSkipsRetained(t *testing.T) {
	for _, s3like := range []bool{false, true} {
		t.Run(map[bool]string{false: "delete-marker", true: "s3"}[s3like], func(t *testing.T) {
			testForgetSkipsRetained(t, s3like)
		})
	}
}

func testForgetSkipsRetained(t *testing.T, s3like bool) {
	ctx := context.Background()
	s, clock, bucket := lockedHistory(t, true)
	if s3like {
		s3Removal(s.arch, bucket)
	}
	tb := newTable(5, 30)
	wants := map[uint64]map[int64][]byte{}
	for range 20 {
		res := commit(t, s, tb)
		wants[res.Info.Seq] = tb.want()
		tb.churn(3)
		clock.Add(24 * time.Hour)
	}
	p := Retention{Last: 2}
	retained := map[uint64]bool{}
	gens, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gens {
		u, err := bucket.RetainedUntil(g.File)
		if err != nil {
			t.Fatal(err)
		}
		retained[g.Seq] = u.After(clock.Now())
	}
	res, err := s.Forget(ctx, p, false)
	if err != nil {
		t.Fatalf("forget on a locked history failed: %v", err)
	}
	if len(res.Retained) == 0 || len(res.Removed) == 0 {
		t.Fatalf("forget removed %d and skipped %v; want some of each", len(res.Removed), res.Retained)
	}
	for _, d := range res.Decisions {
		locked := slices.ContainsFunc(d.Reasons, func(r string) bool { return strings.HasPrefix(r, "Object Lock bis") })
		if retained[d.Info.Seq] && !d.Keep {
			t.Fatalf("generation %d (still retained) removed", d.Info.Seq)
		}
		if locked != (retained[d.Info.Seq] && !slices.Contains(d.Reasons, "keep-last")) {
			t.Fatalf("generation %d: reasons %v, retained %v", d.Info.Seq, d.Reasons, retained[d.Info.Seq])
		}
		if clock.Now().Sub(d.Info.ArchiveTime) < testLock && !retained[d.Info.Seq] {
			t.Fatalf("generation %d of the last lock period is not retained", d.Info.Seq)
		}
	}
	assertKeptWhole(t, s, wants)

	if h := bucket.Hidden(Dir); len(h) > 0 {
		t.Fatalf("forget hid retained files behind a delete marker or a new version: %v", h)
	}

	clock.Add(2 * testLock)
	res, err = s.Forget(ctx, p, false)
	if err != nil || len(res.Retained) != 0 {
		t.Fatalf("forget after the lock ended: %v, still retained %v", err, res.Retained)
	}
	if gens, _ := s.List(ctx); len(gens) != 2 {
		t.Fatalf("%d generations left after the lock ended, want 2", len(gens))
	}
	assertKeptWhole(t, s, wants)
	if at := s.Attacked(); len(at) != 0 {
		t.Fatalf("read from older versions after forget: %v", at)
	}
}

// A client whose clock is ahead of the store's thinks every lock has
// ended. A real bucket would not refuse the DELETEs (it hides a retained
// version behind a delete marker), so forget judges by the store's clock
// too: it keeps what is retained, hides nothing, and the history stays
// whole.
func TestForgetClientClockAheadOfStore(t *testing.T) {
	ctx := context.Background()
	s, clock, bucket := lockedHistory(t, true)
	tb := newTable(9, 30)
	wants := map[uint64]map[int64][]byte{}
	for range 15 {
		res := commit(t, s, tb)
		wants[res.Info.Seq] = tb.want()
		tb.churn(3)
		clock.Add(24 * time.Hour)
	}
	client := newClock(clock.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339)) // thinks every lock has ended
	s.now = client.Now
	res, err := s.Forget(ctx, Retention{Last: 1}, false)
	if err != nil {
		t.Fatalf("forget with a refused removal failed: %v", err)
	}
	if len(res.Retained) == 0 {
		t.Fatalf("nothing retained, want the files the store still retains")
	}
	if h := bucket.Hidden(Dir); len(h) > 0 {
		t.Fatalf("forget hid retained files behind a delete marker or a new version: %v", h)
	}
	assertKeptWhole(t, s, wants)
}

// assertKeptWhole checks that every remaining generation loads with its
// content and that Check finds no damage.
func assertKeptWhole(t *testing.T, s *Store, wants map[uint64]map[int64][]byte) {
	t.Helper()
	gens, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gens {
		assertSnapshot(t, s, g.Seq, wants[g.Seq])
	}
	if dmg, err := s.Check(context.Background()); err != nil || len(dmg) != 0 {
		t.Fatalf("check: %v %v", err, dmg)
	}
}

// verify's check: files retained for less than their generations need
// are named, until their need has passed.
func TestCheckLockFindsShortRetention(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-10-01T02:00:00Z")
	bucket := objtest.New(clock.Now)
	plain := Open(bucket.Archive(false), WithClock(clock.Now))
	tb := newTable(3, 10)
	commit(t, plain, tb) // written before the bucket had Object Lock
	clock.Add(time.Hour)
	a := bucket.Archive(true)
	s := Open(a, WithClock(clock.Now), WithMaxChain(0), WithObjectLock(testLock))
	st, err := s.CheckLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	keys := historyKeys(t, bucket)
	if len(st.Short) != len(keys) || !st.HeadUntil.IsZero() {
		t.Fatalf("short %v (files %v), head until %v", st.Short, keys, st.HeadUntil)
	}
	tb.churn(1)
	commit(t, s, tb) // retains its own files and extends the first generation's pack
	st, err = s.CheckLock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Short) != 1 || !strings.HasPrefix(st.Short[0].Path, genDir) || !st.Short[0].Until.IsZero() {
		t.Fatalf("after a locked commit: short %v, want only generation 1's file", st.Short)
	}
	clock.Add(testLock)
	if st, err = s.CheckLock(ctx); err != nil || len(st.Short) != 0 {
		t.Fatalf("after generation 1's lock end passed: %v %v", st.Short, err)
	}
}

// A kept delta retained by the store's clock (free by the client's) is
// not rewritten, and its chain is kept, even where the chain's own files
// are not retained (a bucket's default retention on some objects only,
// say): nothing is hidden behind a delete marker or a new version.
func TestForgetKeepsTheChainOfARetainedDelta(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-10-01T02:00:00Z")
	bucket := objtest.New(clock.Now)
	plain := Open(bucket.Archive(false), WithClock(clock.Now), WithMaxChain(4))
	tb := newTable(4, 20)
	wants := map[uint64]map[int64][]byte{}
	var head GenerationInfo
	for range 4 {
		res := commit(t, plain, tb)
		wants[res.Info.Seq], head = tb.want(), res.Info
		tb.churn(2)
		clock.Add(24 * time.Hour)
	}
	if head.Full {
		t.Fatal("the newest generation should be a delta for this test")
	}
	if err := bucket.Retain(head.File, clock.Now().Add(testLock)); err != nil {
		t.Fatal(err)
	}
	a := bucket.Archive(true)
	late := newClock(clock.Now().Add(2 * testLock).Format(time.RFC3339)) // thinks the lock has ended
	s := Open(a, WithClock(late.Now), WithMaxChain(4), WithObjectLock(testLock))
	res, err := s.Forget(ctx, Retention{Last: 1}, false)
	if err != nil {
		t.Fatalf("forget: %v", err)
	}
	if len(res.Retained) != 3 || len(res.Rewritten) != 0 {
		t.Fatalf("retained %v, rewritten %v; want the 3 generations of %s's chain, nothing rewritten", res.Retained, res.Rewritten, head.File)
	}
	if h := bucket.Hidden(Dir); len(h) > 0 {
		t.Fatalf("forget hid retained files: %v", h)
	}
	assertKeptWhole(t, s, wants)
}
