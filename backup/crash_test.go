package backup

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/sample"
)

// stopAt is an afero.Fs that fails every Rename onto a name with the given
// suffix after the first `after` of them: a run that stops at that step.
type stopAt struct {
	afero.Fs
	suffix string
	after  int64
	n      atomic.Int64
}

var errStopped = errors.New("simulierter Absturz")

func (s *stopAt) Rename(oldname, newname string) error {
	if strings.HasSuffix(newname, s.suffix) && s.n.Add(1) > s.after {
		return errStopped
	}
	return s.Fs.Rename(oldname, newname)
}

func TestStopBetweenRenamesLeavesAVerifiableArchive(t *testing.T) {
	rows := sample.Rows(10, 5)
	f := newFixture(t, rows)
	f.export(ExportOptions{})

	// The web app changes every row; the next export stops after data.csv
	// was renamed but before meta.json was, for all but 3 records.
	db, err := openWrite(f.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), `UPDATE auftraege SET kunde_name = kunde_name || ' (neu)', updated_at = '2025-01-01T00:00:00'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	mem := f.e.Arch.Fs
	f.e.setFs(&stopAt{Fs: mem, suffix: "/meta.json", after: 3})
	if _, err := f.e.Export(context.Background(), ExportOptions{}); err == nil {
		t.Fatal("export with failing renames succeeded")
	}
	f.e.setFs(mem)

	// verify: no errors, every half-renamed pair is named as a warning.
	r, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true})
	if err != nil || r.OK != 10 {
		t.Fatalf("verify after the stop: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelWarning, "", "meta.tmp.json", "unterbrochen")

	// restore takes the new data.
	f.e.DBPath = f.dir + "/neu.db"
	if _, err := f.e.Restore(context.Background(), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, row := range dbRows(t, f.e.DBPath) {
		if !strings.HasSuffix(row[2], " (neu)") {
			t.Fatalf("restore took an old copy: %v", row)
		}
	}
	// The next export converges: clean verify without warnings.
	f.e.DBPath = f.dir + "/werkstatt.db"
	f.export(ExportOptions{})
	r, err = f.e.Verify(context.Background(), VerifyOptions{WithDB: true})
	if err != nil || len(r.Problems) != 0 {
		t.Fatalf("after the rerun: %v\n%s", err, problems(r))
	}
}

func TestMigrateCompletesHalfRenamedPairs(t *testing.T) {
	f := newFixture(t, sample.Rows(4, 5))
	f.export(ExportOptions{})
	db, err := openWrite(f.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(context.Background(), `UPDATE auftraege SET hash = 'neu'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	mem := f.e.Arch.Fs
	f.e.setFs(&stopAt{Fs: mem, suffix: "/meta.json"})
	f.e.Export(context.Background(), ExportOptions{})
	f.e.setFs(mem)
	r, err := f.e.Migrate(context.Background(), MigrateOptions{})
	if err != nil || r.OK != 4 {
		t.Fatalf("migrate: %v %+v\n%s", err, r, problems(r))
	}
	r, err = f.e.Verify(context.Background(), VerifyOptions{})
	if err != nil || len(r.Problems) != 0 {
		t.Fatalf("verify after migrate: %v\n%s", err, problems(r))
	}
	// Idempotent: nothing left to do.
	if r, _ := f.e.Migrate(context.Background(), MigrateOptions{}); r.OK != 0 {
		t.Fatalf("second migrate rewrote %d", r.OK)
	}
}
