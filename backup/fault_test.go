package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/mem"
	"werkstatt-backup/history"
	"werkstatt-backup/lock"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage/faultfs"
	"werkstatt-backup/store"
)

// errorsFor lists the errors injected into each kind of call: what a disk,
// a full disk, a share without rights and a flaky network really return.
func errorsFor(op faultfs.Op) []faultfs.Fault {
	eio := faultfs.Fault{Err: faultfs.EIO}
	switch op {
	case faultfs.OpCreate, faultfs.OpMkdir:
		return []faultfs.Fault{eio, {Err: faultfs.ENOSPC}, {Err: faultfs.EACCES}}
	case faultfs.OpWrite:
		return []faultfs.Fault{{Err: faultfs.ENOSPC}, {Short: true}, {Short: true, Err: faultfs.ENOSPC}, eio}
	case faultfs.OpRename:
		return []faultfs.Fault{eio, {Err: faultfs.EACCES}, {Err: faultfs.ENOSPC}}
	case faultfs.OpRemove:
		return []faultfs.Fault{eio, {Err: faultfs.EACCES}}
	}
	return []faultfs.Fault{eio}
}

// reasonText is how the injected error reads in a message.
func reasonText(f faultfs.Fault) string {
	if f.Err == nil {
		return io.ErrShortWrite.Error()
	}
	return f.Err.Error()
}

// mustFail are the calls whose failure a run may never swallow: each one
// writes something that is part of a backup or of the lock.
var mustFail = map[faultfs.Op]bool{
	faultfs.OpCreate: true, faultfs.OpWrite: true, faultfs.OpSync: true, faultfs.OpRename: true,
	faultfs.OpMkdir: true, faultfs.OpSyncAll: true, faultfs.OpRemove: true,
}

// assertReported checks that a failed run names the failed call's file (or
// its folder) and the reason, in its error or in one of its problems.
func assertReported(t *testing.T, c faultfs.Call, f faultfs.Fault, r *Report, err error) {
	t.Helper()
	texts := []string{err.Error()}
	if r != nil {
		for _, p := range r.Problems {
			texts = append(texts, p.String())
		}
	}
	why := reasonText(f)
	for _, s := range texts {
		if !strings.Contains(s, why) {
			continue
		}
		if c.Name == "." || strings.Contains(s, c.Name) || strings.Contains(s, path.Dir(c.Name)+"/") {
			return
		}
	}
	t.Fatalf("%s with %q: the run does not name the file and the reason:\n%s", c, why, strings.Join(texts, "\n"))
}

// faultyCopy copies base into a new archive and wraps it so that call c
// fails the way kind says; it returns the copy, the fault wrapper and the
// Fs to run on.
func faultyCopy(t *testing.T, base afero.Fs, batch bool, c faultfs.Call, kind faultfs.Fault) (afero.Fs, *faultfs.Fs, afero.Fs) {
	t.Helper()
	f := c.Fault(kind.Err)
	f.Short = kind.Short
	if strings.HasPrefix(c.Name, history.Dir+"/") {
		// A new history file's name holds a random id (a generation's also
		// the time the archive wrote it): fail the same file in the rerun.
		f.Name = historyIDs.ReplaceAllString(c.Name, "*")
	}
	fsys := mem.New()
	if err := faultfs.Copy(fsys, base); err != nil {
		t.Fatal(err)
	}
	ff, wrapped := wrapFault(fsys, batch, f)
	return fsys, ff, wrapped
}

// historyIDs are the parts of a history file's name that differ between
// runs: its random id and a generation's archive time.
var historyIDs = regexp.MustCompile(`[0-9a-f]{32}|[0-9]{8}T[0-9]{6}\.[0-9]{3}Z`)

// recordCalls runs fn once on a recording copy of base and returns its calls.
func recordCalls(t *testing.T, base afero.Fs, batch bool, fn func(afero.Fs) (*Report, error)) []faultfs.Call {
	t.Helper()
	fsys := mem.New()
	if err := faultfs.Copy(fsys, base); err != nil {
		t.Fatal(err)
	}
	rec, wrapped := wrapFault(fsys, batch)
	if r, err := fn(wrapped); err != nil {
		t.Fatalf("run without faults: %v\n%s", err, problems(r))
	}
	return rec.Calls()
}

// TestExportFaultAtEveryStep fails every call of an export in turn (every
// create, write, Sync, Close, rename, remove, mkdir, read and the batched
// SyncAll), with each error such a call really returns. Each run must
// succeed or name the file and the reason; the archive it leaves must pass
// verify (warnings allowed) with each backup old or new, never mixed; and a
// rerun must converge.
func TestExportFaultAtEveryStep(t *testing.T) {
	g := newGenerations(t)
	base := mem.New()
	if _, err := crashEngine(base, g.dbs[0], DefaultSchema()).Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	export := func(fsys afero.Fs) (*Report, error) {
		return crashEngine(fsys, g.dbs[1], DefaultSchema()).Export(context.Background(), ExportOptions{})
	}
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			runs := 0
			for _, c := range recordCalls(t, base, batch, export) {
				for _, kind := range errorsFor(c.Op) {
					fsys, ff, wrapped := faultyCopy(t, base, batch, c, kind)
					r, err := export(wrapped)
					runs++
					if len(ff.Injected()) != 1 {
						t.Fatalf("%s: injected %v", c, ff.Injected())
					}
					switch {
					case err != nil:
						assertReported(t, c, kind, r, err)
					case mustFail[c.Op]:
						t.Fatalf("%s with %q: export succeeded\n%s", c, reasonText(kind), problems(r))
					}
					_ = fsys.Remove(lock.LockFileName) // a failed release leaves it
					checkAfterCrash(t, fsys, DefaultSchema(), g.datas(1))
					checkConverges(t, fsys, g.dbs[1], g.rows[1], runs%12 == 0)
					if t.Failed() {
						t.Fatalf("after %s with %q", c, reasonText(kind))
					}
				}
			}
			t.Logf("%d faulty runs", runs)
		})
	}
}

// TestMigrateFaultAtEveryStep does the same for migrate (1.0 → test-only 2.0).
func TestMigrateFaultAtEveryStep(t *testing.T) {
	g := newGenerations(t)
	base := mem.New()
	if _, err := crashEngine(base, g.dbs[1], DefaultSchema()).Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	schema := chainSchema("2.0", step12)
	migrate := func(fsys afero.Fs) (*Report, error) {
		return crashEngine(fsys, "", schema).Migrate(context.Background(), MigrateOptions{})
	}
	allowed := map[string][][]byte{}
	c2, _ := schema.Codecs.Lookup("2.0")
	for folder, datas := range g.datas(1) {
		for _, d := range datas {
			old, _ := v1Decode(d)
			allowed[folder] = append(allowed[folder], d, c2.Encode(append(old, "Zentrale")))
		}
	}
	runs := 0
	for _, c := range recordCalls(t, base, false, migrate) {
		for _, kind := range errorsFor(c.Op) {
			fsys, _, wrapped := faultyCopy(t, base, false, c, kind)
			r, err := migrate(wrapped)
			runs++
			switch {
			case err != nil:
				assertReported(t, c, kind, r, err)
			case mustFail[c.Op]:
				t.Fatalf("%s with %q: migrate succeeded\n%s", c, reasonText(kind), problems(r))
			}
			_ = fsys.Remove(lock.LockFileName)
			checkAfterCrash(t, fsys, schema, allowed)
			e := crashEngine(fsys, "", schema)
			if r, err := e.Migrate(context.Background(), MigrateOptions{}); err != nil {
				t.Fatalf("after %s: migrate rerun: %v\n%s", c, err, problems(r))
			}
			if r, err := e.Verify(context.Background(), VerifyOptions{}); err != nil || len(r.Problems) > 0 {
				t.Fatalf("after %s: verify after the rerun: %v\n%s", c, err, problems(r))
			}
		}
	}
	t.Logf("%d faulty runs", runs)
}

func v1Decode(d []byte) ([]string, error) {
	rows, err := DefaultSchema().Codecs.Current().Decode(d)
	if err != nil {
		return nil, err
	}
	return rows[0], nil
}

// lostReply is an archive whose renames onto name happen but report EIO,
// as on a share whose reply was lost.
type lostReply struct {
	afero.Fs
	suffix string
}

func (l lostReply) Rename(oldname, newname string) error {
	if err := l.Fs.Rename(oldname, newname); err != nil || !strings.HasSuffix(newname, l.suffix) {
		return err
	}
	return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: syscall.EIO}
}

func TestExportRenameThatHappenedButFailed(t *testing.T) {
	for _, suffix := range []string{"/data.csv", "/meta.json"} {
		t.Run(suffix, func(t *testing.T) {
			g := newGenerations(t)
			fsys := mem.New()
			e := crashEngine(fsys, g.dbs[0], DefaultSchema())
			if _, err := e.Export(context.Background(), ExportOptions{}); err != nil {
				t.Fatal(err)
			}
			e = crashEngine(lostReply{fsys, suffix}, g.dbs[1], DefaultSchema())
			r, err := e.Export(context.Background(), ExportOptions{})
			if err == nil {
				t.Fatal("export succeeded")
			}
			hasProblem(t, r, LevelError, "", "umbenennen", "input/output error")
			checkAfterCrash(t, fsys, DefaultSchema(), g.datas(1))
			checkConverges(t, fsys, g.dbs[1], g.rows[1], true)
		})
	}
}

// faultDB is a Database whose method fail fails, or whose rows fail after
// rows rows when fail is "rows".
type faultDB struct {
	Database
	path string
	fail string
	rows int
}

var errDB = errors.New("disk I/O error (simuliert)")

func (d *faultDB) BackupTo(ctx context.Context, dest string) error {
	if d.fail == "BackupTo" {
		return errDB
	}
	return d.Database.BackupTo(ctx, dest)
}

func (d *faultDB) Replace(ctx context.Context, def store.TableDef, rows iter.Seq2[[]string, error]) (int, error) {
	switch d.fail {
	case "Replace":
		return 0, errDB
	case "rows":
		rows = failAfter(rows, d.rows)
	}
	return d.Database.Replace(ctx, def, rows)
}

func (d *faultDB) IntegrityCheck(ctx context.Context) error {
	if d.fail == "IntegrityCheck" {
		return fmt.Errorf("Integritätsprüfung %s: %w", d.path, errDB) // as store words it
	}
	return d.Database.IntegrityCheck(ctx)
}

func (d *faultDB) Count(ctx context.Context, table string) (int, error) {
	if d.fail == "Count" {
		return 0, errDB
	}
	return d.Database.Count(ctx, table)
}

// failAfter yields n rows of rows, then an error.
func failAfter(rows iter.Seq2[[]string, error], n int) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		i := 0
		for r, err := range rows {
			if i == n {
				yield(nil, errDB)
				return
			}
			i++
			if !yield(r, err) {
				return
			}
		}
	}
}

// TestRestoreDatabaseFaults fails each step of restore on the database side,
// and the row stream at several points (also past an INSERT batch): the
// database stays byte-identical whenever nothing was committed.
func TestRestoreDatabaseFaults(t *testing.T) {
	old := sample.Rows(30, 3)
	rows := sample.Rows(260, 4) // more than one INSERT batch of 200
	archive := mem.New()
	dir := t.TempDir()
	src := filepath.Join(dir, "quelle.db")
	if err := sample.CreateDB(context.Background(), src, rows); err != nil {
		t.Fatal(err)
	}
	if _, err := crashEngine(archive, src, DefaultSchema()).Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		fail      string
		rows      int
		committed bool // the fault strikes after the commit
	}{
		{"openWrite", 0, false}, {"Count", 0, false}, {"BackupTo", 0, false}, {"Replace", 0, false},
		{"rows", 0, false}, {"rows", 1, false}, {"rows", 200, false}, {"rows", 201, false}, {"rows", 259, false},
		{"IntegrityCheck", 0, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s-%d", tc.fail, tc.rows), func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "werkstatt.db")
			if err := sample.CreateDB(context.Background(), db, old); err != nil {
				t.Fatal(err)
			}
			before := fileBytes(t, db)
			e := crashEngine(archive, db, DefaultSchema())
			e.Open = func(ctx context.Context, p string, write bool) (Database, error) {
				if write && tc.fail == "openWrite" {
					return nil, fmt.Errorf("Datenbank %s öffnen: %w", p, errDB)
				}
				d, err := OpenStore(ctx, p, write)
				if err != nil {
					return nil, err
				}
				return &faultDB{Database: d, path: p, fail: tc.fail, rows: tc.rows}, nil
			}
			r, err := e.Restore(context.Background(), RestoreOptions{Force: true})
			if err == nil || !strings.Contains(err.Error(), errDB.Error()) {
				t.Fatalf("restore: %v\n%s", err, problems(r))
			}
			if !strings.Contains(err.Error()+problems(r), db) {
				t.Errorf("error does not name the database: %v", err)
			}
			if _, err := os.Stat(db + "-journal"); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("journal left behind: %v", err)
			}
			switch got := fileBytes(t, db); {
			case tc.committed:
				if n := len(dbRows(t, db)); n != len(rows) {
					t.Fatalf("committed restore holds %d rows", n)
				}
			case !bytes.Equal(got, before):
				t.Fatalf("database changed by a failed restore (%d → %d bytes)", len(before), len(got))
			}
			checkIntegrity(t, db)
		})
	}
}

// checkIntegrity runs PRAGMA integrity_check on the database at p.
func checkIntegrity(t *testing.T, p string) {
	t.Helper()
	db, err := store.OpenWrite(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreArchiveFaultAtEveryStep fails every call restore makes on the
// archive (reads of every file and folder, the lock): a
// strict restore refuses, names the file and the reason, and leaves the
// database byte-identical; only a failure after the commit (releasing the
// lock) may leave the restored table, and it is reported.
func TestRestoreArchiveFaultAtEveryStep(t *testing.T) {
	g := newGenerations(t)
	archive := mem.New()
	if _, err := crashEngine(archive, g.dbs[1], DefaultSchema()).Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "werkstatt.db")
	if err := sample.CreateDB(context.Background(), db, g.rows[0]); err != nil {
		t.Fatal(err)
	}
	before := fileBytes(t, db)
	engine := func(fsys afero.Fs) *Engine {
		e := crashEngine(fsys, db, DefaultSchema())
		e.Open = OpenStore // this database changes
		return e
	}
	restore := func(fsys afero.Fs) (*Report, error) {
		return engine(fsys).Restore(context.Background(), RestoreOptions{Force: true, DryRun: true})
	}
	runs := 0
	for _, c := range recordCalls(t, archive, false, restore) {
		if c.Name == history.Dir {
			continue // listed by the walk and skipped: plain restore does not need the history
		}
		for _, kind := range errorsFor(c.Op)[:1] {
			fsys := mem.New()
			if err := faultfs.Copy(fsys, archive); err != nil {
				t.Fatal(err)
			}
			_, wrapped := wrapFault(fsys, false, c.Fault(kind.Err))
			r, err := engine(wrapped).Restore(context.Background(), RestoreOptions{Force: true})
			runs++
			restored := !bytes.Equal(fileBytes(t, db), before)
			switch {
			case err == nil && c.Op != faultfs.OpClose && c.Op != faultfs.OpStat:
				t.Fatalf("%s: restore succeeded despite %v", c, kind.Err)
			case err != nil:
				assertReported(t, c, kind, r, err)
				if restored && !strings.Contains(err.Error(), lock.LockFileName) {
					t.Fatalf("%s: database changed by a failed restore: %v", c, err)
				}
			}
			if restored {
				if got := dbRows(t, db); !slices.EqualFunc(got, g.rows[1], slices.Equal) {
					t.Fatalf("%s: database neither old nor restored", c)
				}
				if err := os.WriteFile(db, before, 0o644); err != nil {
					t.Fatal(err)
				}
			} else if m, _ := filepath.Glob(db + ".bak-*"); len(m) > 0 {
				t.Fatalf("%s: a copy was made although nothing was restored: %v", c, m)
			}
			for _, m := range must(filepath.Glob(db + ".bak-*")) {
				os.Remove(m)
			}
		}
	}
	t.Logf("%d faulty runs", runs)
}
