package history

import (
	"context"
	"errors"
	iofs "io/fs"
	"slices"
	"testing"
	"time"

	"werkstatt-backup/storage"
	"werkstatt-backup/storage/objtest"
)

// s3Removal makes the archive remove a name as backends/s3 does on a
// versioned bucket: every version of it, so that nothing of it is left;
// only where Object Lock refuses a version does a delete marker hide the
// name. (The double's own removal is a plain DELETE: a delete marker, the
// versions stay, as an attacker's DELETE leaves them.)
func s3Removal(a *storage.Archive, b *objtest.Store) {
	plain := a.Caps.RemoveCond
	a.Caps.RemoveCond = func(ctx context.Context, name string, c storage.Cond) error {
		if !c.None() {
			return plain(ctx, name, c)
		}
		refused := false
		for _, v := range b.Versions(name) { // oldest first, the current one last
			err := b.DeleteVersion(name, v.ID)
			switch {
			case errors.Is(err, iofs.ErrPermission):
				refused = true
			case err != nil && !errors.Is(err, iofs.ErrNotExist):
				return err
			}
		}
		if refused {
			return plain(ctx, name, c)
		}
		return nil
	}
}

// forgottenOnAVersionedStore writes a history on a versioned bucket and
// forgets with gaps, so that forget rewrites kept generations (new files)
// and repacks packs (new files) and removes the rest on purpose. s3like:
// the removals leave nothing (backends/s3); else a delete marker each
// (the double's plain DELETE), the removed versions still readable.
func forgottenOnAVersionedStore(t *testing.T, s3like bool) (*storage.Archive, *objtest.Store, *fakeClock, map[uint64]map[int64][]byte, ForgetResult) {
	t.Helper()
	clock := newClock("2026-10-01T02:00:00Z")
	bucket := objtest.New(clock.Now)
	a := bucket.Archive(false)
	if !a.Versioned() {
		t.Fatal("the double keeps no versions")
	}
	if s3like {
		s3Removal(a, bucket)
	}
	s := Open(a, WithClock(clock.Now), WithMaxChain(3))
	tb := newTable(31, 30)
	wants := map[uint64]map[int64][]byte{}
	for range 16 {
		res := commit(t, s, tb)
		wants[res.Info.Seq] = tb.want()
		tb.churn(3)
		clock.Add(24 * time.Hour)
	}
	res, err := s.Forget(context.Background(), Retention{Last: 2, Weekly: 3}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) == 0 || len(res.Rewritten) == 0 || len(res.PacksRepacked) == 0 {
		t.Fatalf("forget removed %d, rewrote %v, repacked %v: want some of each", len(res.Removed), res.Rewritten, res.PacksRepacked)
	}
	return a, bucket, clock, wants, res
}

// keptSeqs are the generations forget kept, oldest first.
func keptSeqs(res ForgetResult) []uint64 {
	var out []uint64
	for _, d := range res.Decisions {
		if d.Keep {
			out = append(out, d.Info.Seq)
		}
	}
	slices.Sort(out)
	return out
}

// What forget removes on purpose on a store that keeps versions (the
// generations it forgets, the files of the generations it rewrites, the
// pack files it repacks or no longer needs) is no attack: Check finds
// nothing and reads no older version, and every kept generation loads
// from the current files.
func TestForgetThenCheckOnAVersionedStore(t *testing.T) {
	for _, s3like := range []bool{false, true} {
		t.Run(map[bool]string{false: "delete-marker", true: "s3"}[s3like], func(t *testing.T) {
			ctx := context.Background()
			a, _, clock, wants, res := forgottenOnAVersionedStore(t, s3like)
			s := Open(a, WithClock(clock.Now))
			gens, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, g := range gens {
				seqs = append(seqs, g.Seq)
				assertSnapshot(t, s, g.Seq, wants[g.Seq])
			}
			if want := keptSeqs(res); !slices.Equal(seqs, want) {
				t.Fatalf("generations after forget %v, want the kept ones %v", seqs, want)
			}
			if d, err := s.Check(ctx); err != nil || len(d) != 0 {
				t.Fatalf("check after forget: %v %v", err, d)
			}
			if at := s.Attacked(); len(at) != 0 {
				t.Fatalf("read from older versions after forget: %v", at)
			}
		})
	}
}

// The deletion attack after a forget: every current history object and
// the head marker deleted (delete markers). The chain walk from the head
// marker's version finds exactly the kept generations, through the files
// forget rewrote, and stops where forget cut the history: no generation
// it forgot comes back, no file it removed is named as attacked, and the
// repair brings back the history as forget left it.
func TestDeletionAttackAfterForget(t *testing.T) {
	for _, s3like := range []bool{false, true} {
		t.Run(map[bool]string{false: "delete-marker", true: "s3"}[s3like], func(t *testing.T) {
			ctx := context.Background()
			a, bucket, clock, wants, res := forgottenOnAVersionedStore(t, s3like)
			keys := append(historyKeys(t, bucket), HeadFile)
			for _, k := range keys {
				if err := a.Fs.Remove(k); err != nil { // a plain DELETE: a delete marker
					t.Fatalf("delete %s: %v", k, err)
				}
			}
			s := Open(a, WithClock(clock.Now))
			gens, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, g := range gens {
				seqs = append(seqs, g.Seq)
			}
			if want := keptSeqs(res); !slices.Equal(seqs, want) {
				t.Fatalf("generations found after the deletion %v, want the kept ones %v", seqs, want)
			}
			for _, seq := range seqs {
				assertSnapshot(t, s, seq, wants[seq])
			}
			d, err := s.Check(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range d {
				if !x.Attacked || len(x.Gens) > 0 || !slices.Contains(keys, x.Path) {
					t.Fatalf("damage after the deletion: %v (deleted: %v)", x, keys)
				}
			}
			if len(d) != len(keys) {
				t.Fatalf("%d of %d deleted files named: %v", len(d), len(keys), d)
			}
			if _, err := Open(a).RestoreVersions(ctx); err != nil {
				t.Fatal(err)
			}
			s = Open(a)
			if d, err := s.Check(ctx); err != nil || len(d) != 0 {
				t.Fatalf("check after the repair: %v %v", d, err)
			}
			if got := historyKeys(t, bucket); !slices.Equal(got, keys[:len(keys)-1]) {
				t.Fatalf("files after the repair %v, want %v", got, keys[:len(keys)-1])
			}
		})
	}
}
