package backup

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/mem"
	v1 "werkstatt-backup/codec/v1"
	"werkstatt-backup/history"
	"werkstatt-backup/lock"
	"werkstatt-backup/storage/faultfs"
)

// Every call of an export fails in turn (the store gone for that call:
// EIO, a short write): every generation the archive then has holds every
// row of the database the export read, each with exactly that row's
// data.csv, never fewer (the outage case of issue 21: a record whose new
// data.csv stood beside its old meta.json was left out).
func TestEveryGenerationHoldsEveryRowAfterFaults(t *testing.T) {
	g := newGenerations(t)
	base := mem.New()
	if _, err := crashEngine(base, g.dbs[0], DefaultSchema()).Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	export := func(fsys afero.Fs) (*Report, error) {
		return crashEngine(fsys, g.dbs[1], DefaultSchema()).Export(context.Background(), ExportOptions{})
	}
	want := []map[int64][]byte{tableOf(g.rows[0]), tableOf(g.rows[1])}
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			runs, committed := 0, 0
			for _, c := range recordCalls(t, base, batch, export) {
				kinds := []faultfs.Fault{{Err: faultfs.EIO}}
				if c.Op == faultfs.OpWrite {
					kinds = append(kinds, faultfs.Fault{Short: true, Err: faultfs.EIO})
				}
				for _, kind := range kinds {
					fsys, _, wrapped := faultyCopy(t, base, batch, c, kind)
					_, _ = export(wrapped)
					runs++
					_ = fsys.Remove(lock.LockFileName)
					hs := history.Open(archiveOf(fsys))
					gens, err := hs.List(context.Background())
					if err != nil {
						t.Fatalf("%s: List: %v", c, err)
					}
					for _, gi := range gens {
						if gi.Seq > 2 {
							t.Fatalf("%s: generation %d", c, gi.Seq)
						}
						if gi.Seq == 2 {
							committed++
						}
						if err := sameTable(hs, gi.Seq, want[gi.Seq-1]); err != nil {
							t.Fatalf("after %s with %q: %v", c, reasonText(kind), err)
						}
					}
				}
			}
			t.Logf("%d faulty runs, %d committed a generation", runs, committed)
		})
	}
}

// tableOf is rows as record_id → data.csv.
func tableOf(rows [][]string) map[int64][]byte {
	out := map[int64][]byte{}
	for _, r := range rows {
		id, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil {
			panic(err)
		}
		out[id] = v1.Codec{}.Encode(r)
	}
	return out
}

// sameTable checks that generation seq holds exactly want.
func sameTable(hs *history.Store, seq uint64, want map[int64][]byte) error {
	ctx := context.Background()
	snap, err := hs.Load(ctx, seq)
	if err != nil {
		return err
	}
	var ids []int64
	for _, en := range snap.Entries {
		ids = append(ids, en.RecordID)
	}
	var wantIDs []int64
	for id := range want {
		wantIDs = append(wantIDs, id)
	}
	slices.Sort(wantIDs)
	if !slices.Equal(ids, wantIDs) {
		return fmt.Errorf("generation %d holds record_ids %v, the database had %v", seq, ids, wantIDs)
	}
	return hs.Contents(ctx, snap.Entries, func(en history.Entry, data []byte) error {
		if string(data) != string(want[en.RecordID]) {
			return fmt.Errorf("generation %d record_id %d: content is not the database's row", seq, en.RecordID)
		}
		return nil
	})
}
