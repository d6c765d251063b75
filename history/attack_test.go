package history

import (
	"context"
	"errors"
	iofs "io/fs"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
	"werkstatt-backup/storage/objtest"
)

// versioned is the bucket as an archive that reads versions (what the
// handle's Versions, ReadVersion and RestoreVersion do on S3).
func versioned(b *objtest.Store, lock bool) *storage.Archive {
	a := b.Archive(lock)
	find := func(name, id string) (objtest.Version, bool) {
		for _, v := range b.Versions(name) {
			if v.ID == id {
				return v, true
			}
		}
		return objtest.Version{}, false
	}
	a.Caps.Versions = func(_ context.Context, name string) ([]storage.Version, error) {
		vs := b.Versions(name)
		out := make([]storage.Version, 0, len(vs))
		for _, v := range slices.Backward(vs) {
			out = append(out, storage.Version{ID: v.ID, Size: int64(len(v.Data)), ModTime: v.ModTime, Current: v.Current,
				DeleteMarker: v.DeleteMarker, RetainUntil: v.RetainUntil})
		}
		return out, nil
	}
	a.Caps.ReadVersion = func(_ context.Context, name, id string, _ int64) ([]byte, error) {
		if v, ok := find(name, id); ok && !v.DeleteMarker {
			return v.Data, nil
		}
		return nil, iofs.ErrNotExist
	}
	a.Caps.RestoreVersion = func(_ context.Context, name, id string) error {
		v, ok := find(name, id)
		if !ok || v.DeleteMarker {
			return iofs.ErrNotExist
		}
		return afero.WriteFile(a.Fs, name, v.Data, 0o644)
	}
	return a
}

// The overwrite attack on an Object-Lock bucket: garbage PUT over every
// history object with the backup's own credentials (allowed: it only adds
// a version). Every generation still restores from the retained versions,
// Check names every attacked file, the nightly export goes on, and
// RestoreVersions makes the proven versions current again.
func TestOverwriteAttackReadsRetainedVersions(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-10-01T02:00:00Z")
	bucket := objtest.New(clock.Now)
	a := versioned(bucket, true)
	s := Open(a, WithClock(clock.Now), WithMaxChain(2), WithObjectLock(testLock))
	tb := newTable(15, 20)
	wants := dailyGenerations(t, s, tb, clock, 4)
	keys := append(historyKeys(t, bucket), HeadFile)
	for _, k := range keys {
		if err := afero.WriteFile(a.Fs, k, []byte("kaputt"), 0o644); err != nil {
			t.Fatalf("overwrite %s: %v", k, err)
		}
	}
	s = Open(a, WithClock(clock.Now), WithMaxChain(2), WithObjectLock(testLock))
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
	}
	d, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	attacked := 0
	for _, x := range d {
		if !x.Attacked || len(x.Gens) > 0 {
			t.Fatalf("damage after the attack: %v", x)
		}
		attacked++
	}
	if attacked != len(keys) {
		t.Fatalf("%d of %d attacked files named: %v", attacked, len(keys), d)
	}
	res := commit(t, s, tb) // the nightly export
	assertSnapshot(t, s, res.Info.Seq, tb.want())
	// The export wrote the head marker anew: everything else is restored.
	done, err := Open(a).RestoreVersions(ctx)
	if err != nil || len(done) != len(keys)-1 {
		t.Fatalf("RestoreVersions: %d %v", len(done), err)
	}
	s = Open(a)
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check after the repair: %v %v", d, err)
	}
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
	}
	if !errors.Is(func() error { _, err := Open(archiveOf(memArchive())).RestoreVersions(ctx); return err }(), storage.ErrUnsupported) {
		t.Fatal("RestoreVersions without versions")
	}
}

// The deletion attack on an Object-Lock bucket: every current history
// object and the head marker deleted with the backup's own credentials
// (delete markers; the retained versions stay). Every generation is
// found again along the chain from the head marker's version and
// restores, Check names every deleted file, the nightly export continues
// the numbering, and RestoreVersions brings every file back.
func TestDeletionAttackFindsGenerationsThroughVersions(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-10-01T02:00:00Z")
	bucket := objtest.New(clock.Now)
	a := versioned(bucket, true)
	s := Open(a, WithClock(clock.Now), WithMaxChain(2), WithObjectLock(testLock))
	tb := newTable(18, 20)
	wants := dailyGenerations(t, s, tb, clock, 4)
	keys := append(historyKeys(t, bucket), HeadFile)
	for _, k := range keys {
		if err := a.Fs.Remove(k); err != nil {
			t.Fatalf("delete %s: %v", k, err)
		}
	}
	s = Open(a, WithClock(clock.Now), WithMaxChain(2), WithObjectLock(testLock))
	if gens, err := s.List(ctx); err != nil || len(gens) != 4 {
		t.Fatalf("List after the deletion: %d %v", len(gens), err)
	}
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
	}
	d, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range d {
		if !x.Attacked || len(x.Gens) > 0 {
			t.Fatalf("damage after the deletion: %v", x)
		}
	}
	if len(d) != len(keys) {
		t.Fatalf("%d of %d deleted files named: %v", len(d), len(keys), d)
	}
	res := commit(t, s, tb) // the nightly export: no new history, number 5
	if res.Info.Seq != 5 || res.Info.PrevSeq != 4 {
		t.Fatalf("export after the deletion: %+v", res.Info)
	}
	if _, err := Open(a).RestoreVersions(ctx); err != nil {
		t.Fatal(err)
	}
	s = Open(a)
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check after the repair: %v %v", d, err)
	}
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
	}
}

// dailyGenerations commits n generations a day apart, changing three rows
// between them, and returns what each holds, by sequence number.
func dailyGenerations(t *testing.T, s *Store, tb *table, clock *fakeClock, n int) map[uint64]map[int64][]byte {
	t.Helper()
	wants := map[uint64]map[int64][]byte{}
	for range n {
		res := commit(t, s, tb)
		wants[res.Info.Seq] = tb.want()
		tb.churn(3)
		clock.Add(24 * time.Hour)
	}
	return wants
}
