package history

import (
	"context"
	"errors"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// checkFixture: 6 generations, a full one every third (chain 2).
func checkFixture(t *testing.T) (afero.Fs, *Store, []GenerationInfo) {
	t.Helper()
	fsys := memArchive()
	s := Open(archiveOf(fsys), WithMaxChain(2))
	tb := newTable(21, 20)
	for range 6 {
		commit(t, s, tb)
		tb.churn(3)
	}
	gens, err := s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fsys, s, gens
}

func flipByte(t *testing.T, fsys afero.Fs, name string, at int) {
	t.Helper()
	data, err := afero.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	if at < 0 {
		at += len(data)
	}
	data[at] ^= 0x40
	if err := afero.WriteFile(fsys, name, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckNamesDamageAndTheGenerationsAffected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, fsys afero.Fs, gens []GenerationInfo)
		file   string // the file the damage names (base name pattern)
		reason string
		gens   []uint64
	}{
		{"a delta's file corrupt: it and the deltas after it", func(t *testing.T, fsys afero.Fs, g []GenerationInfo) {
			flipByte(t, fsys, g[1].File, 20)
		}, "0000000002-*.gen", "Prüfsumme der Datei", []uint64{2, 3}},
		{"a full generation's file cut short", func(t *testing.T, fsys afero.Fs, g []GenerationInfo) {
			data, _ := afero.ReadFile(fsys, g[3].File)
			_ = afero.WriteFile(fsys, g[3].File, data[:len(data)/2], 0o644)
		}, "0000000004-*.gen", "Prüfsumme der Datei", []uint64{4, 5, 6}},
		{"a generation deleted: the delta after it has no parent", func(t *testing.T, fsys afero.Fs, g []GenerationInfo) {
			_ = fsys.Remove(g[4].File)
		}, "0000000006-*.gen", "Vorgänger-Generation 5 fehlt", []uint64{6}},
		{"the first pack deleted: every generation needs it", func(t *testing.T, fsys afero.Fs, _ []GenerationInfo) {
			_ = fsys.Remove(packOf(t, fsys, 1))
		}, "0000000001-*.pack", "lesen", []uint64{1, 2, 3, 4, 5, 6}},
		{"a later pack corrupt", func(t *testing.T, fsys afero.Fs, _ []GenerationInfo) {
			flipByte(t, fsys, packOf(t, fsys, 2), -40)
		}, "0000000002-*.pack", "Prüfsumme der Datei", nil},
		{"a pack replaced by one without a content", func(t *testing.T, fsys afero.Fs, _ []GenerationInfo) {
			name := packOf(t, fsys, 3)
			data, _ := afero.ReadFile(fsys, name)
			var blobs []blob
			seq, id, _ := parsePackName(path.Base(name))
			_ = decodePack(data, seq, id, func(h Hash, d []byte) error {
				blobs = append(blobs, blob{h, slices.Clone(d)})
				return nil
			})
			_ = afero.WriteFile(fsys, name, encodePack(seq, id, blobs[1:]), 0o644)
		}, "0000000003-*.pack", "1 benötigte Inhalte fehlen", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys, s, gens := checkFixture(t)
			if d, err := s.Check(context.Background()); err != nil || len(d) != 0 {
				t.Fatalf("before: %v %v", d, err)
			}
			tc.damage(t, fsys, gens)
			d, err := s.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(d) != 1 {
				t.Fatalf("want one damage, got %v", d)
			}
			if ok, _ := path.Match(tc.file, path.Base(d[0].Path)); !ok || !strings.Contains(d[0].Reason, tc.reason) {
				t.Fatalf("damage %v, want %s: %s", d[0], tc.file, tc.reason)
			}
			if tc.gens != nil && !slices.Equal(d[0].Gens, tc.gens) {
				t.Fatalf("affects %v, want %v", d[0].Gens, tc.gens)
			}
			if len(d[0].Gens) == 0 {
				t.Fatalf("damage names no generation: %v", d[0])
			}
			// Every generation Check does not name still loads.
			now, err := s.List(context.Background())
			if err != nil && !strings.Contains(err.Error(), "Prüfsumme") {
				t.Fatal(err)
			}
			for _, g := range now {
				if slices.Contains(d[0].Gens, g.Seq) {
					continue
				}
				snap, err := s.Load(context.Background(), g.Seq)
				if err != nil {
					t.Fatalf("generation %d: %v", g.Seq, err)
				}
				if err := s.Contents(context.Background(), snap.Entries, func(Entry, []byte) error { return nil }); err != nil {
					t.Fatalf("generation %d contents: %v", g.Seq, err)
				}
			}
		})
	}
}

// Leftovers are reported without naming generations, and the next commit
// removes them.
func TestCheckReportsLeftoversAndCommitCleansThem(t *testing.T) {
	fsys, s, _ := checkFixture(t)
	for _, name := range []string{path.Join(genDir, "0000000007.tmp"), path.Join(packDir, "0000000007.pack.tmp"), path.Join(genDir, "notiz.txt")} {
		if err := afero.WriteFile(fsys, name, []byte("halb"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.Check(context.Background())
	if err != nil || len(d) != 3 {
		t.Fatalf("%v %v", d, err)
	}
	for _, x := range d {
		if len(x.Gens) != 0 {
			t.Fatalf("leftover names generations: %v", x)
		}
	}
	commit(t, s, newTable(21, 3))
	d, _ = s.Check(context.Background())
	if len(d) != 1 || !strings.Contains(d[0].Path, "notiz.txt") {
		t.Fatalf("after commit: %v", d)
	}
}

// Damage does not carry over: a content whose pack is gone or corrupt is
// stored again by the next commit, and Repair stores everything again.
func TestNextGenerationDoesNotInheritDamage(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	tb := newTable(61, 20)
	commit(t, s, tb)
	tb.churn(3)
	commit(t, s, tb)
	if err := fsys.Remove(packOf(t, fsys, 1)); err != nil {
		t.Fatal(err)
	}
	res := commit(t, s, tb)
	assertSnapshot(t, s, res.Info.Seq, tb.want())

	flipByte(t, fsys, packOf(t, fsys, res.Info.Seq), 12)
	// A plain commit proves the packs it reuses: the corrupt one is not.
	if res := commit(t, s, tb); len(res.Repaired) != 1 || checkSnapshot(s, res.Info.Seq, tb.want()) != nil {
		t.Fatalf("a plain commit reused the corrupt pack: %+v", res.Repaired)
	}
	recs, content, _ := tb.records()
	rep, err := s.Repair(ctx, recs, content)
	if err != nil || !rep.Info.Full || rep.NewContents != len(recs) {
		t.Fatalf("Repair: %+v %v", rep, err)
	}
	assertSnapshot(t, s, rep.Info.Seq, tb.want())
	d, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range d {
		if slices.Contains(x.Gens, rep.Info.Seq) {
			t.Fatalf("repaired generation still damaged: %v", x)
		}
	}
}

// A history whose pack folder was deleted gets it back with the next commit.
func TestCommitRecreatesAMissingPackFolder(t *testing.T) {
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	tb := newTable(62, 5)
	commit(t, s, tb)
	if err := fsys.RemoveAll(packDir); err != nil {
		t.Fatal(err)
	}
	res := commit(t, s, tb)
	assertSnapshot(t, s, res.Info.Seq, tb.want())
}

// restore --at of a damaged generation fails naming the pack and the record.
func TestContentsNamesWhatIsMissing(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	tb := newTable(63, 4)
	commit(t, s, tb)
	name := packOf(t, fsys, 1)
	data, _ := afero.ReadFile(fsys, name)
	var blobs []blob
	seq, id, _ := parsePackName(path.Base(name))
	_ = decodePack(data, seq, id, func(h Hash, d []byte) error {
		blobs = append(blobs, blob{h, slices.Clone(d)})
		return nil
	})
	_ = afero.WriteFile(fsys, name, encodePack(seq, id, blobs[:3]), 0o644)
	snap, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Contents(ctx, snap.Entries, func(Entry, []byte) error { return nil })
	if !errors.Is(err, ErrContentMissing) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "record_id 4") {
		t.Fatalf("%v", err)
	}
}
