package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
)

// On a store with Object Lock, export retains the history's files for
// history_lock, verify says until when the newest generation is
// immutable and names files locked too short, forget skips what is still
// locked and says so. Without Object Lock none of it happens.
func TestHistoryOnObjectLock(t *testing.T) {
	ctx := context.Background()
	f, s, clock := objFixture(t, sample.Rows(12, 4), true)
	f.e.HistoryLock = 7 * 24 * time.Hour
	for i := range 10 {
		// every row changes: each generation is a full one, needing no
		// earlier generation, so the old ones' locks can end
		changeRows(t, f, fmt.Sprintf("UPDATE auftraege SET kunde_name = 'Fassung %d'", i))
		f.export(ExportOptions{})
		*clock = clock.Add(24 * time.Hour)
	}
	gens, err := f.e.openHistory(nil).List(ctx)
	if err != nil || len(gens) != 10 {
		t.Fatalf("%d generations, %v", len(gens), err)
	}
	head := gens[len(gens)-1]
	vs := s.Versions(head.File)
	if err := s.DeleteVersion(head.File, vs[len(vs)-1].ID); err == nil {
		t.Fatal("the newest generation's version could be deleted")
	}
	f.log.Reset()
	v, err := f.e.Verify(ctx, VerifyOptions{})
	if err != nil || v.Warnings != 0 {
		t.Fatalf("verify: %v\n%s", err, problems(v))
	}
	want := head.ArchiveTime.Add(7 * 24 * time.Hour)
	if v.HistoryLockedUntil.Before(want) {
		t.Fatalf("verify: history locked until %v, want ≥ %v", v.HistoryLockedUntil, want)
	}
	if !strings.Contains(f.log.String(), fmt.Sprintf("Historie unveränderbar (Object Lock): Generation %d und alles, was sie braucht, bis", head.Seq)) {
		t.Fatalf("verify does not say until when the history is immutable:\n%s", f.log)
	}

	f.log.Reset()
	r, err := f.e.Forget(ctx, ForgetOptions{Policy: history.Retention{Last: 1}})
	if err != nil {
		t.Fatalf("forget on a locked history: %v", err)
	}
	if len(r.Forget.Retained) == 0 || len(r.Forget.Removed) == 0 {
		t.Fatalf("forget removed %d, skipped %v; want some of each", len(r.Forget.Removed), r.Forget.Retained)
	}
	line := fmt.Sprintf("Object Lock: %d Dateien der Historie noch gesperrt", len(r.Forget.Retained))
	if !strings.Contains(f.log.String(), line) || !strings.Contains(f.log.String(), r.Forget.Retained[0]) {
		t.Fatalf("forget does not say what stays locked:\n%s", f.log)
	}
	js, _ := json.Marshal(r)
	if !strings.Contains(string(js), `"retained":["`) {
		t.Fatalf("--json lacks the retained files: %s", js)
	}
	if h := s.Hidden(HistoryDir); len(h) > 0 {
		t.Fatalf("forget hid retained history files behind a delete marker or a new version: %v", h)
	}
	if v, err := f.e.Verify(ctx, VerifyOptions{}); err != nil || v.Warnings != 0 {
		t.Fatalf("verify after forget: %v\n%s", err, problems(v))
	}

	// A lock period raised later: the files written before fall short.
	f.e.HistoryLock = 30 * 24 * time.Hour
	v, _ = f.e.Verify(ctx, VerifyOptions{})
	hasProblem(t, v, LevelWarning, head.File, "Object Lock kürzer als konfiguriert", "30 Tage")
	if c := s.Counts(); c.Retains == 0 {
		t.Fatal("no retention set")
	}
}

func TestHistoryWithoutObjectLock(t *testing.T) {
	ctx := context.Background()
	f, s, clock := objFixture(t, sample.Rows(12, 4), false)
	for i := range 3 {
		changeRows(t, f, fmt.Sprintf("UPDATE auftraege SET kunde_name = 'Fassung %d' WHERE record_id = (SELECT min(record_id) FROM auftraege)", i))
		f.export(ExportOptions{})
		*clock = clock.Add(24 * time.Hour)
	}
	f.log.Reset()
	v, err := f.e.Verify(ctx, VerifyOptions{})
	if err != nil || !v.HistoryLockedUntil.IsZero() || strings.Contains(f.log.String(), "Object Lock") {
		t.Fatalf("verify without Object Lock: %v, locked until %v\n%s", err, v.HistoryLockedUntil, f.log)
	}
	r, err := f.e.Forget(ctx, ForgetOptions{Policy: history.Retention{Last: 1}})
	if err != nil || len(r.Forget.Removed) != 2 || len(r.Forget.Retained) != 0 {
		t.Fatalf("forget without Object Lock: %v, removed %d, retained %v", err, len(r.Forget.Removed), r.Forget.Retained)
	}
	if c := s.Counts(); c.Retains != 0 {
		t.Fatalf("%d retentions set without Object Lock", c.Retains)
	}
}

// A generation whose files cannot be retained is an ERROR of the export,
// which names the history; the backups are written.
func TestHistoryLockFailureIsAnError(t *testing.T) {
	f, _, _ := objFixture(t, sample.Rows(5, 4), true)
	lock := *f.e.Arch.Caps.ObjectLock
	lock.Retain = func(_ context.Context, name string, until time.Time) error {
		return fmt.Errorf("Access Denied für %s", name)
	}
	f.e.ownCaps().ObjectLock = &lock
	r, err := f.e.Export(context.Background(), ExportOptions{})
	if err == nil || r.Written != 5 {
		t.Fatalf("export with a failing Object Lock: %v, %d written", err, r.Written)
	}
	hasProblem(t, r, LevelError, HistoryDir, "nicht für 56 Tage gesperrt", "Access Denied")
}
