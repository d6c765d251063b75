package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportDryRunThroughTheBinary: export --dry-run lists what it would
// write: 20 lines and how many more, all with --verbose; its log line says
// Probelauf, so the seed's `grep "Export abgeschlossen"` does not count it
// as a backup. A real export after damage names the repaired order at
// WARNING in the log and counts it in the summary.
func TestExportDryRunThroughTheBinary(t *testing.T) {
	dir := workshop(t, 30)
	seed := []string{"--db", "./test_archiv/werkstatt.db", "--archiv", "./test_archiv"}
	logFile := filepath.Join(dir, "backup_system.log")

	r := wb(t, dir, append([]string{"export", "--dry-run"}, seed...)...).expect(t, 0)
	if !strings.Contains(r.stdout, "Probelauf, der Export würde:\n") || strings.Count(r.stdout, "\n  neu schreiben ") != 20 ||
		!strings.Contains(r.stdout, "… und 10 weitere (alle mit --verbose oder --json)") {
		t.Fatalf("dry run list:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "Export-Probelauf beendet, nichts geschrieben: 30 Aufträge, würde 30 neu schreiben") {
		t.Fatalf("dry run summary:\n%s", r.stdout)
	}
	r = wb(t, dir, append([]string{"export", "--dry-run", "--verbose"}, seed...)...).expect(t, 0)
	if strings.Count(r.stdout, "\n  neu schreiben ") != 30 || strings.Contains(r.stdout, "weitere") {
		t.Fatalf("dry run --verbose:\n%s", r.stdout)
	}
	log, _ := os.ReadFile(logFile)
	if strings.Contains(string(log), "Export abgeschlossen") || !strings.Contains(string(log), "INFO - Export-Probelauf beendet") {
		t.Fatalf("log of dry runs:\n%s", log)
	}

	wb(t, dir, append([]string{"export"}, seed...)...).expect(t, 0)
	var damaged string
	filepath.Walk(filepath.Join(dir, "test_archiv"), func(p string, fi os.FileInfo, err error) error {
		if damaged == "" && err == nil && fi.Name() == "data.csv" {
			damaged = p
		}
		return nil
	})
	b, _ := os.ReadFile(damaged)
	os.WriteFile(damaged, append(b, "x"...), 0o644)
	folder, _ := filepath.Rel(filepath.Join(dir, "test_archiv"), filepath.Dir(damaged))
	r = wb(t, dir, append([]string{"export"}, seed...)...).expect(t, 0)
	if !strings.Contains(r.stdout, "Export abgeschlossen: 30 erfolgreich, 0 Fehler, 1 Sicherung repariert") {
		t.Fatalf("export after damage:\n%s", r.stdout)
	}
	log, _ = os.ReadFile(logFile)
	if !strings.Contains(string(log), "WARNING - "+filepath.ToSlash(folder)+": Sicherung von Auftrag "+filepath.Base(folder)+" repariert: data.csv verändert oder beschädigt") {
		t.Fatalf("log:\n%s", log)
	}
}
