package history

import (
	"context"
	"errors"
	"path"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/backends/mem"
	"werkstatt-backup/backends/smb"
	"werkstatt-backup/backends/smb/smbtest"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/storagetest"
)

func smbArchive(t *testing.T) *storage.Archive {
	t.Helper()
	srv := smbtest.Start(t)
	a, err := smb.Backend{}.Open(context.Background(), srv.Location("archiv"), storage.Options{Create: true, Values: map[string]any{smb.OptPassword: srv.Password}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func localArchive(t *testing.T) *storage.Archive {
	t.Helper()
	a, err := local.Backend{}.Open(context.Background(), local.Location{Path: t.TempDir()}, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Export, change rows (update, delete, insert), export again: every
// generation gives back exactly its table, the counts say what changed,
// and only new contents are asked for and stored.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		fs   func(t *testing.T) *storage.Archive
	}{
		{"mem", func(*testing.T) *storage.Archive { return mem.NewArchive() }},
		{"mem with atomic writes", atomicWriteArchive},
		{"local", localArchive},
		{"smb", smbArchive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a := tc.fs(t)
			fsys := a.Fs
			s := Open(a)
			tb := newTable(1, 50)
			want1 := tb.want()
			recs, content, calls := tb.records()
			r1, err := s.Commit(ctx, recs, content)
			if err != nil {
				t.Fatal(err)
			}
			if *calls != 50 || r1.NewContents != 50 || r1.Info.Seq != 1 || !r1.Info.Full || r1.Info.Added != 50 {
				t.Fatalf("first commit: %d content calls, %+v", *calls, r1)
			}

			tb.update(3)
			tb.update(7)
			delete(tb.rows, 10)
			tb.insert()
			want2 := tb.want()
			recs, content, calls = tb.records()
			r2, err := s.Commit(ctx, recs, content)
			if err != nil {
				t.Fatal(err)
			}
			if *calls != 3 || r2.NewContents != 3 || r2.Info.Full || r2.Info.PrevSeq != 1 {
				t.Fatalf("second commit: %d content calls, %+v", *calls, r2)
			}
			if i := r2.Info; i.Added != 1 || i.Changed != 2 || i.Removed != 1 || i.Records != 50 {
				t.Fatalf("second commit counts: %+v", i)
			}

			// Unchanged: one small file, nothing asked for.
			before, _ := historyFiles(t, fsys)
			recs, content, calls = tb.records()
			r3, err := s.Commit(ctx, recs, content)
			if err != nil {
				t.Fatal(err)
			}
			after, _ := historyFiles(t, fsys)
			if *calls != 0 || len(after) != len(before)+1 || r3.Bytes > 200 {
				t.Fatalf("unchanged commit: %d calls, files %d → %d, %d bytes", *calls, len(before), len(after), r3.Bytes)
			}
			if _, ok := after[r3.Info.File]; !ok {
				t.Fatalf("new file is not %s: %v", r3.Info.File, after)
			}

			assertSnapshot(t, s, 1, want1)
			assertSnapshot(t, s, 2, want2)
			assertSnapshot(t, s, 3, want2)

			gens, err := s.List(ctx)
			if err != nil || len(gens) != 3 {
				t.Fatalf("List: %v %v", gens, err)
			}
			at, err := s.At(ctx, gens[1].ArchiveTime)
			if err != nil || at.Info.Seq < 2 {
				t.Fatalf("At(second): %v %v", at, err)
			}
			if _, err := s.At(ctx, gens[0].ArchiveTime.Add(-time.Second)); !errors.Is(err, ErrNotFound) {
				t.Fatalf("At before the first: %v", err)
			}

			// Forget all but the newest: rewritten in full, packs pruned
			// and repacked, still the same table, nothing damaged.
			res, err := s.Forget(ctx, Retention{Last: 1}, false)
			if err != nil || len(res.Removed) != 2 || len(res.Rewritten) != 1 {
				t.Fatalf("Forget: %+v %v", res, err)
			}
			assertSnapshot(t, s, 3, want2)
			if d, err := s.Check(ctx); err != nil || len(d) != 0 {
				t.Fatalf("Check: %v %v", d, err)
			}
		})
	}
}

// A generation is a delta until the chain gets long or the deltas add up
// to a full one; every generation loads the same either way.
func TestDeltaChainAndFullGenerations(t *testing.T) {
	s := Open(archiveOf(memArchive()), WithMaxChain(3))
	tb := newTable(2, 40)
	var wants []map[int64][]byte
	var full []bool
	for range 9 {
		res := commit(t, s, tb)
		wants = append(wants, tb.want())
		full = append(full, res.Info.Full)
		tb.churn(2)
	}
	wantFull := []bool{true, false, false, false, true, false, false, false, true}
	for i := range full {
		if full[i] != wantFull[i] {
			t.Fatalf("full generations %v, want %v", full, wantFull)
		}
	}
	for i, w := range wants {
		assertSnapshot(t, s, uint64(i+1), w)
	}
	// Deltas that add up to the table's size make the next one full.
	s2 := Open(archiveOf(memArchive()))
	tb = newTable(3, 10)
	commit(t, s2, tb)
	updateFirst := func(n int) {
		for id := range int64(n) {
			tb.update(id + 1)
		}
	}
	updateFirst(6)
	if res := commit(t, s2, tb); res.Info.Full {
		t.Fatal("6 changes of 10 written in full")
	}
	updateFirst(6)
	if res := commit(t, s2, tb); !res.Info.Full {
		t.Fatal("12 changes of 10 since the last full one written as a delta")
	}
}

// Content the caller hands over that does not match its record is refused
// and nothing is written.
func TestCommitRefusesWrongContent(t *testing.T) {
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	tb := newTable(4, 5)
	recs, _, _ := tb.records()
	_, err := s.Commit(context.Background(), recs, func(r Record) ([]byte, error) { return []byte("x"), nil })
	if err == nil {
		t.Fatal("wrong content accepted")
	}
	if files, _ := historyFiles(t, fsys); len(files) != 0 {
		t.Fatalf("files written: %v", files)
	}
	recs = append(recs, recs[0])
	if _, err := s.Commit(context.Background(), recs, nil); err == nil {
		t.Fatal("duplicate record_id accepted")
	}
}

// Content shows up by hash and by entry, and its absence is named.
func TestContentLookup(t *testing.T) {
	ctx := context.Background()
	s := Open(archiveOf(memArchive()))
	tb := newTable(5, 5)
	commit(t, s, tb)
	r := tb.rows[2]
	got, err := s.Content(ctx, Sum(r.csv()))
	if err != nil || string(got) != string(r.csv()) {
		t.Fatalf("Content: %q %v", got, err)
	}
	if _, err := s.Content(ctx, Sum([]byte("nie gesehen"))); err == nil {
		t.Fatal("unknown content found")
	}
}

// The history never collides with order folders: nothing in it is a
// data.csv or meta.json, and the folder is not a year.
func TestLayoutStaysOutOfOrderFolders(t *testing.T) {
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	tb := newTable(6, 5)
	commit(t, s, tb)
	tb.churn(3)
	commit(t, s, tb)
	files, _ := historyFiles(t, fsys)
	for f := range files {
		if b := path.Base(f); b == "data.csv" || b == "meta.json" || path.Dir(path.Dir(f)) != Dir {
			t.Errorf("unexpected file %s", f)
		}
	}
}

// atomicWriteArchive is a mem archive declaring AtomicWrite; when the test
// ends it checks that the history wrote its files under their real names,
// except the generation file, whose name takes the archive's time of a
// file written first (so it is written to a temp name and renamed).
func atomicWriteArchive(t *testing.T) *storage.Archive {
	a, rec := storagetest.AtomicWrite(mem.NewArchive())
	t.Cleanup(func() {
		created := rec.Created()
		if len(created) == 0 {
			t.Error("nothing was written through the AtomicWrite archive")
		}
		for _, name := range created {
			if strings.HasSuffix(name, tmpSuffix) && !strings.HasPrefix(name, genDir+"/") {
				t.Errorf("%s: a temp name on a storage with atomic writes", name)
			}
		}
	})
	return a
}
