package backup

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/objtest"
)

// objFixture is a fixture whose archive is the object-store double, with
// Object Lock if lock. The store's clock is the engine's: an object's
// time is the run's time when it was written.
func objFixture(t *testing.T, rows [][]string, lock bool) (*fixture, *objtest.Store, *time.Time) {
	t.Helper()
	f := newFixture(t, rows)
	var mu sync.Mutex
	clock := time.Date(2026, 11, 2, 22, 0, 0, 0, time.Local)
	f.e.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	s := objtest.New(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return clock
	})
	a := s.Archive(lock)
	f.fs, f.e.Arch = a.Fs, a
	return f, s, &clock
}

// orderReads returns the keys of order backups (data.csv, meta.json) read.
func orderReads(s *objtest.Store) []string {
	var out []string
	for _, k := range s.ReadKeys() {
		if strings.HasSuffix(k, "/"+DataFile) || strings.HasSuffix(k, "/"+MetaFile) {
			out = append(out, k)
		}
	}
	return out
}

// orderListings returns what was listed outside the history.
func orderListings(s *objtest.Store) []string {
	var out []string
	for _, l := range s.Listings() {
		if !strings.HasPrefix(l, HistoryDir) {
			out = append(out, l)
		}
	}
	return out
}

// An unchanged export on a store that lists with content hashes lists
// the archive once and reads no order's backup.
func TestObjectStoreUnchangedExportListsOnce(t *testing.T) {
	f, s, _ := objFixture(t, sample.Rows(300, 5), false)
	if r := f.export(ExportOptions{}); r.Written != 300 {
		t.Fatalf("first export wrote %d, want 300", r.Written)
	}
	s.ResetCounts()
	r := f.export(ExportOptions{})
	if r.Unchanged != 300 || r.Written != 0 {
		t.Fatalf("second export: %d unchanged, %d written; want 300, 0", r.Unchanged, r.Written)
	}
	if got := orderReads(s); len(got) != 0 {
		t.Fatalf("unchanged export read %d backups, want none: %v", len(got), got[:min(5, len(got))])
	}
	if got := orderListings(s); len(got) != 1 || got[0] != "" {
		t.Fatalf("unchanged export listed %v, want one listing of the whole archive", got)
	}
	// Lock (2), the archive's clock, the generation file, the head marker;
	// a create-if-absent costs a second PUT until the store declares
	// WriteCond (one conditional PUT of the whole content).
	limit := int64(5)
	if f.e.Arch.Caps.WriteCond == nil {
		limit++
	}
	if c := s.Counts(); c.Puts > limit {
		t.Fatalf("unchanged export wrote %d objects (lock and history only expected, at most %d)", c.Puts, limit)
	}
}

// The listing still catches every change: a changed row, a damaged or
// missing data.csv, a changed or missing meta.json. A meta.json written
// long after its run began (not found among the candidates) costs one
// read and is then known.
func TestObjectStoreListingCatchesChanges(t *testing.T) {
	f, s, clock := objFixture(t, sample.Rows(20, 7), false)
	f.export(ExportOptions{})
	rows := dbRows(t, f.e.DBPath)
	folder := func(i int) string {
		id := f.e.Schema.Codecs.Current().Identity(rows[i])
		dir, err := Folder(id)
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	meta := func(i int) string { return f.read(folder(i) + "/" + MetaFile) }
	// A later run's time: the next export's candidates must not cover
	// the meta.json rewritten below by chance.
	*clock = clock.Add(24 * time.Hour)

	changeRows(t, f, "UPDATE auftraege SET kunde_name = 'Geändert' WHERE record_id = "+rows[0][0])
	data1 := f.read(folder(1) + "/" + DataFile)
	if err := s.Put(folder(1)+"/"+DataFile, []byte(strings.Replace(data1, "\n", "\r", 1))); err != nil { // same size, other bytes
		t.Fatal(err)
	}
	if err := f.fs.Remove(folder(2) + "/" + DataFile); err != nil {
		t.Fatal(err)
	}
	m3 := meta(3)
	if err := s.Put(folder(3)+"/"+MetaFile, []byte(strings.Replace(m3, `"record_id": `, `"record_id": 9`, 1))); err != nil {
		t.Fatal(err)
	}
	if err := f.fs.Remove(folder(4) + "/" + MetaFile); err != nil {
		t.Fatal(err)
	}
	m5 := meta(5)
	i := strings.Index(m5, `"exported_at": "`) + len(`"exported_at": "`)
	// same size, another valid exported_at far from the object's time
	if err := s.Put(folder(5)+"/"+MetaFile, []byte(m5[:i]+"2001-01-01T00:00:00"+m5[i+19:])); err != nil {
		t.Fatal(err)
	}
	// a meta.json whose exported_at is broken but of the same length
	m6 := meta(6)
	if err := s.Put(folder(6)+"/"+MetaFile, []byte(m6[:i]+"2001-13-01T00:00:00"+m6[i+19:])); err != nil {
		t.Fatal(err)
	}
	s.ResetCounts()
	_, written := writesTo(f, "")
	r := f.export(ExportOptions{})
	if r.Written != 6 || r.Unchanged != 14 {
		t.Fatalf("export after changes: %d written, %d unchanged; want 6, 14\n%s", r.Written, r.Unchanged, f.log)
	}
	// A changed data.csv next to a meta.json keeps the marker protocol;
	// where only meta.json differs (or is missing) it alone is written.
	for i, want := range [][]string{
		{MetaTemp, DataFile, MetaFile}, {MetaTemp, DataFile, MetaFile}, {MetaTemp, DataFile, MetaFile},
		{MetaFile}, {MetaFile}, nil, {MetaFile}, // 5 is unchanged: another valid exported_at
	} {
		if got := written(folder(i)); !slices.Equal(got, want) {
			t.Fatalf("backup %d (%s): wrote %v, want %v", i, folder(i), got, want)
		}
	}
	reads := orderReads(s)
	if !slicesContain(reads, folder(5)+"/"+MetaFile) {
		t.Fatalf("meta.json with an unknown exported_at not read: %v", reads)
	}
	for _, i := range []int{0, 1, 2, 3, 4, 6} {
		if got := f.read(folder(i) + "/" + MetaFile); !strings.Contains(got, `"exported_at": "2026-11-03T`) {
			t.Fatalf("backup %d not rewritten: %s", i, got)
		}
	}
	if v, err := f.e.Verify(t.Context(), VerifyOptions{}); err != nil || v.OK != 20 {
		t.Fatalf("verify after the export: %v, %d OK", err, v.OK)
	}
}

func slicesContain(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// On a store that writes files whole, a changed backup is written in
// place: meta.tmp.json, data.csv, meta.json, then meta.tmp.json removed;
// no temp data.csv, no rename (a copy and a delete there). A run that
// stops after any write leaves a folder verify accepts, and the next
// export completes it.
func TestObjectStoreWritesPairInPlace(t *testing.T) {
	for _, stopAt := range []string{MetaTemp, DataFile, MetaFile, "remove"} {
		t.Run(stopAt, func(t *testing.T) {
			f, s, _ := objFixture(t, sample.Rows(10, 9), false)
			f.export(ExportOptions{})
			rows := dbRows(t, f.e.DBPath)
			dir, err := Folder(f.e.Schema.Codecs.Current().Identity(rows[0]))
			if err != nil {
				t.Fatal(err)
			}
			// same size, other bytes: only the listing's hash tells
			changeRows(t, f, "UPDATE auftraege SET kunde_name = upper(kunde_name) WHERE record_id = "+rows[0][0])
			caps := f.e.Arch.Caps
			write := caps.WriteFile
			plainWritesThroughWriteFile(&caps)
			caps.WriteFile = func(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
				if name == path.Join(dir, stopAt) {
					return &os.PathError{Op: "close", Path: name, Err: errors.New("Verbindung verloren")}
				}
				return write(ctx, name, data, perm, sync)
			}
			fsys := f.e.Arch.Fs
			if stopAt == "remove" {
				fsys = removeFails{Fs: fsys, name: path.Join(dir, MetaTemp)}
			}
			stopped := *f.e
			stopped.Arch = &storage.Archive{Fs: fsys, Caps: caps}
			s.ResetCounts()
			r, _ := stopped.Export(context.Background(), ExportOptions{})
			if stopAt == "remove" && (r.Written != 1 || r.Errors != 0) {
				t.Fatalf("a marker that could not be removed: %d written, %v", r.Written, r.Problems)
			}
			if stopAt != "remove" && r.Errors != 1 {
				t.Fatalf("write of %s failed: %d errors, want 1: %v", stopAt, r.Errors, r.Problems)
			}
			for _, k := range s.ReadKeys() {
				// (after a failure the history asks what the folder holds)
				if stopAt == "remove" && strings.HasPrefix(k, dir+"/") {
					t.Fatalf("changed backup read %s: the listing told", k)
				}
			}
			if v, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil || v.OK != 10 || v.Errors != 0 {
				t.Fatalf("verify after a stop at %s: %v, %d OK\n%s", stopAt, err, v.OK, problems(v))
			}
			f.export(ExportOptions{})
			if v, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true}); err != nil || v.OK != 10 || v.Errors+v.Warnings != 0 {
				t.Fatalf("verify after the next export: %v, %d OK\n%s", err, v.OK, problems(v))
			}
			if _, err := f.fs.Stat(path.Join(dir, DataTemp)); !errors.Is(err, iofs.ErrNotExist) {
				t.Fatalf("a temp data.csv was written: %v", err)
			}
		})
	}
}

// removeFails is an Fs whose Remove of name fails.
type removeFails struct {
	afero.Fs
	name string
}

func (r removeFails) Remove(name string) error {
	if name == r.name {
		return &os.PathError{Op: "remove", Path: name, Err: errors.New("Verbindung verloren")}
	}
	return r.Fs.Remove(name)
}

// fsCalls is an Fs that records the names of the calls that would ask
// the store about a folder or a file before writing it.
type fsCalls struct {
	afero.Fs
	mu    sync.Mutex
	calls []string
}

func (c *fsCalls) note(op, name string) {
	c.mu.Lock()
	c.calls = append(c.calls, op+" "+name)
	c.mu.Unlock()
}

func (c *fsCalls) Stat(name string) (os.FileInfo, error) {
	c.note("Stat", name)
	return c.Fs.Stat(name)
}

func (c *fsCalls) Mkdir(name string, perm os.FileMode) error {
	c.note("Mkdir", name)
	return c.Fs.Mkdir(name, perm)
}

func (c *fsCalls) MkdirAll(name string, perm os.FileMode) error {
	c.note("MkdirAll", name)
	return c.Fs.MkdirAll(name, perm)
}

func (c *fsCalls) Remove(name string) error {
	c.note("Remove", name)
	return c.Fs.Remove(name)
}

// under returns the recorded calls on names below dir.
func (c *fsCalls) under(dir string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, s := range c.calls {
		if _, name, _ := strings.Cut(s, " "); strings.HasPrefix(name, dir+"/") || name == dir {
			out = append(out, s)
		}
	}
	return out
}

// writesTo records, through the engine's archive, every file written whole
// (WriteFile) and every call of calls, and fails the write of failName.
func writesTo(f *fixture, failName string) (*fsCalls, func(dir string) []string) {
	var mu sync.Mutex
	var written []string
	calls := &fsCalls{Fs: f.e.Arch.Fs}
	f.e.setFs(calls)
	caps := f.e.ownCaps()
	write := caps.WriteFile
	plainWritesThroughWriteFile(caps)
	caps.WriteFile = func(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
		mu.Lock()
		written = append(written, name)
		mu.Unlock()
		if name == failName {
			return &os.PathError{Op: "close", Path: name, Err: errors.New("Verbindung verloren")}
		}
		return write(ctx, name, data, perm, sync)
	}
	return calls, func(dir string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, name := range written {
			if path.Dir(name) == dir {
				out = append(out, path.Base(name))
			}
		}
		return out
	}
}

// On a store that writes files whole, a new order costs two writes:
// data.csv, then meta.json, the commit mark; no marker file, and no folder
// made or asked about first.
func TestObjectStoreNewOrderTwoWrites(t *testing.T) {
	f, _, _ := objFixture(t, sample.Rows(20, 3), false)
	calls, written := writesTo(f, "")
	if r := f.export(ExportOptions{}); r.Written != 20 {
		t.Fatalf("first export wrote %d, want 20", r.Written)
	}
	for _, row := range dbRows(t, f.e.DBPath) {
		dir, err := Folder(f.e.Schema.Codecs.Current().Identity(row))
		if err != nil {
			t.Fatal(err)
		}
		if got := written(dir); !slices.Equal(got, []string{DataFile, MetaFile}) {
			t.Fatalf("new order %s: wrote %v, want [%s %s]", dir, got, DataFile, MetaFile)
		}
		if got := calls.under(dir); len(got) > 0 {
			t.Fatalf("new order %s: %v besides the two writes", dir, got)
		}
	}
	if v, err := f.e.Verify(t.Context(), VerifyOptions{WithDB: true}); err != nil || v.OK != 20 || v.Errors+v.Warnings != 0 {
		t.Fatalf("verify: %v, %d OK\n%s", err, v.OK, problems(v))
	}
}

// A run stopped between a new order's data.csv and its meta.json leaves a
// data.csv without meta.json: verify reports that first backup as
// unfinished (a warning; not valid, not an error), and the next export
// completes it with meta.json alone, reading nothing.
func TestObjectStoreUnfinishedNewOrder(t *testing.T) {
	f, s, _ := objFixture(t, sample.Rows(10, 4), false)
	rows := dbRows(t, f.e.DBPath)
	dir, err := Folder(DefaultSchema().Codecs.Current().Identity(rows[3]))
	if err != nil {
		t.Fatal(err)
	}
	plain := f.e.Arch
	_, _ = writesTo(f, path.Join(dir, MetaFile))
	r, err := f.e.Export(t.Context(), ExportOptions{})
	if err == nil || r.Errors != 1 || r.Written != 9 {
		t.Fatalf("export stopped at %s/%s: %v, %d errors, %d written", dir, MetaFile, err, r.Errors, r.Written)
	}
	f.e.use(plain)
	if _, err := f.fs.Stat(path.Join(dir, DataFile)); err != nil {
		t.Fatalf("data.csv of the stopped order: %v", err)
	}

	v, err := f.e.Verify(t.Context(), VerifyOptions{})
	if err != nil || v.OK != 9 || v.Errors != 0 || v.Folders.Invalid != 1 || v.Folders.Seen != 10 {
		t.Fatalf("verify after the stop: %v, %d OK, %d errors, %+v\n%s", err, v.OK, v.Errors, v.Folders, problems(v))
	}
	unfinished := false
	for _, p := range v.Problems {
		if p.Level == LevelWarning && p.Path == path.Join(dir, MetaFile) && strings.Contains(p.Message, "unvollständig") {
			unfinished = true
		}
	}
	if !unfinished {
		t.Fatalf("verify does not call %s unfinished:\n%s", dir, problems(v))
	}

	s.ResetCounts()
	calls, written := writesTo(f, "")
	if r := f.export(ExportOptions{}); r.Written != 1 || r.Unchanged != 9 {
		t.Fatalf("next export: %d written, %d unchanged; want 1, 9", r.Written, r.Unchanged)
	}
	if got := written(dir); !slices.Equal(got, []string{MetaFile}) {
		t.Fatalf("completing %s wrote %v, want [%s]", dir, got, MetaFile)
	}
	if got := calls.under(dir); len(got) > 0 {
		t.Fatalf("completing %s: %v besides the write", dir, got)
	}
	for _, k := range orderReads(s) {
		if strings.HasPrefix(k, dir+"/") {
			t.Fatalf("completing %s read %s: the listing told", dir, k)
		}
	}
	f.e.use(plain)
	if v, err := f.e.Verify(t.Context(), VerifyOptions{WithDB: true}); err != nil || v.OK != 10 || v.Errors+v.Warnings != 0 {
		t.Fatalf("verify after the next export: %v, %d OK\n%s", err, v.OK, problems(v))
	}
}

// On a store that writes files whole, a run that stops after any of its
// writes (every later write and removal of an order's file fails, as after
// a kill) leaves no torn pair: verify finds no error, every order that had
// a backup still has a valid one (old or new), a new order has a valid
// backup, an unfinished one (named by a warning) or none, and the next
// export completes everything. The uninterrupted run writes two files per
// new order and three per changed one.
func TestObjectStoreStopAfterEveryWrite(t *testing.T) {
	rows := sample.Rows(8, 5)
	cur := DefaultSchema().Codecs.Current()
	folderOf := func(i int) string {
		dir, err := Folder(cur.Identity(rows[i]))
		if err != nil {
			t.Fatal(err)
		}
		return dir
	}
	isOrderFile := func(name string) bool {
		return !strings.HasPrefix(name, HistoryDir+"/") && strings.Contains(name, "/")
	}
	// run exports 6 orders, then all 8 with orders 0 and 1 changed,
	// stopping that second run after stopAfter writes of order files
	// (-1: never); it returns the fixture and how many it wrote.
	run := func(stopAfter int) (*fixture, int) {
		f, _, _ := objFixture(t, rows, false)
		f.e.Workers = 1
		full := f.e.DBPath
		f.e.DBPath = filepath.Join(f.dir, "teil.db")
		if err := sample.CreateDB(context.Background(), f.e.DBPath, rows[:6]); err != nil {
			t.Fatal(err)
		}
		f.export(ExportOptions{})
		f.e.DBPath = full
		changeRows(t, f, "UPDATE auftraege SET kunde_name = 'Geänderte Kundschaft' WHERE record_id IN ("+rows[0][0]+", "+rows[1][0]+")")
		plain := f.e.Arch
		var mu sync.Mutex
		writes := 0
		stopped := func(name string) bool {
			mu.Lock()
			defer mu.Unlock()
			return stopAfter >= 0 && writes >= stopAfter && isOrderFile(name)
		}
		f.e.setFs(removeFailsWhen{Fs: f.e.Arch.Fs, fails: stopped})
		caps := f.e.ownCaps()
		write := caps.WriteFile
		plainWritesThroughWriteFile(caps)
		caps.WriteFile = func(ctx context.Context, name string, data []byte, perm os.FileMode, sync bool) error {
			if stopped(name) {
				return &os.PathError{Op: "close", Path: name, Err: errors.New("Lauf beendet")}
			}
			if isOrderFile(name) {
				mu.Lock()
				writes++
				mu.Unlock()
			}
			return write(ctx, name, data, perm, sync)
		}
		_, _ = f.e.Export(context.Background(), ExportOptions{})
		f.e.use(plain)
		return f, writes
	}
	_, total := run(-1)
	if total != 2*2+2*3 {
		t.Fatalf("the second export wrote %d order files, want %d (2 new orders × 2, 2 changed × 3)", total, 2*2+2*3)
	}
	for n := range total {
		f, _ := run(n)
		v, err := f.e.Verify(context.Background(), VerifyOptions{})
		if err != nil || v.Errors != 0 {
			t.Fatalf("stop after %d writes: verify %v\n%s", n, err, problems(v))
		}
		if v.Folders.Valid < 6 {
			t.Fatalf("stop after %d writes: %d valid backups, the 6 old ones at least\n%s", n, v.Folders.Valid, problems(v))
		}
		unfinished := 0
		for _, p := range v.Problems {
			if p.Level != LevelWarning || !strings.Contains(p.Message, "unvollständig") {
				continue
			}
			if dir := path.Dir(p.Path); dir != folderOf(6) && dir != folderOf(7) {
				t.Fatalf("stop after %d writes: %s, which had a backup, is unfinished", n, dir)
			}
			unfinished++
		}
		if v.Folders.Invalid != unfinished {
			t.Fatalf("stop after %d writes: %d unfinished, %+v\n%s", n, unfinished, v.Folders, problems(v))
		}
		f.export(ExportOptions{})
		if v, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true}); err != nil || v.OK != 8 || v.Errors+v.Warnings != 0 {
			t.Fatalf("stop after %d writes, then export: verify %v, %d OK\n%s", n, err, v.OK, problems(v))
		}
	}
}

// removeFailsWhen is an Fs whose Remove fails for the names fails accepts.
type removeFailsWhen struct {
	afero.Fs
	fails func(name string) bool
}

func (r removeFailsWhen) Remove(name string) error {
	if r.fails(name) {
		return &os.PathError{Op: "remove", Path: name, Err: errors.New("Lauf beendet")}
	}
	return r.Fs.Remove(name)
}
