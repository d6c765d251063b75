package backup

import (
	"context"
	"errors"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/mem"
	"werkstatt-backup/history"
	"werkstatt-backup/sample"
)

// genClockFs gives the history's new generation files the modification
// time of a clock the test sets: the archive's own time, which restore
// --at judges by, without depending on how fast the runs are.
type genClockFs struct {
	afero.Fs
	now *time.Time
}

type clockInfo struct {
	os.FileInfo
	t time.Time
}

func (c clockInfo) ModTime() time.Time { return c.t }

func (g genClockFs) Stat(name string) (os.FileInfo, error) {
	fi, err := g.Fs.Stat(name)
	if err == nil && strings.HasPrefix(path.Clean("/"+name), "/"+history.Dir+"/") {
		return clockInfo{fi, *g.now}, nil
	}
	return fi, err
}

// historyFixture is a fixture whose generations are written at *now.
func historyFixture(t *testing.T, rows [][]string) (*fixture, *time.Time) {
	f := newFixture(t, rows)
	now := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	f.e.setFs(genClockFs{Fs: f.fs, now: &now})
	return f, &now
}

func TestRestoreAt(t *testing.T) {
	t.Run("memmap", func(t *testing.T) { restoreAtCycle(t, nil) })
	t.Run("backends/mem", func(t *testing.T) { restoreAtCycle(t, mem.New()) })
}

// restoreAtCycle runs export, change, export, garbage, restore --at on
// archive (nil: the fixture's).
func restoreAtCycle(t *testing.T, archive afero.Fs) {
	f, now := historyFixture(t, sample.Rows(30, 3))
	if archive != nil {
		f.fs = archive
		f.e.setFs(genClockFs{Fs: archive, now: now})
	}
	ctx := context.Background()
	f.export(ExportOptions{})
	first := dbRows(t, f.e.DBPath)
	// Update, delete and insert rows, then export again a day later.
	changeRows(t, f, "UPDATE auftraege SET kunde_name = 'Geändert' WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 2)")
	changeRows(t, f, "DELETE FROM auftraege WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id DESC LIMIT 3)")
	changeRows(t, f, "INSERT INTO auftraege SELECT record_id + 1000, printf('%06d', record_id + 1000), kunde_name, kunden_nr, kennzeichen, vin, datum, formular_version, keywords_json, replace(file_path, auftrag_nr, printf('%06d', record_id + 1000)), hash, data_complete, created_at, updated_at FROM auftraege WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 1)")
	*now = now.Add(24 * time.Hour)
	f.export(ExportOptions{})
	second := dbRows(t, f.e.DBPath)
	if len(first) != 30 || len(second) != 28 || slices.EqualFunc(first, second, slices.Equal) {
		t.Fatalf("the change did not happen: %d and %d rows", len(first), len(second))
	}

	// Every data.csv overwritten with garbage: the history alone suffices.
	garbage := 0
	afero.Walk(f.fs, "/", func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == DataFile {
			garbage++
			return afero.WriteFile(f.fs, p, []byte("kaputt\x00\xff"), 0o644)
		}
		return err
	})
	if garbage != 31 {
		t.Fatalf("%d data.csv overwritten", garbage)
	}
	restoreAt := func(at time.Time, opts RestoreOptions) (*Report, error) {
		opts.At = at
		return f.e.Restore(ctx, opts)
	}
	for _, c := range []struct {
		at   time.Time
		want [][]string
		gen  uint64
	}{
		{time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), first, 1},
		{time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC), second, 2},
		{time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC), first, 1},
	} {
		r, err := restoreAt(c.at, RestoreOptions{Force: true, AllowShrink: true})
		if err != nil {
			t.Fatalf("restore --at %s: %v\n%s", c.at, err, problems(r))
		}
		if got := dbRows(t, f.e.DBPath); !slices.EqualFunc(got, c.want, slices.Equal) || r.Generation != c.gen || r.OK != len(c.want) {
			t.Fatalf("restore --at %s: generation %d, %d rows, want generation %d\n got %q\nwant %q", c.at, r.Generation, len(got), c.gen, got, c.want)
		}
	}
	// Before the first generation: nothing to restore, database untouched.
	before := fileBytes(t, f.e.DBPath)
	if _, err := restoreAt(time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), RestoreOptions{Force: true}); err == nil || !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("restore --at before the first generation: %v", err)
	}
	// The safety rules of restore apply: without --force nothing happens,
	// --dry-run changes nothing, shrinking needs --allow-shrink.
	if _, err := restoreAt(*now, RestoreOptions{}); !errors.Is(err, ErrNeedForce) {
		t.Fatalf("without --force: %v", err)
	}
	if r, err := restoreAt(*now, RestoreOptions{DryRun: true}); err != nil || r.OK != 28 {
		t.Fatalf("dry run: %v %+v", err, r)
	}
	if _, err := restoreAt(*now, RestoreOptions{Force: true}); !errors.Is(err, ErrShrink) {
		t.Fatalf("shrinking without --allow-shrink: %v", err)
	}
	if !slices.Equal(before, fileBytes(t, f.e.DBPath)) {
		t.Fatal("a refused restore --at changed the database")
	}
}

// A damaged history is refused with the database untouched: a content
// that does not match its checksum is invalid (exit 3), a pack that
// cannot be read unreadable (exit 1).
func TestRestoreAtDamagedHistory(t *testing.T) {
	f, now := historyFixture(t, sample.Rows(5, 3))
	f.export(ExportOptions{})
	packs, err := afero.Glob(f.fs, history.Dir+"/pack/*.pack")
	if err != nil || len(packs) != 1 {
		t.Fatalf("packs %v %v", packs, err)
	}
	data, _ := afero.ReadFile(f.fs, packs[0])
	data[len(data)/2] ^= 0xff
	afero.WriteFile(f.fs, packs[0], data, 0o644)
	changeRows(t, f, "DELETE FROM auftraege")
	before := fileBytes(t, f.e.DBPath)
	_, err = f.e.Restore(context.Background(), RestoreOptions{At: *now, Force: true, AllowShrink: true})
	var ue *UnreadableError
	if !errors.Is(err, ErrValidation) || errors.As(err, &ue) || !strings.Contains(err.Error(), packs[0]) {
		t.Fatalf("damaged pack: %v", err)
	}
	f.e.setFs(readFailFs{f.e.Arch.Fs, packs[0]})
	_, err = f.e.Restore(context.Background(), RestoreOptions{At: *now, Force: true, AllowShrink: true})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), packs[0]) {
		t.Fatalf("unreadable pack: %v", err)
	}
	if !slices.Equal(before, fileBytes(t, f.e.DBPath)) {
		t.Fatal("a refused restore --at changed the database")
	}
}

// readFailFs cannot open one file, as a share without rights.
type readFailFs struct {
	afero.Fs
	name string
}

func (r readFailFs) Open(name string) (afero.File, error) {
	if path.Clean(name) == path.Clean(r.name) {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrPermission}
	}
	return r.Fs.Open(name)
}

func (r readFailFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if path.Clean(name) == path.Clean(r.name) {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrPermission}
	}
	return r.Fs.OpenFile(name, flag, perm)
}
