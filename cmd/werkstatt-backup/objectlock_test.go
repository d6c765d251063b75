package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/backup"
)

// forget's text output names what the Object Lock kept: the count and
// the first five files.
func TestPrintForgetRetained(t *testing.T) {
	var buf bytes.Buffer
	a := &app{stdout: &buf}
	files := []string{"g1", "g2", "g3", "g4", "g5", "g6", "g7"}
	a.printForget(&backup.Report{Forget: &backup.ForgetSummary{Policy: "last=1", Retained: files}})
	want := "Object Lock: 7 Dateien der Historie noch gesperrt, bleiben: g1, g2, g3, g4, g5 und 2 weitere\n"
	if !strings.HasSuffix(buf.String(), want) {
		t.Fatalf("output %q, want it to end with %q", buf.String(), want)
	}
	buf.Reset()
	a.printForget(&backup.Report{Forget: &backup.ForgetSummary{Policy: "last=1"}})
	if strings.Contains(buf.String(), "Object Lock") {
		t.Fatalf("Object Lock line without retained files: %q", buf.String())
	}
}

// verify's text output says until when the history is immutable, and
// only on a store with Object Lock.
func TestPrintReportHistoryLock(t *testing.T) {
	var buf bytes.Buffer
	a := &app{stdout: &buf}
	until := time.Date(2027, 1, 24, 2, 0, 0, 0, time.Local)
	a.printReport(&backup.Report{Command: "verify", HistoryLockedUntil: until})
	if want := "Historie unveränderbar (Object Lock) bis 2027-01-24 02:00:00\n"; !strings.Contains(buf.String(), want) {
		t.Fatalf("output %q lacks %q", buf.String(), want)
	}
	buf.Reset()
	a.printReport(&backup.Report{Command: "verify"})
	if strings.Contains(buf.String(), "Object Lock") {
		t.Fatalf("Object Lock line without a lock: %q", buf.String())
	}
}
