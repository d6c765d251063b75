package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// A random life of an archive, checked against a model after every step:
// commits of a changing table (updates, deletes, inserts, reverts to an
// older content), runs hours or days apart, forgets with random policies,
// short delta chains. Every generation left must give back exactly the
// table it recorded, its counts must compare with the generation before it,
// and Check must find nothing.
func TestRandomLifeAgainstAModel(t *testing.T) {
	steps := 120
	if raceEnabled {
		steps = 60
	}
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			ctx := context.Background()
			rnd := rand.New(rand.NewPCG(seed, 99))
			clock := newClock("2026-03-01T02:00:00Z")
			s := Open(archiveOf(archiveClockFs{Fs: memArchive(), clock: clock}), WithMaxChain(1+rnd.IntN(6)))
			tb := newTable(seed, 5+rnd.IntN(30))
			model := map[uint64]map[int64][]byte{}
			var saved map[int64]row // an older state to revert to
			for step := range steps {
				switch r := rnd.IntN(10); {
				case r < 6:
					tb.churn(rnd.IntN(6))
				case r == 6 && saved != nil:
					for id, old := range saved { // revert some rows to old contents
						if _, ok := tb.rows[id]; ok && rnd.IntN(2) == 0 {
							tb.rows[id] = old
						}
					}
				case r == 7:
					saved = map[int64]row{}
					for id, row := range tb.rows {
						saved[id] = row
					}
				}
				if rnd.IntN(8) == 0 {
					p := Retention{Last: rnd.IntN(3), Daily: rnd.IntN(4), Weekly: rnd.IntN(3), Monthly: rnd.IntN(2), Location: time.UTC}
					if p.empty() {
						p.Last = 1
					}
					if _, err := s.Forget(ctx, p, false); err != nil {
						t.Fatalf("step %d: Forget(%v): %v", step, p, err)
					}
				} else {
					res := commit(t, s, tb)
					model[res.Info.Seq] = tb.want()
				}
				clock.Add(time.Duration(1+rnd.IntN(40)) * time.Hour)
				if err := matchesModel(s, model); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
			}
		})
	}
}

func matchesModel(s *Store, model map[uint64]map[int64][]byte) error {
	ctx := context.Background()
	gens, err := s.List(ctx)
	if err != nil {
		return err
	}
	var prev map[int64][]byte
	var prevSeq uint64
	for _, g := range gens {
		want, ok := model[g.Seq]
		if !ok {
			return fmt.Errorf("generation %d never committed", g.Seq)
		}
		if err := checkSnapshot(s, g.Seq, want); err != nil {
			return err
		}
		var added, changed, removed int
		for id, d := range want {
			if old, ok := prev[id]; !ok {
				added++
			} else if string(old) != string(d) {
				changed++
			}
		}
		for id := range prev {
			if _, ok := want[id]; !ok {
				removed++
			}
		}
		if g.PrevSeq != prevSeq || g.Added != added || g.Changed != changed || g.Removed != removed || g.Records != len(want) {
			return fmt.Errorf("generation %d: prev %d +%d ~%d -%d of %d, want prev %d +%d ~%d -%d of %d",
				g.Seq, g.PrevSeq, g.Added, g.Changed, g.Removed, g.Records, prevSeq, added, changed, removed, len(want))
		}
		prev, prevSeq = want, g.Seq
	}
	damage, err := s.Check(ctx)
	if err != nil {
		return err
	}
	if len(damage) > 0 {
		return fmt.Errorf("Check: %v", damage)
	}
	return nil
}
