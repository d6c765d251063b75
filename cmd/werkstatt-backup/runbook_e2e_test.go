package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/sample"
)

// TestDisasterRecoveryRunbook follows the README's "Disaster recovery
// runbook" step by step, with a local folder where the README has the SMB
// share: a workshop in production with a nightly export, the database lost,
// and every step of the runbook until status reports the nightly export
// healthy again.
func TestDisasterRecoveryRunbook(t *testing.T) {
	const orders = 60
	ctx := context.Background()
	dir := workshop(t, orders) // test_archiv/<JJJJ>/<nr>/…pdf and test_archiv/werkstatt.db
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	// /etc/werkstatt-backup/config.json with paths relative to its folder,
	// the log in its own folder, as the README's set-up has it.
	for _, d := range []string{"etc", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "etc", "config.json")
	if err := os.WriteFile(cfg, []byte(`{
  "db": "../test_archiv/werkstatt.db",
  "archiv": "../test_archiv",
  "log_file": "../log/backup_system.log"
}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cron := t.TempDir() // the working directory of cron and of the admin

	// Production: the nightly export ran and monitoring is green.
	// Under cron stderr is no terminal: no progress bar, nothing at all.
	if r := wb(t, cron, "export", "--config", cfg).expect(t, 0); r.stderr != "" {
		t.Fatalf("stderr under cron: %q", r.stderr)
	}
	wb(t, cron, "status", "--config", cfg).expect(t, 0)
	original := filepath.Join(t.TempDir(), "original.db")
	copyFile(t, db, original)

	// The disaster: the database is gone.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(db + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
	}

	// 1. New system: the binary runs; the web app creates its empty database.
	r := wb(t, cron, "version").expect(t, 0)
	if !strings.HasPrefix(r.stdout, "werkstatt-backup ") {
		t.Fatalf("version: %q", r.stdout)
	}
	if err := sample.CreateDB(ctx, db, nil); err != nil {
		t.Fatal(err)
	}

	// 2. Reach the archive and check it, without any database.
	r = wb(t, cron, "verify", "--config", cfg).expect(t, 0)
	if !strings.Contains(r.stdout, "Verify abgeschlossen: 60 gültig, 0 Fehler") {
		t.Fatalf("step 2, verify:\n%s", r.stdout)
	}

	// 3. Dry run: says what would happen, changes nothing.
	before, _ := os.ReadFile(db)
	wb(t, cron, "restore", "--config", cfg, "--dry-run").expect(t, 0)
	if after, _ := os.ReadFile(db); string(after) != string(before) {
		t.Fatal("step 3: the dry run changed the database")
	}

	// 4. Restore into the empty table: no --force needed.
	r = wb(t, cron, "restore", "--config", cfg).expect(t, 0)
	if !strings.Contains(r.stdout, "Restore abgeschlossen: 60 Datensätze wiederhergestellt, 0 Fehler") {
		t.Fatalf("step 4, restore:\n%s", r.stdout)
	}

	// 5. The database against the archive: nothing missing, stale or orphaned.
	r = wb(t, cron, "verify", "--config", cfg, "--with-db").expect(t, 0)
	if strings.Contains(r.stdout, "WARNING") || strings.Contains(r.stdout, "ERROR") {
		t.Fatalf("step 5, verify --with-db:\n%s", r.stdout)
	}
	if same, err := sameRows(ctx, original, db); err != nil || same != orders {
		t.Fatalf("restored database: %d of %d rows identical with the lost one (%v)", same, orders, err)
	}

	// 6. (The web app starts.)

	// 7. The nightly export resumes: every backup is already up to date,
	// and monitoring is green for the export and shows the restore.
	r = wb(t, cron, "export", "--config", cfg, "--json").expect(t, 0)
	var rep struct{ OK, Written, Unchanged int }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.OK != orders || rep.Written != 0 || rep.Unchanged != orders {
		t.Fatalf("step 7, export: %v %+v", err, rep)
	}
	r = wb(t, cron, "status", "--config", cfg).expect(t, 0)
	if !strings.HasPrefix(r.stdout, "OK: letzter Export erfolgreich") {
		t.Fatalf("step 7, status: %q", r.stdout)
	}
	r = wb(t, cron, "status", "--config", cfg, "--command", "restore", "--max-age", "1h").expect(t, 0)
	if !strings.Contains(r.stdout, "Restore abgeschlossen: 60 Datensätze wiederhergestellt, 0 Fehler") {
		t.Fatalf("step 7, status of the restore: %q", r.stdout)
	}
	// Everything went into the configured log folder, nothing into cron's.
	if entries, _ := os.ReadDir(cron); len(entries) != 0 {
		t.Errorf("files in the working directory: %v", entries)
	}
	for _, f := range []string{"backup_system.log", "last_run.json"} {
		if _, err := os.Stat(filepath.Join(dir, "log", f)); err != nil {
			t.Errorf("log folder: %v", err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
