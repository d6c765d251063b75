package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"werkstatt-backup/sample"
)

// TestInterruptedExportLogsNoSummary: an export stopped by a signal halfway
// through its writes returns the interruption and does not log "Export
// abgeschlossen" (which monitoring would read as a finished run).
func TestInterruptedExportLogsNoSummary(t *testing.T) {
	f := newFixture(t, sample.Rows(60, 3))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.e.Workers = 1
	var phases sync.Map
	f.e.Progress = func(phase string, done, total int) {
		phases.Store(phase, true)
		if phase == PhaseWrite && done == 30 {
			cancel() // Strg+C at 50 %
		}
	}
	r, err := f.e.Export(ctx, ExportOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the interruption", err)
	}
	if r.Finished() {
		t.Error("an interrupted export counts as finished")
	}
	if strings.Contains(f.log.String(), "abgeschlossen") {
		t.Errorf("interrupted export logged a summary:\n%s", f.log.String())
	}
	for _, p := range []string{PhaseRead, PhaseWrite} {
		if _, ok := phases.Load(p); !ok {
			t.Errorf("phase %s was not reported", p)
		}
	}
}

// TestAbortedRestoreLogsNoSummary: a restore that refuses because a backup
// is invalid leaves the database alone and does not log "Restore
// abgeschlossen: … wiederhergestellt".
func TestAbortedRestoreLogsNoSummary(t *testing.T) {
	f := newFixture(t, sample.Rows(5, 3))
	f.export(ExportOptions{})
	var folder string
	for _, p := range mustGlob(t, f) {
		folder = p
		break
	}
	f.write(folder+"/"+DataFile, "kaputt\r\n")
	f.e.DBPath = f.dir + "/neu.db"
	f.log.Reset()
	r, err := f.e.Restore(context.Background(), RestoreOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("err = %v, want a validation error", err)
	}
	if r.Finished() {
		t.Error("an aborted restore counts as finished")
	}
	if strings.Contains(f.log.String(), "abgeschlossen") {
		t.Errorf("aborted restore logged a summary:\n%s", f.log.String())
	}
	if got := AbortLine("restore", "x"); got != "Restore abgebrochen: x" {
		t.Errorf("AbortLine = %q", got)
	}
	if got := AbortLine("migrate", "x"); got != "Migration abgebrochen: x" {
		t.Errorf("AbortLine = %q", got)
	}
}

// mustGlob lists the folders holding a data.csv.
func mustGlob(t *testing.T, f *fixture) []string {
	t.Helper()
	files, err := f.e.scanArchive(context.Background(), f.e.newReport("verify"))
	if err != nil || len(files) == 0 {
		t.Fatal(fmt.Sprint("no backups: ", err))
	}
	var dirs []string
	for _, b := range files {
		dirs = append(dirs, b.dir)
	}
	return dirs
}

// TestRestoreReportsItsPhases: restore shows reading the backups and then
// filling the table, each with its own count, instead of sitting at the
// end of the reading while the table is written.
func TestRestoreReportsItsPhases(t *testing.T) {
	f := newFixture(t, sample.Rows(7, 3))
	f.export(ExportOptions{})
	f.e.DBPath = f.dir + "/neu.db"
	var mu sync.Mutex
	last := map[string][2]int{}
	f.e.Progress = func(phase string, done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done > last[phase][0] {
			last[phase] = [2]int{done, total}
		}
	}
	if _, err := f.e.Restore(context.Background(), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{PhaseRead, PhaseWrite} {
		if got := last[p]; got != [2]int{7, 7} {
			t.Errorf("phase %s ended at %d/%d, want 7/7", p, got[0], got[1])
		}
	}
	if last[PhaseList][0] == 0 || last[PhaseList][1] >= 0 {
		t.Errorf("listing the archive: %v, want a count of folders with no known total", last[PhaseList])
	}
}
