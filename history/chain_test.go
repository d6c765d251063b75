package history

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// v1Archive is testdata/v1archive, an archive written by the format-1 code
// (five generations, deltas and full ones, MaxChain 2), in memory, with
// each generation's table.
func v1Archive(t *testing.T) (afero.Fs, map[uint64]map[int64][]byte) {
	t.Helper()
	return testArchive(t, "v1archive")
}

// testArchive loads testdata/<name> (an archive written by older code)
// into memory, with each generation's table from testdata/<name>.json.
func testArchive(t *testing.T, name string) (afero.Fs, map[uint64]map[int64][]byte) {
	t.Helper()
	fsys := memArchive()
	err := filepath.Walk("testdata/"+name, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, "testdata/"+name+"/"))
		if err := fsys.MkdirAll(path.Dir(rel), 0o755); err != nil {
			return err
		}
		return afero.WriteFile(fsys, rel, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var j map[uint64]map[int64]string
	if err := json.Unmarshal(raw, &j); err != nil {
		t.Fatal(err)
	}
	wants := map[uint64]map[int64][]byte{}
	for seq, rows := range j {
		wants[seq] = map[int64][]byte{}
		for id, d := range rows {
			wants[seq][id] = []byte(d)
		}
	}
	return fsys, wants
}

// An archive written by the format-1 code is read and continued in
// format 2 without loss: its generations restore, the next generation
// links to its newest, forget works across both formats.
func TestFormat1ArchiveReadAndContinued(t *testing.T) {
	ctx := context.Background()
	fsys, wants := v1Archive(t)
	s := Open(archiveOf(fsys), WithMaxChain(2))
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
	}
	tb := newTable(99, 12)
	res := commit(t, s, tb)
	if res.Info.Seq != 6 || res.Info.PrevSeq != 5 || res.Info.ID == "" {
		t.Fatalf("continued as %+v", res.Info)
	}
	commit(t, s, tb)
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
	}
	assertSnapshot(t, s, 7, tb.want())
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check: %v %v", d, err)
	}
	if _, err := s.Forget(ctx, Retention{Last: 3}, false); err != nil {
		t.Fatal(err)
	}
	assertSnapshot(t, s, 5, wants[5])
	assertSnapshot(t, s, 7, tb.want())
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check after forget: %v %v", d, err)
	}
}

// The deletion attack: every history file is deleted (what a DELETE on a
// versioned bucket does: the old versions stay under delete markers).
// The next export refuses to start a new history; told to, it continues
// the numbering and writes no name the old history had, so once the old
// files are back (markers removed) every generation restores.
func TestVanishedHistoryIsNoticedAndNoNameReused(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys), WithMaxChain(2))
	tb := newTable(5, 20)
	wants := map[uint64]map[int64][]byte{}
	for range 4 {
		res := commit(t, s, tb)
		wants[res.Info.Seq] = tb.want()
		tb.churn(4)
	}
	saved := memArchive()
	if err := copyTree(saved, fsys, Dir); err != nil {
		t.Fatal(err)
	}
	if err := fsys.RemoveAll(Dir); err != nil {
		t.Fatal(err)
	}
	d, err := s.Check(ctx)
	if err != nil || len(d) != 1 || !d[0].Missing || d[0].Path != HeadFile || len(d[0].Gens) == 0 {
		t.Fatalf("Check of a vanished history: %v %v", d, err)
	}
	recs, content, _ := tb.records()
	if _, err := s.Commit(ctx, recs, content); !errors.Is(err, ErrHistoryLost) {
		t.Fatalf("Commit over a vanished history: %v", err)
	}
	if fis, _ := afero.ReadDir(fsys, genDir); len(fis) != 0 {
		t.Fatalf("refused Commit wrote %d files", len(fis))
	}
	res, err := Open(archiveOf(fsys), WithNewHistory()).Commit(ctx, recs, content)
	if err != nil {
		t.Fatal(err)
	}
	if res.Info.Seq != 5 {
		t.Fatalf("new history starts at %d, want 5 (after the 4 the marker names)", res.Info.Seq)
	}
	wants[5] = tb.want()
	// The old files come back; none was written over.
	if err := copyTreeNoReplace(fsys, saved, Dir); err != nil {
		t.Fatal(err)
	}
	for seq, want := range wants {
		assertSnapshot(t, s, seq, want)
	}
	if gens, err := s.List(ctx); err != nil || len(gens) != 5 {
		t.Fatalf("List: %d %v", len(gens), err)
	}
}

// A generation missing in the middle of the chain (full generations, so
// nothing else breaks) or at its end is damage naming its number.
func TestChainNamesMissingGenerations(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys), WithMaxChain(0))
	tb := newTable(8, 10)
	var gens []GenerationInfo
	for range 5 {
		gens = append(gens, commit(t, s, tb).Info)
		tb.churn(2)
	}
	if err := fsys.Remove(gens[2].File); err != nil {
		t.Fatal(err)
	}
	d, err := s.Check(ctx)
	if err != nil || len(d) != 1 || !d[0].Missing || len(d[0].Gens) != 1 || d[0].Gens[0] != 3 {
		t.Fatalf("middle: %v %v", d, err)
	}
	if err := fsys.Remove(gens[4].File); err != nil {
		t.Fatal(err)
	}
	d, err = s.Check(ctx)
	if err != nil || len(d) != 2 || d[1].Path != HeadFile || d[1].Gens[0] != 5 {
		t.Fatalf("end: %v %v", d, err)
	}
	// Export refuses, and the next number is still 6.
	recs, content, _ := tb.records()
	if _, err := s.Commit(ctx, recs, content); !errors.Is(err, ErrHistoryLost) {
		t.Fatalf("Commit: %v", err)
	}
	res, err := Open(archiveOf(fsys), WithNewHistory()).Commit(ctx, recs, content)
	if err != nil || res.Info.Seq != 6 || res.Info.PrevSeq != 4 {
		t.Fatalf("new history: %+v %v", res.Info, err)
	}
}

// A file whose content does not prove its name is damage: a generation
// file overwritten with another generation's bytes, a pack with another
// pack's.
func TestNamesProveThemselves(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys), WithMaxChain(0))
	tb := newTable(9, 10)
	var gens []GenerationInfo
	for range 3 {
		gens = append(gens, commit(t, s, tb).Info)
		tb.churn(3)
	}
	data, _ := afero.ReadFile(fsys, gens[0].File)
	if err := afero.WriteFile(fsys, gens[1].File, data, 0o644); err != nil {
		t.Fatal(err)
	}
	p1, p3 := packOf(t, fsys, 1), packOf(t, fsys, 3)
	data, _ = afero.ReadFile(fsys, p1)
	if err := afero.WriteFile(fsys, p3, data, 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var genBad, packBad bool
	for _, x := range d {
		genBad = genBad || x.Path == gens[1].File && strings.Contains(x.Reason, "andere Generation")
		packBad = packBad || x.Path == p3 && strings.Contains(x.Reason, "nicht das ihres Namens")
	}
	if !genBad || !packBad {
		t.Fatalf("damage: %v", d)
	}
}

// A policy that keeps nothing empties the history on purpose: the next
// export starts again without --new-history and with a new number.
func TestForgetAllKeepsNumbering(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	tb := newTable(10, 5)
	for range 3 {
		commit(t, s, tb)
	}
	if _, err := s.Forget(ctx, Retention{AllowEmpty: true}, false); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("Check: %v %v", d, err)
	}
	if res := commit(t, s, tb); res.Info.Seq != 4 {
		t.Fatalf("after forget: generation %d, want 4", res.Info.Seq)
	}
}

func copyTree(dst, src afero.Fs, root string) error {
	return afero.Walk(src, root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return dst.MkdirAll(p, 0o755)
		}
		data, err := afero.ReadFile(src, p)
		if err != nil {
			return err
		}
		return afero.WriteFile(dst, p, data, 0o644)
	})
}

// copyTreeNoReplace copies like copyTree and fails if a name exists.
func copyTreeNoReplace(dst, src afero.Fs, root string) error {
	return afero.Walk(src, root, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return dst.MkdirAll(p, 0o755)
		}
		if ok, _ := afero.Exists(dst, p); ok {
			return errors.New(p + " was written over")
		}
		data, err := afero.ReadFile(src, p)
		if err != nil {
			return err
		}
		return afero.WriteFile(dst, p, data, 0o644)
	})
}
