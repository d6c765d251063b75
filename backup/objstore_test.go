package backup

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/sample"
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
	f.fs, f.e.Fs, f.e.Caps = a.Fs, a.Fs, a.Caps
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
	if f.e.Caps.WriteCond == nil {
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
	r := f.export(ExportOptions{})
	if r.Written != 6 || r.Unchanged != 14 {
		t.Fatalf("export after changes: %d written, %d unchanged; want 6, 14\n%s", r.Written, r.Unchanged, f.log)
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
			caps := f.e.Caps
			write := caps.WriteFile
			caps.WriteFile = func(name string, data []byte, perm os.FileMode, sync bool) error {
				if name == path.Join(dir, stopAt) {
					return &os.PathError{Op: "close", Path: name, Err: errors.New("Verbindung verloren")}
				}
				return write(name, data, perm, sync)
			}
			fsys := f.e.Fs
			if stopAt == "remove" {
				fsys = removeFails{Fs: fsys, name: path.Join(dir, MetaTemp)}
			}
			stopped := *f.e
			stopped.Caps, stopped.Fs = caps, fsys
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
