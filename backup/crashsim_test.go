package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/mem"
	"werkstatt-backup/codec"
	"werkstatt-backup/codec/csvfmt"
	v1 "werkstatt-backup/codec/v1"
	"werkstatt-backup/lock"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/faultfs"
	"werkstatt-backup/store"
)

// A crash of the process is simulated with faultfs.CrashAfter: the first n
// changes of a run reach the archive, the change at n+1 is torn (a write
// keeps half its bytes) and nothing after it happens, as after kill -9 at
// that instant. Every n from 0 to the run's number of changes is tried, so
// every crash point of a run is covered, not a random sample; the kill -9
// test of the binary (cmd/werkstatt-backup) covers the real process.

// generations are the database states a crash test exports one after the
// other: 3 records, then all changed plus a 4th, then all changed again.
type generations struct {
	rows [][][]string // rows[g]: the table in generation g
	dbs  []string     // a database file per generation
}

func newGenerations(t *testing.T) *generations {
	t.Helper()
	all := sample.Rows(4, 21)
	g := &generations{rows: [][][]string{all[:3]}}
	for n, suffix := range []string{" (geändert)", " (nochmals)"} {
		next := make([][]string, len(all))
		for i, r := range all {
			next[i] = slices.Clone(r)
			next[i][2] += suffix
			next[i][13] = fmt.Sprintf("2025-0%d-01T08:00:00", n+1)
		}
		g.rows = append(g.rows, next)
	}
	dir := t.TempDir()
	for i, rows := range g.rows {
		db := filepath.Join(dir, fmt.Sprintf("g%d.db", i))
		if err := sample.CreateDB(context.Background(), db, rows); err != nil {
			t.Fatal(err)
		}
		g.dbs = append(g.dbs, db)
	}
	return g
}

// datas returns, per folder, every data.csv some generation up to last
// would write: the only contents an accepted backup may have.
func (g *generations) datas(last int) map[string][][]byte {
	out := map[string][][]byte{}
	for _, rows := range g.rows[:last+1] {
		for _, r := range rows {
			folder, err := Folder(v1.Codec{}.Identity(r))
			if err != nil {
				panic(err)
			}
			out[folder] = append(out[folder], v1.Codec{}.Encode(r))
		}
	}
	return out
}

// crashEngine is an engine on fsys for simulated crashes: one worker, so
// the order of changes, and with it each crash point, is the same in
// every run. The databases of these tests never change, so their rows are
// read once and then served from memory (SQLite under -race is slow);
// writing (restore) goes to the real file.
func crashEngine(fsys afero.Fs, db string, schema Schema) *Engine {
	caps := testCaps
	if ff, ok := fsys.(*faultfs.Fs); ok { // the wrapper declares SyncAll for the batch path
		caps = ff.Caps()
	}
	return &Engine{Arch: &storage.Archive{Fs: fsys, Caps: caps}, DBPath: db, Schema: schema, Workers: 1, LockTimeout: 0, Open: cachedOpen}
}

var rowCache sync.Map // database path → rowsDB

// rowsDB is a read-only Database over rows read once from a file.
type rowsDB struct {
	cols []string
	rows [][]string
}

func (d rowsDB) Columns(context.Context, string) ([]string, error) { return d.cols, nil }
func (d rowsDB) Count(context.Context, string) (int, error)        { return len(d.rows), nil }
func (d rowsDB) Scan(_ context.Context, _ string, fn func(cols, vals []string) error) (int, error) {
	for i, r := range d.rows {
		if err := fn(d.cols, r); err != nil {
			return i, err
		}
	}
	return len(d.rows), nil
}
func (d rowsDB) BackupTo(context.Context, string) error {
	return errors.New("rowsDB ist schreibgeschützt")
}
func (d rowsDB) Replace(context.Context, store.TableDef, iter.Seq2[[]string, error]) (int, error) {
	return 0, errors.New("rowsDB ist schreibgeschützt")
}
func (d rowsDB) IntegrityCheck(context.Context) error { return nil }
func (d rowsDB) Close() error                         { return nil }

func cachedOpen(ctx context.Context, p string, write bool) (Database, error) {
	if write {
		return OpenStore(ctx, p, true)
	}
	if d, ok := rowCache.Load(p); ok {
		return d.(rowsDB), nil
	}
	db, err := OpenStore(ctx, p, false)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var d rowsDB
	if d.cols, err = db.Columns(ctx, Table); err != nil {
		return nil, err
	}
	if _, err := db.Scan(ctx, Table, func(_, vals []string) error {
		d.rows = append(d.rows, slices.Clone(vals))
		return nil
	}); err != nil {
		return nil, err
	}
	rowCache.Store(p, d)
	return d, nil
}

// countChanges runs fn once on a recording copy of base and returns how
// many changes it makes: the crash points of that run.
func countChanges(t *testing.T, base afero.Fs, batch bool, fn func(afero.Fs) error) int {
	t.Helper()
	fsys := mem.New()
	if err := faultfs.Copy(fsys, base); err != nil {
		t.Fatal(err)
	}
	rec, wrapped := wrapFault(fsys, batch)
	if err := fn(wrapped); err != nil {
		t.Fatalf("run without a crash: %v", err)
	}
	return rec.Changes()
}

func wrapFault(fsys afero.Fs, batch bool, faults ...faultfs.Fault) (*faultfs.Fs, afero.Fs) {
	f := faultfs.New(archiveOf(fsys), faults...)
	if batch {
		f.WithSyncAll()
	}
	return f, f
}

// crashed runs fn on a copy of base that crashes after n changes and
// returns the copy as the crash left it. The lock file the dead run leaves
// is removed (taking over a stale lock is tested on its own).
func crashed(t *testing.T, base afero.Fs, batch bool, n int, fn func(afero.Fs) error) afero.Fs {
	t.Helper()
	fsys := mem.New()
	if err := faultfs.Copy(fsys, base); err != nil {
		t.Fatal(err)
	}
	rec, wrapped := wrapFault(fsys, batch)
	rec.CrashAfter(n)
	_ = fn(wrapped)
	if !rec.Crashed() {
		t.Fatalf("crash point %d was never reached", n)
	}
	_ = fsys.Remove(lock.LockFileName)
	return fsys
}

// checkAfterCrash asserts what SPEC 4 promises for any crash point: every
// data.csv and meta.json parses completely, verify finds no error and warns
// about every leftover (never silence), and every backup holds a data.csv
// one of the runs really wrote (old or new, never a mix).
func checkAfterCrash(t *testing.T, fsys afero.Fs, schema Schema, allowed map[string][][]byte) {
	t.Helper()
	assertNoTornFiles(t, fsys, schema)
	r, err := crashEngine(fsys, "", schema).Verify(context.Background(), VerifyOptions{})
	if err != nil || r.Errors > 0 {
		t.Fatalf("verify after the crash: %v\n%s", err, problems(r))
	}
	for _, p := range r.Problems {
		if !strings.Contains(p.Message, "temporäre Datei") && !strings.Contains(p.Message, "meta.tmp.json") &&
			!strings.Contains(p.Message, "unvollständige Datei eines abgebrochenen Laufs") {
			t.Fatalf("unexpected warning after a crash: %s", p)
		}
	}
	named := func(dir string) bool {
		return slices.ContainsFunc(r.Problems, func(p Problem) bool { return strings.HasPrefix(p.Path, dir+"/") })
	}
	err = (&storage.Archive{Fs: fsys, Caps: storage.Capabilities{}}).WalkDirs(context.Background(), ".", func(dir string, entries []os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		var hasData, hasMeta, leftover bool
		for _, fi := range entries {
			switch fi.Name() {
			case DataFile:
				hasData = true
			case MetaFile:
				hasMeta = true
			case DataTemp, MetaTemp:
				leftover = true
			}
		}
		if leftover && !named(dir) {
			t.Errorf("%s: temp files left, verify is silent about them\n%s", dir, problems(r))
		}
		if !hasData {
			return nil
		}
		data, _ := afero.ReadFile(fsys, path.Join(dir, DataFile))
		if want, ok := allowed[dir]; ok && !slices.ContainsFunc(want, func(w []byte) bool { return bytes.Equal(w, data) }) {
			t.Errorf("%s/data.csv holds content no run wrote:\n%q", dir, data)
		}
		if hasMeta {
			raw, _ := afero.ReadFile(fsys, path.Join(dir, MetaFile))
			m, _ := codec.DecodeMeta(raw)
			if m.Checksum != sha(data) && !named(dir) {
				t.Errorf("%s: data.csv and meta.json out of step, verify is silent", dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// assertNoTornFiles parses every data.csv and meta.json completely: a
// data.csv must be valid CSV with the header of a known schema version and
// complete rows, a meta.json a complete meta object. Temp files may be torn.
func assertNoTornFiles(t *testing.T, fsys afero.Fs, schema Schema) {
	t.Helper()
	headers := map[string]bool{}
	for _, v := range schema.Codecs.Versions() {
		c, _ := schema.Codecs.Lookup(v)
		headers[strings.Join(codec.Names(c), ",")] = true
	}
	err := (&storage.Archive{Fs: fsys, Caps: storage.Capabilities{}}).WalkDirs(context.Background(), ".", func(dir string, entries []os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		for _, fi := range entries {
			name := path.Join(dir, fi.Name())
			switch fi.Name() {
			case DataFile:
				raw, err := afero.ReadFile(fsys, name)
				if err != nil {
					return err
				}
				rows, err := csvfmt.Parse(raw)
				if err != nil || len(rows) < 2 || !headers[strings.Join(rows[0], ",")] {
					t.Errorf("%s is torn (%v):\n%q", name, err, raw)
					continue
				}
				for _, r := range rows[1:] {
					if len(r) != len(rows[0]) {
						t.Errorf("%s has an incomplete row:\n%q", name, raw)
					}
				}
			case MetaFile:
				raw, err := afero.ReadFile(fsys, name)
				if err != nil {
					return err
				}
				if _, err := codec.DecodeMeta(raw); err != nil {
					t.Errorf("%s is torn: %v\n%q", name, err, raw)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkConverges runs export of db uninterrupted on fsys and asserts a
// verify against db without a single problem and a restore equal to want.
func checkConverges(t *testing.T, fsys afero.Fs, db string, want [][]string, restore bool) {
	t.Helper()
	e := crashEngine(fsys, db, DefaultSchema())
	if r, err := e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatalf("export after the crash: %v\n%s", err, problems(r))
	}
	if r, err := e.Verify(context.Background(), VerifyOptions{WithDB: true}); err != nil || len(r.Problems) > 0 {
		t.Fatalf("verify after the rerun: %v\n%s", err, problems(r))
	}
	if !restore {
		return
	}
	e.DBPath = filepath.Join(t.TempDir(), "neu.db")
	if r, err := e.Restore(context.Background(), RestoreOptions{}); err != nil {
		t.Fatalf("restore after the rerun: %v\n%s", err, problems(r))
	}
	if got := dbRows(t, e.DBPath); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("restore after the rerun differs from the database:\n%q\n%q", got, want)
	}
}

func TestExportCrashAtEveryPoint(t *testing.T) {
	g := newGenerations(t)
	base := mem.New()
	if _, err := crashEngine(base, g.dbs[0], DefaultSchema()).Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	export := func(db string) func(afero.Fs) error {
		return func(fsys afero.Fs) error {
			_, err := crashEngine(fsys, db, DefaultSchema()).Export(context.Background(), ExportOptions{})
			return err
		}
	}
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			points := countChanges(t, base, batch, export(g.dbs[1]))
			if points < 20 {
				t.Fatalf("only %d crash points", points)
			}
			for a := range points {
				// First crash: generation 1 over generation 0.
				fsys := crashed(t, base, batch, a, export(g.dbs[1]))
				checkAfterCrash(t, fsys, DefaultSchema(), g.datas(1))
				// A second crash of the next run (generation 2) on what the
				// first left, at a few points spread over that run: a rerun
				// must not destroy what the first run left to roll forward.
				second := countChanges(t, fsys, batch, export(g.dbs[2]))
				for _, b := range []int{a % second, (a*7 + 3) % second, second - 1} {
					twice := crashed(t, fsys, batch, b, export(g.dbs[2]))
					checkAfterCrash(t, twice, DefaultSchema(), g.datas(2))
					if b == a%second {
						checkConverges(t, twice, g.dbs[2], g.rows[2], a%4 == 0)
					}
				}
				checkConverges(t, fsys, g.dbs[1], g.rows[1], a%4 == 1)
				if t.Failed() {
					t.Fatalf("crash point %d of %d", a, points)
				}
			}
			t.Logf("%d crash points, each followed by 3 crash points of the next run", points)
		})
	}
}

func TestMigrateCrashAtEveryPoint(t *testing.T) {
	// An archive of 1.0 backups, one of them left half-renamed by a stopped
	// export, is migrated to the test-only 2.0.
	g := newGenerations(t)
	base := mem.New()
	if _, err := crashEngine(base, g.dbs[0], DefaultSchema()).Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	stop := &stopAt{Fs: base, suffix: "/meta.json", after: 2}
	crashEngine(stop, g.dbs[1], DefaultSchema()).Export(context.Background(), ExportOptions{})
	_ = base.Remove(lock.LockFileName)

	schema := chainSchema("2.0", step12)
	migrate := func(fsys afero.Fs) error {
		_, err := crashEngine(fsys, "", schema).Migrate(context.Background(), MigrateOptions{})
		return err
	}
	allowed := map[string][][]byte{}
	c2, _ := schema.Codecs.Lookup("2.0")
	for folder, datas := range g.datas(1) {
		for _, d := range datas {
			rows, _ := v1.Codec{}.Decode(d)
			allowed[folder] = append(allowed[folder], d, c2.Encode(append(rows[0], "Zentrale")))
		}
	}
	points := countChanges(t, base, false, migrate)
	if points < 15 {
		t.Fatalf("only %d crash points", points)
	}
	for n := range points {
		fsys := crashed(t, base, false, n, migrate)
		checkAfterCrash(t, fsys, schema, allowed)
		// The rerun completes: every backup is 2.0, verify is clean.
		e := crashEngine(fsys, "", schema)
		if r, err := e.Migrate(context.Background(), MigrateOptions{}); err != nil {
			t.Fatalf("crash point %d: migrate rerun: %v\n%s", n, err, problems(r))
		}
		r, err := e.Verify(context.Background(), VerifyOptions{})
		if err != nil || len(r.Problems) > 0 {
			t.Fatalf("crash point %d: verify after the rerun: %v\n%s", n, err, problems(r))
		}
		if again, _ := e.Migrate(context.Background(), MigrateOptions{}); again.OK != 0 || again.Versions["2.0"] != 4 {
			t.Fatalf("crash point %d: not all migrated: %+v", n, again)
		}
	}
}
