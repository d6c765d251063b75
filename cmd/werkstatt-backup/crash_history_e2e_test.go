package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"golang.org/x/sys/unix"

	"werkstatt-backup/history"
	"werkstatt-backup/storage"
)

// crashCheckHistory checks, after a killed run, that every generation the
// archive had before (before: their sequence numbers) is still there and
// restorable: complete, every content present and matching its SHA-256.
// It returns the generations there now.
func crashCheckHistory(t *testing.T, round int, archive string, before []uint64) []uint64 {
	t.Helper()
	hs := history.Open(&storage.Archive{Fs: afero.NewBasePathFs(afero.NewOsFs(), archive)})
	damage, err := hs.Check(context.Background())
	if err != nil {
		t.Fatalf("round %d: history check: %v", round, err)
	}
	for _, d := range damage {
		if len(d.Gens) > 0 {
			t.Fatalf("round %d: a kill made generations unrestorable: %s", round, d)
		}
	}
	gens, err := hs.List(context.Background())
	if err != nil {
		t.Fatalf("round %d: %v", round, err)
	}
	var now []uint64
	for _, g := range gens {
		now = append(now, g.Seq)
	}
	for _, s := range before {
		if !slices.Contains(now, s) {
			t.Fatalf("round %d: generation %d is gone after a killed export (now %v)", round, s, now)
		}
	}
	return now
}

// TestKilledForgetKeepsGenerations kills forget at random moments (a third
// at a random instant, the rest at the nth rename or removal in the
// history: temp files and renames): every generation the policy keeps stays restorable with the
// table it had, and the next forget finishes the work.
func TestKilledForgetKeepsGenerations(t *testing.T) {
	dir := workshop(t, 40)
	archive := filepath.Join(dir, "test_archiv")
	db := filepath.Join(archive, "werkstatt.db")
	env := []string{"ARCHIV_MASS_CHANGE=0"}
	args := []string{"--archiv", archive, "--db", db}
	rng := rand.New(rand.NewPCG(crashSeed, 7))
	hs := history.Open(&storage.Archive{Fs: afero.NewBasePathFs(afero.NewOsFs(), archive)})
	ctx := context.Background()
	const rounds = 12
	kills := 0
	for round := range rounds {
		// Three new generations, each changing some orders.
		for i := range 3 {
			execSQL(t, db, fmt.Sprintf("UPDATE auftraege SET kunde_name = 'Runde %d.%d' WHERE record_id %% 7 = %d", round, i, (round+i)%7))
			wbEnv(t, dir, env, append([]string{"export"}, args...)...).expect(t, 0)
		}
		gens, err := hs.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// What a complete forget --keep-last 4 keeps, with each one's table.
		keep := gens[max(0, len(gens)-4):]
		want := map[uint64][]history.Entry{}
		for _, g := range keep {
			snap, err := hs.Load(ctx, g.Seq)
			if err != nil {
				t.Fatal(err)
			}
			want[g.Seq] = snap.Entries
		}
		forget := append([]string{"forget", "--keep-last", "4"}, args...)
		var trigger <-chan struct{}
		stop := func() {}
		delay := time.Minute
		if rng.IntN(3) == 0 {
			delay = time.Duration(rng.IntN(40)) * time.Millisecond
		} else {
			dirs := []string{filepath.Join(archive, history.Dir, "gen"), filepath.Join(archive, history.Dir, "pack")}
			trigger, stop = crashWatchEvents(t, dirs, 1+rng.IntN(2), func(mask uint32, name string) bool {
				return mask&(unix.IN_MOVED_TO|unix.IN_CREATE) != 0
			})
		}
		killed, _ := crashKillAfter(t, crashSpawnEnv(t, dir, env, forget...), delay, trigger)
		stop()
		crashUnlockTorn(t, dir, env, archive, archive)
		for seq, entries := range want {
			snap, err := hs.Load(ctx, seq)
			if err != nil {
				t.Fatalf("round %d (killed %v): kept generation %d: %v", round, killed, seq, err)
			}
			if !slices.Equal(snap.Entries, entries) {
				t.Fatalf("round %d: kept generation %d changed its table", round, seq)
			}
			if err := hs.Contents(ctx, snap.Entries, func(history.Entry, []byte) error { return nil }); err != nil {
				t.Fatalf("round %d (killed %v): contents of kept generation %d: %v", round, killed, seq, err)
			}
		}
		// The next forget finishes; the history is whole.
		wbEnv(t, dir, env, forget...).expect(t, 0)
		damage, err := hs.Check(ctx)
		if err != nil || len(damage) != 0 {
			t.Fatalf("round %d: after the finishing forget: %v %v", round, err, damage)
		}
		t.Logf("round %d: killed %v", round, killed)
		kills += map[bool]int{true: 1}[killed]
	}
	if kills < rounds/3 {
		t.Fatalf("only %d of %d forget runs were killed", kills, rounds)
	}
	r := wbEnv(t, dir, env, append([]string{"history"}, args...)...).expect(t, 0)
	if strings.Count(r.stdout, "\n") != 5 {
		t.Fatalf("history after the rounds:\n%s", r.stdout)
	}
}

// TestKilledExportKeepsGenerations kills export while it writes the
// history (at the first or second file created in _historie/gen or pack):
// every earlier generation stays restorable, and the next export records
// the table.
func TestKilledExportKeepsGenerations(t *testing.T) {
	dir := workshop(t, 40)
	archive := filepath.Join(dir, "test_archiv")
	db := filepath.Join(archive, "werkstatt.db")
	env := []string{"ARCHIV_MASS_CHANGE=0"}
	export := []string{"export", "--archiv", archive, "--db", db}
	wbEnv(t, dir, env, export...).expect(t, 0)
	rng := rand.New(rand.NewPCG(crashSeed, 9))
	gens := crashCheckHistory(t, 0, archive, nil)
	kills := 0
	for round := 1; round <= 10; round++ {
		execSQL(t, db, fmt.Sprintf("UPDATE auftraege SET kunde_name = 'Runde %d' WHERE record_id %% 5 = %d", round, round%5))
		dirs := []string{filepath.Join(archive, history.Dir, "gen"), filepath.Join(archive, history.Dir, "pack")}
		// An export creates the pack, then the generation file (format 2
		// renames nothing into the history): kill at the first or second.
		trigger, stop := crashWatchEvents(t, dirs, 1+rng.IntN(2), func(mask uint32, name string) bool {
			return mask&(unix.IN_MOVED_TO|unix.IN_CREATE) != 0
		})
		killed, _ := crashKillAfter(t, crashSpawnEnv(t, dir, env, export...), time.Minute, trigger)
		stop()
		if killed {
			kills++
		}
		crashUnlockTorn(t, dir, env, archive, archive)
		gens = crashCheckHistory(t, round, archive, gens)
		wbEnv(t, dir, env, export...).expect(t, 0)
		gens = crashCheckHistory(t, round, archive, gens)
		snap, err := history.Open(&storage.Archive{Fs: afero.NewBasePathFs(afero.NewOsFs(), archive)}).Head(context.Background())
		if err != nil || snap == nil || len(snap.Entries) != 40 {
			t.Fatalf("round %d: newest generation after the next export: %v", round, err)
		}
	}
	if kills < 5 {
		t.Fatalf("only %d of 10 exports were killed while writing the history", kills)
	}
}
