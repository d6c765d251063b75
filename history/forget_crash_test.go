package history

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage/faultfs"
)

// forgetFixture: 12 daily generations, and a policy that keeps some in the
// middle, so forget rewrites kept deltas, deletes, removes and repacks.
func forgetFixture(t *testing.T) (afero.Fs, map[uint64]map[int64][]byte, Retention, []uint64) {
	t.Helper()
	clock := newClock("2026-11-02T02:00:00Z") // a Monday
	base := memArchive()
	s := Open(archiveOf(archiveClockFs{Fs: base, clock: clock}), WithMaxChain(5))
	tb := newTable(12, 12)
	wants := map[uint64]map[int64][]byte{}
	for range 12 {
		res := commit(t, s, tb)
		wants[res.Info.Seq] = tb.want()
		tb.churn(3)
		clock.Add(24 * time.Hour)
	}
	p := Retention{Daily: 2, Weekly: 2, Location: time.UTC}
	gens, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := p.Apply(gens)
	keep := kept(ds)
	slices.Reverse(keep)
	return base, wants, p, keep
}

// everyGenLoads checks that each generation left loads with its table, that
// the kept ones are all there, and that Check finds nothing affecting one.
func everyGenLoads(fsys afero.Fs, wants map[uint64]map[int64][]byte, keep []uint64) error {
	ctx := context.Background()
	s := Open(archiveOf(fsys))
	gens, err := s.List(ctx)
	if err != nil {
		return err
	}
	var seqs []uint64
	for _, g := range gens {
		seqs = append(seqs, g.Seq)
		if err := checkSnapshot(s, g.Seq, wants[g.Seq]); err != nil {
			return err
		}
	}
	for _, k := range keep {
		if !slices.Contains(seqs, k) {
			return fmt.Errorf("kept generation %d is gone (left: %v)", k, seqs)
		}
	}
	damage, err := s.Check(ctx)
	if err != nil {
		return err
	}
	for _, d := range damage {
		if len(d.Gens) > 0 {
			return fmt.Errorf("Check: %v", d)
		}
	}
	return nil
}

func TestForgetCrashAtEveryPoint(t *testing.T) {
	base, wants, p, keep := forgetFixture(t)
	if len(keep) < 3 || len(keep) > 8 {
		t.Fatalf("fixture keeps %v", keep)
	}
	probeFs := memArchive()
	if err := faultfs.Copy(probeFs, base); err != nil {
		t.Fatal(err)
	}
	probe := faultfs.New(archiveOf(probeFs))
	res, err := Open(archiveOf(probe)).Forget(context.Background(), p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rewritten) == 0 || len(res.PacksRemoved) == 0 && len(res.PacksRepacked) == 0 {
		t.Fatalf("fixture exercises too little: %+v", res)
	}
	n := probe.Changes()
	for crash := range n {
		t.Run(fmt.Sprintf("crash after %d of %d", crash, n), func(t *testing.T) {
			fsys := memArchive()
			if err := faultfs.Copy(fsys, base); err != nil {
				t.Fatal(err)
			}
			f := faultfs.New(archiveOf(fsys)).CrashAfter(crash)
			if _, err := Open(archiveOf(f)).Forget(context.Background(), p, false); err == nil || !f.Crashed() {
				t.Fatalf("crash %d: err %v", crash, err)
			}
			if err := everyGenLoads(fsys, wants, keep); err != nil {
				t.Fatalf("after the crash: %v", err)
			}
			if _, err := Open(archiveOf(fsys)).Forget(context.Background(), p, false); err != nil {
				t.Fatalf("rerun: %v", err)
			}
			if err := everyGenLoads(fsys, wants, keep); err != nil {
				t.Fatalf("after the rerun: %v", err)
			}
			gens, _ := Open(archiveOf(fsys)).List(context.Background())
			if len(gens) != len(keep) {
				t.Fatalf("rerun left %d generations, policy keeps %v", len(gens), keep)
			}
			if d, _ := Open(archiveOf(fsys)).Check(context.Background()); len(d) != 0 {
				t.Fatalf("rerun left %v", d)
			}
		})
	}
}
