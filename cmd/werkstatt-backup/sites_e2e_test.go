package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
)

// sitesConfig writes a config file into its own folder, naming the sites'
// databases and archives relative to that folder, and returns its path.
func sitesConfig(t *testing.T, doc map[string]any) string {
	t.Helper()
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "werkstatt.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rel is target relative to the folder of the config file cfg.
func rel(t *testing.T, cfg, target string) string {
	t.Helper()
	r, err := filepath.Rel(filepath.Dir(cfg), target)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// siteLines returns the "Standort …" summary lines of stdout.
func siteLines(stdout string) []string {
	var lines []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "Standort ") {
			lines = append(lines, l)
		}
	}
	return lines
}

func expectLines(t *testing.T, r result, want ...string) {
	t.Helper()
	got := siteLines(r.stdout)
	if len(got) != len(want) {
		t.Fatalf("site lines:\n%s\nwant:\n%s\nstdout:\n%s\nstderr:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), r.stdout, r.stderr)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("line %d:\n got  %q\n want %q…", i, got[i], want[i])
		}
	}
}

// TestAllSites runs the commands for a config of four sites: two local
// workshops, one whose database is missing (on an in-memory archive), and
// one in-memory archive. The config lives in its own folder with relative
// paths, and the binary runs from yet another folder, as cron would.
func TestAllSites(t *testing.T) {
	zentrale, nord := workshop(t, 6), workshop(t, 4)
	var cfg string
	cfg = sitesConfig(t, map[string]any{
		"log_file":     "werkstatt.log",
		"lock_timeout": "400ms",
		"workers":      4,
		"sites": []map[string]any{
			{"name": "zentrale", "db": filepath.Join(zentrale, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(zentrale, "test_archiv")},
			{"name": "sued", "db": "./sued/fehlt.db", "archiv": "mem://sued"},
			{"name": "nord", "db": filepath.Join(nord, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(nord, "test_archiv")},
			{"name": "lager", "db": filepath.Join(zentrale, "test_archiv", "werkstatt.db"), "archiv": "mem://lager"},
		},
	})
	// Now the same with paths relative to the config file.
	b, _ := os.ReadFile(cfg)
	b = bytes.ReplaceAll(b, []byte(`"`+zentrale), []byte(`"`+rel(t, cfg, zentrale)))
	b = bytes.ReplaceAll(b, []byte(`"`+nord), []byte(`"`+rel(t, cfg, nord)))
	if bytes.Contains(b, []byte(`"/`)) {
		t.Fatalf("config still has absolute paths:\n%s", b)
	}
	os.WriteFile(cfg, b, 0o644)
	elsewhere := t.TempDir()
	logPath := filepath.Join(filepath.Dir(cfg), "werkstatt.log")

	// Export: sued fails (exit 1), the run goes on with nord and lager.
	r := wb(t, elsewhere, "export", "--config", cfg, "--all-sites").expect(t, 1)
	expectLines(t, r,
		"Standort zentrale: Export abgeschlossen: 6 erfolgreich, 0 Fehler (Exit-Code 0)",
		"Standort sued: Fehler: Export abgebrochen: Datenbank ",
		"Standort nord: Export abgeschlossen: 4 erfolgreich, 0 Fehler (Exit-Code 0)",
		"Standort lager: Export abgeschlossen: 6 erfolgreich, 0 Fehler (Exit-Code 0)",
	)
	if l := siteLines(r.stdout)[1]; !strings.Contains(l, filepath.Join(filepath.Dir(cfg), "sued", "fehlt.db")) || !strings.HasSuffix(l, "(Exit-Code 1)") {
		t.Errorf("sued line: %q", l)
	}
	if !strings.Contains(r.stdout, "[zentrale] Export abgeschlossen: 6 erfolgreich") {
		t.Errorf("per-site report missing:\n%s", r.stdout)
	}
	if stderr := strings.TrimSpace(r.stderr); strings.Count(stderr, "\n") != 0 || !strings.HasPrefix(stderr, "werkstatt-backup: Standort sued: Export abgebrochen: Datenbank") {
		t.Errorf("stderr should name the one failing site: %q", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(elsewhere, "backup_system.log")); err == nil {
		t.Error("log written into the working directory, not beside the config")
	}

	// Damage a backup of nord: verify exits 3 for it, and still checks lager
	// after it. The fresh mem:// archives hold no backup: exit 1 (the worst).
	csvs, _ := filepath.Glob(filepath.Join(nord, "test_archiv", "*", "*", "data.csv"))
	data, _ := os.ReadFile(csvs[0])
	os.WriteFile(csvs[0], bytes.Replace(data, []byte(","), []byte(";"), 1), 0o644)
	victim, _ := filepath.Rel(filepath.Join(nord, "test_archiv"), csvs[0])
	r = wb(t, elsewhere, "verify", "--config", cfg, "--all-sites").expect(t, 1)
	expectLines(t, r,
		"Standort zentrale: Verify abgeschlossen: 6 gültig, 0 Fehler (6 Ordner: 6 gültig, 0 ungültig, 0 nicht lesbar, 0 Duplikate) (Exit-Code 0)",
		"Standort sued: Fehler: Verify abgebrochen: Archiv mem://sued: kein einziger Auftragsordner", // a fresh mem:// archive holds no backup
		"Standort nord: Verify abgeschlossen: 3 gültig, 1 Fehler (4 Ordner: 3 gültig, 1 ungültig, 0 nicht lesbar, 0 Duplikate) (Exit-Code 3)",
		"Standort lager: Fehler: Verify abgebrochen: Archiv mem://lager: kein einziger Auftragsordner",
	)
	if !strings.Contains(r.stdout, "[nord] ERROR - "+victim+": Checksumme ungültig") {
		t.Errorf("problem not named with its site:\n%s", r.stdout)
	}
	// --quiet: only the failing sites.
	r = wb(t, elsewhere, "verify", "--config", cfg, "--all-sites", "-q").expect(t, 1)
	expectLines(t, r,
		"Standort sued: Fehler: Verify abgebrochen: Archiv mem://sued: kein einziger Auftragsordner",
		"Standort nord: Verify abgeschlossen: 3 gültig, 1 Fehler (4 Ordner: 3 gültig, 1 ungültig, 0 nicht lesbar, 0 Duplikate) (Exit-Code 3)",
		"Standort lager: Fehler: Verify abgebrochen: Archiv mem://lager: kein einziger Auftragsordner",
	)

	// Each site locks its own archive: with zentrale's held by someone
	// else, zentrale gives up (4), nord still runs. Worst: 3 < 4 < 1.
	held, err := lock.AcquireLock(context.Background(), localArchive(afero.NewBasePathFs(afero.NewOsFs(), filepath.Join(zentrale, "test_archiv"))),
		lock.LockOptions{Operation: "export", Version: "test", Refresh: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r = wb(t, elsewhere, "verify", "--config", cfg, "--all-sites").expect(t, 1)
	held.Release()
	expectLines(t, r,
		"Standort zentrale: Fehler: ",
		"Standort sued: Fehler: Verify abgebrochen: Archiv mem://sued: kein einziger Auftragsordner", // a fresh mem:// archive holds no backup
		"Standort nord: Verify abgeschlossen: 3 gültig, 1 Fehler (4 Ordner: 3 gültig, 1 ungültig, 0 nicht lesbar, 0 Duplikate) (Exit-Code 3)",
		"Standort lager: Fehler: Verify abgebrochen: Archiv mem://lager: kein einziger Auftragsordner",
	)
	if l := siteLines(r.stdout)[0]; !strings.HasSuffix(l, "(Exit-Code 4)") || !strings.Contains(l, "Lock") {
		t.Errorf("zentrale line: %q", l)
	}

	// --json: one report for all sites.
	r = wb(t, elsewhere, "verify", "--config", cfg, "--all-sites", "--json").expect(t, 1)
	var rep struct {
		Command  string `json:"command"`
		ExitCode int    `json:"exit_code"`
		Sites    []struct {
			Site     string `json:"site"`
			ExitCode int    `json:"exit_code"`
			Error    string `json:"error"`
			Report   *struct {
				Site   string `json:"site"`
				OK     int    `json:"ok"`
				Errors int    `json:"errors"`
			} `json:"report"`
		} `json:"sites"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if rep.Command != "verify" || rep.ExitCode != 1 || len(rep.Sites) != 4 {
		t.Fatalf("--json: %+v", rep)
	}
	for i, want := range []struct {
		site     string
		code, ok int
	}{{"zentrale", 0, 6}, {"sued", 1, 0}, {"nord", 3, 3}, {"lager", 1, 0}} {
		s := rep.Sites[i]
		if s.Site != want.site || s.ExitCode != want.code || s.Report == nil || s.Report.Site != want.site || s.Report.OK != want.ok {
			t.Errorf("--json site %d: %+v %+v", i, s, s.Report)
		}
	}

	// Every log line names its site: werkstatt_backup.<site>.
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	loggerName := regexp.MustCompile(`^\S+ \S+ - (\S+) - `)
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		if !logLine.MatchString(l) {
			t.Fatalf("log line not in the seed's format: %q", l)
		}
		names[loggerName.FindStringSubmatch(l)[1]]++
	}
	for name := range names {
		if !slices.Contains([]string{"werkstatt_backup.zentrale", "werkstatt_backup.sued", "werkstatt_backup.nord", "werkstatt_backup.lager"}, name) {
			t.Errorf("log line of logger %q", name)
		}
	}
	for _, want := range []string{
		"werkstatt_backup.zentrale - INFO - Export abgeschlossen: 6 erfolgreich, 0 Fehler",
		"werkstatt_backup.sued - ERROR - Export abgebrochen: Datenbank ",
		"werkstatt_backup.nord - INFO - Export abgeschlossen: 4 erfolgreich, 0 Fehler",
		"werkstatt_backup.nord - ERROR - " + victim + ": Checksumme ungültig",
		"werkstatt_backup.lager - ERROR - Verify abgebrochen: Archiv mem://lager: kein einziger Auftragsordner",
	} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q", want)
		}
	}

	// One site by name, in any case; an unknown one lists the known ones.
	r = wb(t, elsewhere, "verify", "--config", cfg, "--site", "NORD").expect(t, 3)
	if !strings.Contains(r.stdout, "[nord] Verify abgeschlossen: 3 gültig, 1 Fehler") || len(siteLines(r.stdout)) != 0 {
		t.Errorf("--site NORD:\n%s", r.stdout)
	}
	r = wb(t, elsewhere, "verify", "--config", cfg, "--site", "west").expect(t, 2)
	if !strings.Contains(r.stderr, `"west" unbekannt (bekannt: zentrale, sued, nord, lager)`) {
		t.Errorf("unknown site: %q", r.stderr)
	}
	r = wb(t, elsewhere, "verify", "--config", cfg, "--site", "nord", "--all-sites").expect(t, 2)
	if !strings.Contains(r.stderr, "--all-sites") {
		t.Errorf("--site with --all-sites: %q", r.stderr)
	}
	// A db or archiv from a flag or the environment would hit every site.
	for _, c := range []struct {
		env  []string
		args []string
		msg  string
	}{
		{nil, []string{"--archiv", "mem://x"}, "Konfiguration: --archiv: gälte für alle Standorte"},
		{nil, []string{"--db", "x.db"}, "Konfiguration: --db: gälte für alle Standorte"},
		{[]string{"ARCHIV_ARCHIV=mem://x"}, nil, "Konfiguration: ARCHIV_ARCHIV: gälte für alle Standorte"},
		{[]string{"ARCHIV_DB=x.db"}, nil, "Konfiguration: ARCHIV_DB: gälte für alle Standorte"},
	} {
		args := append([]string{"restore", "--config", cfg, "--all-sites"}, c.args...)
		r = wbEnv(t, elsewhere, c.env, args...).expect(t, 2)
		if !strings.Contains(r.stderr, c.msg) || len(siteLines(r.stdout)) != 0 {
			t.Errorf("%v %v: %q", c.env, c.args, r.stderr)
		}
	}
	// Without --site, the top level has no archiv: the error names the sites.
	r = wb(t, elsewhere, "verify", "--config", cfg).expect(t, 2)
	if !strings.Contains(r.stderr, "archiv: nicht gesetzt") || !strings.Contains(r.stderr, "--all-sites") {
		t.Errorf("no site chosen: %q", r.stderr)
	}
}

// TestAllSitesNeedsSites: --all-sites without sites in the config is a
// configuration error.
func TestAllSitesNeedsSites(t *testing.T) {
	dir := workshop(t, 1)
	os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(`{"archiv": "./test_archiv"}`), 0o644)
	r := wb(t, dir, "verify", "--all-sites").expect(t, 2)
	if !strings.Contains(r.stderr, ".archiv_config.json: --all-sites") {
		t.Errorf("stderr: %q", r.stderr)
	}
	r = wb(t, t.TempDir(), "verify", "--all-sites").expect(t, 2)
	if !strings.Contains(r.stderr, "--all-sites") {
		t.Errorf("stderr: %q", r.stderr)
	}
}

// TestWorse: the worst code of --all-sites ranks 130 > 2 > 1 > 4 > 3 > 0.
func TestWorse(t *testing.T) {
	order := []int{exitOK, exitValidation, exitLock, exitError, exitUsage, exitInterrupt}
	for i, a := range order {
		for j, b := range order {
			want := order[max(i, j)]
			if got := worse(a, b); got != want {
				t.Errorf("worse(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
	}
	if got := exitCode(silentError{siteFailure{code: exitLock, failed: 1, total: 2}}); got != exitLock {
		t.Errorf("exit code of --all-sites = %d, want the worst site's", got)
	}
}

// TestAllSitesInterrupted: once interrupted, the remaining sites are not
// started; each still gets its line, and the exit code is 130.
func TestAllSitesInterrupted(t *testing.T) {
	cfg := sitesConfig(t, map[string]any{"sites": []map[string]any{
		{"name": "a", "archiv": "mem://interrupted-a"},
		{"name": "b", "archiv": "mem://interrupted-b"},
	}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, []string{"verify", "--config", cfg, "--all-sites", "--log-file", filepath.Join(t.TempDir(), "wb.log")}, &stdout, &stderr)
	if code != exitInterrupt {
		t.Errorf("exit code %d, want %d; stderr %q", code, exitInterrupt, stderr.String())
	}
	expectLines(t, result{code, stdout.String(), stderr.String()},
		"Standort a: übersprungen (abgebrochen) (Exit-Code 130)",
		"Standort b: übersprungen (abgebrochen) (Exit-Code 130)")
}
