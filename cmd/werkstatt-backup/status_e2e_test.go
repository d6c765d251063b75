package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
	"werkstatt-backup/monitor"
)

// TestStatusExitCodes walks through what an admin's check sees: nothing
// yet, a fresh success, a success grown too old, a failure (keeping the
// time of the last success), and wrong invocations.
func TestStatusExitCodes(t *testing.T) {
	dir := workshop(t, 5)
	seed := []string{"--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv"}

	r := wb(t, dir, "status").expect(t, 1)
	if !strings.Contains(r.stdout, "FEHLER: noch kein Export protokolliert") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("status before any run: %q", r.stdout)
	}

	wb(t, dir, append([]string{"export"}, seed...)...).expect(t, 0)
	r = wb(t, dir, "status").expect(t, 0)
	if !strings.HasPrefix(r.stdout, "OK: letzter Export erfolgreich am ") || !strings.Contains(r.stdout, "Export abgeschlossen: 5 erfolgreich, 0 Fehler") {
		t.Fatalf("status after export: %q", r.stdout)
	}
	wb(t, dir, "status", "--max-age", "8d").expect(t, 0)
	wb(t, dir, "status", "--max-age", "0").expect(t, 0)
	time.Sleep(20 * time.Millisecond)
	r = wb(t, dir, "status", "--max-age", "10ms").expect(t, 1)
	if !strings.Contains(r.stdout, "älter als") {
		t.Fatalf("too old: %q", r.stdout)
	}
	r = wb(t, dir, "status", "--command", "verify").expect(t, 1)
	if !strings.Contains(r.stdout, "noch kein Verify protokolliert") {
		t.Fatalf("verify never ran: %q", r.stdout)
	}
	// --quiet prints nothing when all is well.
	if r = wb(t, dir, "status", "--quiet").expect(t, 0); r.stdout != "" {
		t.Fatalf("--quiet: %q", r.stdout)
	}
	// A dry run changes nothing and is not recorded.
	wb(t, dir, append([]string{"export", "--dry-run"}, seed...)...).expect(t, 0)

	// The next export cannot get the lock: status fails and remembers the
	// last success.
	archive := afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(dir, "test_archiv"))
	held, err := lock.AcquireLock(context.Background(), localArchive(archive), lock.LockOptions{Operation: "verify", Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	wb(t, dir, append([]string{"export", "--lock-timeout", "0s"}, seed...)...).expect(t, 4)
	held.Release()
	r = wb(t, dir, "status").expect(t, 1)
	if !strings.Contains(r.stdout, "fehlgeschlagen, Exit-Code 4: ") || !strings.Contains(r.stdout, "letzter Erfolg: ") {
		t.Fatalf("status after a failed export: %q", r.stdout)
	}
	r = wb(t, dir, "status", "--json").expect(t, 1)
	var v struct {
		OK      bool   `json:"ok"`
		Reason  string `json:"reason"`
		File    string `json:"status_file"`
		LastRun struct {
			ExitCode    int        `json:"exit_code"`
			LastSuccess *time.Time `json:"last_success"`
		} `json:"last_run"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.OK || v.LastRun.ExitCode != 4 || v.LastRun.LastSuccess == nil || v.File != "last_run.json" {
		t.Fatalf("--json: %v %+v\n%s", err, v, r.stdout)
	}

	// Wrong invocations are usage errors.
	wb(t, dir, "status", "--command", "backup").expect(t, 2)
	wb(t, dir, "status", "--max-age", "morgen").expect(t, 2)
	wb(t, dir, "status", "--site", "x", "--all-sites").expect(t, 2)

	// A damaged status file is a failed check with a reason, not a crash.
	os.WriteFile(filepath.Join(dir, monitor.StatusFileName), []byte("{"), 0o644)
	r = wb(t, dir, "status").expect(t, 1)
	if !strings.Contains(r.stdout, "Statusdatei unlesbar") {
		t.Fatalf("damaged file: %q", r.stdout)
	}
}

// TestStatusAndMetricsPerSite: with --all-sites every site gets its own
// entry in last_run.json and its own series in the metrics file; one
// failing site is named by status and leaves the others healthy.
func TestStatusAndMetricsPerSite(t *testing.T) {
	zentrale, nord := workshop(t, 6), workshop(t, 4)
	var cfg string
	cfg = sitesConfig(t, map[string]any{
		"log_file":     "werkstatt.log",
		"metrics_file": "prom/werkstatt_backup.prom",
		"sites": []map[string]any{
			{"name": "zentrale", "db": filepath.Join(zentrale, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(zentrale, "test_archiv")},
			{"name": "nord", "db": filepath.Join(nord, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(nord, "test_archiv")},
		},
	})
	cfgDir := filepath.Dir(cfg)
	if err := os.Mkdir(filepath.Join(cfgDir, "prom"), 0o755); err != nil {
		t.Fatal(err)
	}
	elsewhere := t.TempDir() // cron's working directory
	wb(t, elsewhere, "export", "--config", cfg, "--all-sites").expect(t, 0)
	r := wb(t, elsewhere, "status", "--config", cfg, "--all-sites").expect(t, 0)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "Standort zentrale: OK: letzter Export (Standort zentrale) erfolgreich") ||
		!strings.HasPrefix(lines[1], "Standort nord: OK: ") {
		t.Fatalf("status --all-sites:\n%s", r.stdout)
	}
	// Without a site, status points to the sites it knows.
	r = wb(t, elsewhere, "status", "--config", cfg).expect(t, 1)
	if !strings.Contains(r.stdout, "vorhanden für: nord, zentrale") {
		t.Fatalf("status without a site: %q", r.stdout)
	}

	// nord's archive disappears (a NAS that is off).
	if err := os.Rename(filepath.Join(nord, "test_archiv"), filepath.Join(nord, "weg")); err != nil {
		t.Fatal(err)
	}
	wb(t, elsewhere, "export", "--config", cfg, "--all-sites").expect(t, 1)
	r = wb(t, elsewhere, "status", "--config", cfg, "--all-sites").expect(t, 1)
	if !strings.Contains(r.stdout, "Standort zentrale: OK") || !strings.Contains(r.stdout, "Standort nord: FEHLER: letzter Export (Standort nord) am") {
		t.Fatalf("status after nord failed:\n%s", r.stdout)
	}
	wb(t, elsewhere, "status", "--config", cfg, "--site", "zentrale").expect(t, 0)
	wb(t, elsewhere, "status", "--config", cfg, "--site", "nord").expect(t, 1)

	state, err := monitor.Load(filepath.Join(cfgDir, monitor.StatusFileName))
	if err != nil {
		t.Fatal(err)
	}
	if n := state.Find("export", "nord"); n == nil || n.ExitCode != 1 || n.LastSuccess == nil || !strings.Contains(n.Error, "test_archiv") {
		t.Fatalf("nord's entry: %+v", n)
	}

	prom, err := os.ReadFile(filepath.Join(cfgDir, "prom", "werkstatt_backup.prom"))
	if err != nil {
		t.Fatal(err)
	}
	// Each series names its archive: nord's is the folder that went away.
	nordArchive := regexp.QuoteMeta(filepath.Join(nord, "test_archiv"))
	sample := regexp.MustCompile(`(?m)^werkstatt_backup_last_success_timestamp_seconds\{command="export",site="nord",archive="` + nordArchive + `"\} (\d+(\.\d+)?)$`)
	if m := sample.FindSubmatch(prom); m == nil || string(m[1]) == "0" {
		t.Errorf("nord's last success lost:\n%s", prom)
	}
	for _, want := range []string{
		`(?m)^werkstatt_backup_last_exit_code\{command="export",site="nord",archive="` + nordArchive + `"\} 1$`,
		`(?m)^werkstatt_backup_last_exit_code\{command="export",site="zentrale",archive="[^"]+"\} 0$`,
		`(?m)^werkstatt_backup_records\{command="export",site="zentrale",archive="[^"]+"\} 6$`,
		`(?m)^# TYPE werkstatt_backup_duration_seconds gauge$`,
	} {
		if !regexp.MustCompile(want).Match(prom) {
			t.Errorf("metrics lack %q:\n%s", want, prom)
		}
	}
	// Nothing but the .prom file in the collector's folder.
	if entries, _ := os.ReadDir(filepath.Join(cfgDir, "prom")); len(entries) != 1 {
		t.Errorf("collector folder: %v", entries)
	}
}
