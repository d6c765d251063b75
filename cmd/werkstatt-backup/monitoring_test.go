package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/backup"
	"werkstatt-backup/monitor"
	"werkstatt-backup/notify"
)

func TestMailSubjectAndText(t *testing.T) {
	run := monitor.Run{Command: "export", Site: "nord", Host: "werkstatt-pc", ExitCode: 3, Errors: 0, Warnings: 25,
		Archive: "smb://backup@nas/archiv", Finished: time.Date(2026, 11, 2, 2, 0, 0, 0, time.UTC),
		Summary: "Export abgeschlossen: 2000 erfolgreich, 0 Fehler", Error: "0 Fehler, 25 Datensätze mit Warnungen gesichert"}
	if l := notifyLevel(run); l != notify.LevelWarning {
		t.Fatalf("level %v", l)
	}
	if s := mailSubject(run, notifyLevel(run)); s != "werkstatt-backup: Export mit Warnungen (Standort nord, werkstatt-pc, Exit-Code 3)" {
		t.Errorf("subject %q", s)
	}
	rep := &backup.Report{}
	for i := range 25 {
		rep.Problems = append(rep.Problems, backup.Problem{Level: backup.LevelWarning, RecordID: int64(i + 1), Message: "Feldregel"})
	}
	text := mailText(run, rep, []byte(`{"exit_code": 3}`))
	for _, want := range []string{"Standort:  nord", "Archiv:    smb://backup@nas/archiv", "Exit-Code: 3",
		"WARNING - record_id 20: Feldregel\n… und 5 weitere (siehe Log)", `Bericht (wie mit --json):` + "\n" + `{"exit_code": 3}`} {
		if !strings.Contains(text, want) {
			t.Errorf("mail lacks %q:\n%s", want, text)
		}
	}
	big := []byte(fmt.Sprintf(`{"x": %q}`, strings.Repeat("a", maxMailJSON)))
	if text := mailText(run, nil, big); strings.Contains(text, "aaaa") || !strings.Contains(text, "zu groß für eine Mail") {
		t.Errorf("a big report in a mail:\n%.300s", text)
	}
	run.Errors = 2
	if l := notifyLevel(run); l != notify.LevelError {
		t.Errorf("exit 3 with errors: level %v", l)
	}
}
