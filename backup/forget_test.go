package backup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
)

// TestForget: five exports over three days, one order changed each time;
// keep-daily 2 keeps the newest generation of each of the last two days,
// removes the others and the contents only they referred to, and every
// kept generation still restores.
func TestForget(t *testing.T) {
	f, now := historyFixture(t, sample.Rows(10, 3))
	ctx := context.Background()
	times := []time.Time{
		time.Date(2026, 11, 1, 2, 0, 0, 0, time.Local),
		time.Date(2026, 11, 1, 14, 0, 0, 0, time.Local),
		time.Date(2026, 11, 2, 2, 0, 0, 0, time.Local),
		time.Date(2026, 11, 3, 2, 0, 0, 0, time.Local),
		time.Date(2026, 11, 3, 20, 0, 0, 0, time.Local),
	}
	tables := make([][][]string, len(times))
	for i, at := range times {
		if i > 0 {
			changeRows(t, f, fmt.Sprintf("UPDATE auftraege SET kunde_name = 'Fassung %d' WHERE record_id = (SELECT min(record_id) FROM auftraege)", i))
		}
		*now = at
		f.export(ExportOptions{})
		tables[i] = dbRows(t, f.e.DBPath)
	}
	packs := func() []string {
		m, err := afero.Glob(f.fs, history.Dir+"/pack/*")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	before := packs()
	if len(before) != 5 {
		t.Fatalf("packs before: %v", before)
	}
	policy := history.Retention{Daily: 2}
	r, err := f.e.Forget(ctx, ForgetOptions{Policy: policy, DryRun: true})
	if err != nil || len(r.Forget.Removed) != 3 || !slices.Equal(packs(), before) {
		t.Fatalf("dry run: %v %+v", err, r.Forget)
	}
	if gens, _ := history.Open(&storage.Archive{Fs: f.fs}).List(ctx); len(gens) != 5 {
		t.Fatalf("a dry run removed generations: %d left", len(gens))
	}
	if s := r.Summary(); s != "Forget-Probelauf beendet, nichts entfernt: 2 Generationen blieben, 3 würden entfernt, 0 Fehler" {
		t.Fatalf("summary of a dry run: %q", s)
	}
	r, err = f.e.Forget(ctx, ForgetOptions{Policy: policy})
	if err != nil {
		t.Fatalf("forget: %v\n%s", err, problems(r))
	}
	var removed []uint64
	for _, v := range r.Forget.Removed {
		removed = append(removed, v.Generation)
	}
	gens, err := history.Open(&storage.Archive{Fs: f.fs}).List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kept []uint64
	for _, g := range gens {
		kept = append(kept, g.Seq)
	}
	if !slices.Equal(kept, []uint64{3, 5}) || !slices.Equal(removed, []uint64{4, 2, 1}) {
		t.Fatalf("kept %v, removed %v; want kept [3 5]", kept, removed)
	}
	// Generations 1, 2 and 4 each stored one content no kept one uses.
	if after := packs(); len(after) >= len(before) || len(r.Forget.PacksRemoved)+len(r.Forget.Repacked) == 0 {
		t.Fatalf("packs after forget: %v (before %v), result %+v", after, before, r.Forget)
	}
	if dmg, err := history.Open(&storage.Archive{Fs: f.fs}).Check(ctx); err != nil || len(dmg) != 0 {
		t.Fatalf("check after forget: %v %v", err, dmg)
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{{times[2], 2}, {times[4], 4}} {
		if _, err := f.e.Restore(ctx, RestoreOptions{At: c.at, Force: true}); err != nil {
			t.Fatal(err)
		}
		if got := dbRows(t, f.e.DBPath); !slices.EqualFunc(got, tables[c.want], slices.Equal) {
			t.Fatalf("restore --at %s after forget: wrong table", c.at)
		}
	}
	if _, err := f.e.Restore(ctx, RestoreOptions{At: times[1], Force: true}); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("restore --at a forgotten time: %v", err)
	}
	// The default policy (no rule given) never deletes everything.
	if r, err := f.e.Forget(ctx, ForgetOptions{}); err != nil || len(r.Forget.Removed) != 0 || r.Forget.Policy != history.DefaultRetention.String() {
		t.Fatalf("default forget: %v %+v", err, r.Forget)
	}
}
