package backup

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/faultfs"
)

// headOf loads the newest generation of f's archive.
func headOf(t *testing.T, f *fixture) *history.Snapshot {
	t.Helper()
	snap, err := history.Open(&storage.Archive{Fs: f.fs}).Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// entryData reads the content of recordID in snap from the history.
func entryData(t *testing.T, f *fixture, snap *history.Snapshot, recordID int64) string {
	t.Helper()
	en, ok := snap.Entry(recordID)
	if !ok {
		t.Fatalf("generation %d has no record_id %d", snap.Info.Seq, recordID)
	}
	data, err := history.Open(&storage.Archive{Fs: f.fs}).ReadEntry(context.Background(), en)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestExportRecordsGeneration(t *testing.T) {
	f := newFixture(t, sample.Rows(20, 3))
	r := f.export(ExportOptions{DryRun: true})
	if headOf(t, f) != nil || r.Generation != 0 {
		t.Fatal("a dry run recorded a generation")
	}
	r = f.export(ExportOptions{})
	snap := headOf(t, f)
	if snap == nil || r.Generation != 1 || snap.Info.Seq != 1 || len(snap.Entries) != 20 {
		t.Fatalf("first export: generation %d, head %+v", r.Generation, snap)
	}
	for _, en := range snap.Entries {
		if got, want := entryData(t, f, snap, en.RecordID), f.read(en.Folder+"/data.csv"); got != want {
			t.Fatalf("record_id %d: history holds %q, archive %q", en.RecordID, got, want)
		}
	}
	// An unchanged run records a generation with the same entries.
	r = f.export(ExportOptions{})
	again := headOf(t, f)
	if r.Written != 0 || again.Info.Seq != 2 || again.Info.Changed+again.Info.Added+again.Info.Removed != 0 || len(again.Entries) != 20 {
		t.Fatalf("unchanged export: %+v", again.Info)
	}
}

// A record whose backup could not be written is recorded with what its
// folder still holds, not with the row export failed to write.
func TestExportHistoryRecordsWhatTheArchiveHolds(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002")})
	f.export(ExportOptions{})
	old := f.read("2024/000002/data.csv")
	db, err := openWrite(f.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), "UPDATE auftraege SET kunde_name = 'Neu' WHERE record_id IN (1, 2)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	f.e.use(faultfs.New(archiveOf(f.fs), faultfs.Fault{Op: faultfs.OpCreate, Name: "2024/000002/data.tmp.csv"}).Archive())
	r, err := f.e.Export(context.Background(), ExportOptions{})
	if err == nil {
		t.Fatal("export with a failing write succeeded")
	}
	snap := headOf(t, f)
	if snap.Info.Seq != 2 || r.Generation != 2 {
		t.Fatalf("no second generation: %+v", snap.Info)
	}
	// The failed record's backup was not confirmed: the generation takes
	// the row the run read from the database, never leaves it out.
	if got := entryData(t, f, snap, 2); got == old || !strings.Contains(got, "Neu") {
		t.Fatalf("failed record recorded as %q, want the database's row (the archive still holds %q)", got, old)
	}
	if got := entryData(t, f, snap, 1); !strings.Contains(got, "Neu") || got != f.read("2024/000001/data.csv") {
		t.Fatalf("written record recorded as %q", got)
	}
}

// A history that cannot be written is an ERROR (exit 1), and the backups
// export wrote stay.
func TestExportHistoryFailureKeepsBackups(t *testing.T) {
	f := newFixture(t, sample.Rows(5, 3))
	f.e.use(faultfs.New(archiveOf(f.fs), faultfs.Fault{Op: faultfs.OpCreate, Name: "_historie/gen/*"}).Archive())
	r, err := f.e.Export(context.Background(), ExportOptions{})
	if err == nil || errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "Historie nicht geschrieben") {
		t.Fatalf("err = %v", err)
	}
	hasProblem(t, r, LevelError, HistoryDir, "Historie nicht geschrieben")
	if r.Written != 5 {
		t.Fatalf("written %d", r.Written)
	}
	f.e.use(archiveOf(f.fs))
	if v, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil || v.OK != 5 {
		t.Fatalf("verify after a failed history: %v %+v", err, v)
	}
}

// changeRows runs an UPDATE on the fixture's database.
func changeRows(t *testing.T, f *fixture, sql string) {
	t.Helper()
	db, err := openWrite(f.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

func TestMassChangeGuard(t *testing.T) {
	for _, withHistory := range []bool{true, false} {
		f := newFixture(t, sample.Rows(20, 3))
		f.e.MassChange = DefaultMassChange
		guard := ExportOptions{}
		if r := f.export(guard); r.Written != 20 {
			t.Fatalf("first export of an empty archive refused or short: %+v", r)
		}
		if !withHistory {
			if err := f.fs.RemoveAll(HistoryDir); err != nil {
				t.Fatal(err)
			}
			if err := f.fs.Remove(history.HeadFile); err != nil {
				t.Fatal(err)
			}
		}
		// 6 of 20 = 30 %: refused, nothing written.
		changeRows(t, f, "UPDATE auftraege SET kunde_name = 'X' WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 6)")
		before := snapshotFiles(t, f.fs)
		r, err := f.e.Export(context.Background(), guard)
		if !errors.Is(err, ErrMassChange) || !errors.Is(err, ErrValidation) {
			t.Fatalf("history %v: err = %v", withHistory, err)
		}
		for _, w := range []string{"6 von 20", "--allow-mass-change"} {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("message lacks %q: %v", w, err)
			}
		}
		if after := snapshotFiles(t, f.fs); after != before || r.Written != 0 {
			t.Fatalf("history %v: a refused export changed the archive", withHistory)
		}
		// The flag confirms.
		r = f.export(ExportOptions{AllowMassChange: true})
		if r.Written != 6 {
			t.Fatalf("history %v: confirmed export wrote %d", withHistory, r.Written)
		}
	}
	// Removing rows counts too (with a history).
	f := newFixture(t, sample.Rows(20, 3))
	f.export(ExportOptions{})
	changeRows(t, f, "DELETE FROM auftraege WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 6)")
	f.e.MassChange = 0.25
	if _, err := f.e.Export(context.Background(), ExportOptions{}); !errors.Is(err, ErrMassChange) {
		t.Fatalf("deleting 30 %%: %v", err)
	}
	f.e.MassChange = 0
	if _, err := f.e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatalf("guard off: %v", err)
	}
}

// snapshotFiles renders every file of fsys with its content.
func snapshotFiles(t *testing.T, fsys afero.Fs) string {
	t.Helper()
	var b strings.Builder
	err := afero.Walk(fsys, "/", func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		data, err := afero.ReadFile(fsys, p)
		b.WriteString(p + "\n" + string(data) + "\n")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
