package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/store"
)

// badDates adds n rows whose datum a person typed the German way: each is
// backed up all the same and reported as a warning (export exits 3).
func badDates(t *testing.T, dbPath string, n int) {
	t.Helper()
	db, err := store.OpenWrite(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range n {
		nr := fmt.Sprintf("%06d", 900000+i)
		q := fmt.Sprintf(`INSERT INTO auftraege (record_id, auftrag_nr, kunde_name, datum, file_path, data_complete, created_at, updated_at)
			VALUES (%d, '%s', 'Warnung', '01.02.2023', 'test_archiv/2023/%s/%s_Auftrag.pdf', 1, '2023-02-01', '2023-02-01')`, 90000+i, nr, nr, nr)
		if err := db.Exec(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStatusWarningsAreNotFailures: an export that backed up every row but
// found rows breaking a field rule ends with exit 3; status calls that "OK
// mit Warnungen" (exit 0) unless --strict, and export --quiet names the
// orders concerned, ten at most, then how many more.
func TestStatusWarningsAreNotFailures(t *testing.T) {
	dir := workshop(t, 3)
	badDates(t, filepath.Join(dir, "test_archiv", "werkstatt.db"), 12)
	cfg := sitesConfig(t, map[string]any{
		"db":       filepath.Join(dir, "test_archiv", "werkstatt.db"),
		"archiv":   filepath.Join(dir, "test_archiv"),
		"log_file": filepath.Join(dir, "backup_system.log"),
	})

	r := wb(t, dir, "export", "--config", cfg, "--quiet").expect(t, 3)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[0], "WARNING - record_id 90000: Auftrag 900000 verletzt Feldregeln") ||
		lines[10] != "… und 2 weitere (siehe Log)" {
		t.Fatalf("export --quiet with warnings:\n%s", r.stdout)
	}

	r = wb(t, dir, "status", "--config", cfg).expect(t, 0)
	if !strings.HasPrefix(r.stdout, "OK mit Warnungen: 12; letzter Export am ") || !strings.Contains(r.stdout, "Export abgeschlossen: 15 erfolgreich, 0 Fehler") {
		t.Fatalf("status after an export with warnings: %q", r.stdout)
	}
	if r = wb(t, dir, "status", "--config", cfg, "--quiet").expect(t, 0); r.stdout != "" {
		t.Fatalf("status --quiet: %q", r.stdout)
	}
	r = wb(t, dir, "status", "--config", cfg, "--strict").expect(t, 1)
	if !strings.HasPrefix(r.stdout, "FEHLER (--strict): letzter Export am ") || !strings.Contains(r.stdout, "mit 12 Warnungen") {
		t.Fatalf("status --strict: %q", r.stdout)
	}
	r = wb(t, dir, "status", "--config", cfg, "--json").expect(t, 0)
	if !strings.Contains(r.stdout, `"warnings": 12`) || !strings.Contains(r.stdout, `"ok": true`) {
		t.Fatalf("status --json: %s", r.stdout)
	}

	// A failure stays a failure: the archive is gone.
	if err := os.Rename(filepath.Join(dir, "test_archiv"), filepath.Join(dir, "weg")); err != nil {
		t.Fatal(err)
	}
	wb(t, dir, "export", "--config", cfg, "--db", filepath.Join(dir, "weg", "werkstatt.db")).expect(t, 1)
	r = wb(t, dir, "status", "--config", cfg).expect(t, 1)
	if !strings.HasPrefix(r.stdout, "FEHLER: letzter Export am ") {
		t.Fatalf("status after a failed export: %q", r.stdout)
	}
}

// TestStatusPerArchive: a manual test export into another archive gets its
// own entry in last_run.json; status checks the configured archive, so
// the nightly run's state is neither hidden by a failed test nor faked by
// a good one. An old last_run.json (one entry per command, no archive_id)
// is still read.
func TestStatusPerArchive(t *testing.T) {
	dir := workshop(t, 4)
	cfg := sitesConfig(t, map[string]any{
		"db":       filepath.Join(dir, "test_archiv", "werkstatt.db"),
		"archiv":   filepath.Join(dir, "test_archiv"),
		"log_file": filepath.Join(dir, "backup_system.log"),
	})
	wb(t, dir, "export", "--config", cfg).expect(t, 0)

	// A test export into a folder that does not exist fails.
	wb(t, dir, "export", "--config", cfg, "--archiv", "./probe").expect(t, 1)
	r := wb(t, dir, "status", "--config", cfg).expect(t, 0)
	if !strings.HasPrefix(r.stdout, "OK: letzter Export erfolgreich am ") {
		t.Fatalf("the nightly archive after a failed test export: %q", r.stdout)
	}
	r = wb(t, dir, "status", "--config", cfg, "--archiv", "./probe").expect(t, 1)
	if !strings.HasPrefix(r.stdout, "FEHLER: letzter Export am ") {
		t.Fatalf("status of the test archive: %q", r.stdout)
	}
	// The same archive, named another way, is the same entry.
	wb(t, filepath.Join(dir, "test_archiv"), "status", "--config", cfg, "--archiv", ".").expect(t, 0)

	// A good test export elsewhere does not make a failing nightly
	// archive look healthy.
	if err := os.Mkdir(filepath.Join(dir, "probe"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "test_archiv"), filepath.Join(dir, "weg")); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "weg", "werkstatt.db")
	wb(t, dir, "export", "--config", cfg, "--db", db).expect(t, 1)
	wb(t, dir, "export", "--config", cfg, "--db", db, "--archiv", "./probe").expect(t, 0)
	r = wb(t, dir, "status", "--config", cfg).expect(t, 1)
	if !strings.HasPrefix(r.stdout, "FEHLER: letzter Export am ") {
		t.Fatalf("status of the nightly archive after a good test export: %q", r.stdout)
	}
	// An archive nothing ran in says which ones it knows.
	r = wb(t, dir, "status", "--config", cfg, "--archiv", "./nie").expect(t, 1)
	if !strings.Contains(r.stdout, "noch kein Export protokolliert im Archiv") || !strings.Contains(r.stdout, "probe") {
		t.Fatalf("status of an archive without runs: %q", r.stdout)
	}

	// A status file written before archives were told apart.
	old := `{"runs": [{"command": "export", "archive": "test_archiv", "started": "2026-01-01T02:00:00Z",
	  "finished": "2026-01-01T02:00:05Z", "duration_seconds": 5, "exit_code": 0, "records": 4, "ok": 4,
	  "written": 4, "unchanged": 0, "errors": 0, "warnings": 0,
	  "summary": "Export abgeschlossen: 4 erfolgreich, 0 Fehler", "last_success": "2026-01-01T02:00:05Z"}]}`
	if err := os.WriteFile(filepath.Join(dir, "last_run.json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	r = wb(t, dir, "status", "--config", cfg, "--max-age", "0").expect(t, 0)
	if !strings.HasPrefix(r.stdout, "OK: letzter Export erfolgreich am ") {
		t.Fatalf("status from an old file: %q", r.stdout)
	}
}
