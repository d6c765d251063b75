package main

import (
	"bytes"
	"strings"
	"testing"

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
