package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runLines are the lines of schedule's stdout that are not its start, its
// first announcement or its end: what a container's log shows per run.
func runLines(stdout string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		switch {
		case l == "",
			strings.Contains(l, "Zeitplan gestartet:"),
			strings.Contains(l, "Zeitplan: nächster Lauf"),
			strings.Contains(l, "Zeitplan beendet"):
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestScheduleOneLinePerRun: `docker logs` of `schedule --at … -- export`
// shows one line per run, with the run's summary, exit code and duration
// (it showed four: start, the report's summary, the end, the next date);
// the other lines are in the log file.
func TestScheduleOneLinePerRun(t *testing.T) {
	dir := workshop(t, 3)
	p := start(t, dir, "schedule", "--at", "0 2 * * *", "--run-now", "--", "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv")
	log := filepath.Join(dir, "backup_system.log")
	p.waitFor(t, "the next date after the run", fileContains(log, "Zeitplan: nächster Lauf"))
	p.term(t)
	r := p.wait(t).expect(t, 0)
	got := runLines(r.stdout)
	want := "INFO - Zeitplan: export --db test_archiv/werkstatt.db --archiv test_archiv: Export abgeschlossen: 3 erfolgreich, 0 Fehler (Exit-Code 0 nach "
	if len(got) != 1 || !strings.Contains(got[0], want) || !logLine.MatchString(got[0]) {
		t.Fatalf("lines for one run on stdout:\n%s\nwant one with %q\nall stdout:\n%s", strings.Join(got, "\n"), want, r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
	b, _ := os.ReadFile(log)
	for _, l := range []string{"Zeitplan: starte export", "INFO - Export abgeschlossen: 3 erfolgreich, 0 Fehler", want} {
		if !bytes.Contains(b, []byte(l)) {
			t.Errorf("log lacks %q:\n%s", l, b)
		}
	}
}

// TestScheduleJobsFromConfig: one schedule serves the jobs of the key
// zeitplan (here verify, then export, both once at start): each run is one
// line on stdout with its own level, a verify that finds a damaged backup
// is a WARNING line naming the summary (exit 3) and nothing on stderr, and
// the export after it repairs the backup.
func TestScheduleJobsFromConfig(t *testing.T) {
	dir := workshop(t, 3)
	wb(t, dir, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv").expect(t, 0)
	csvs, _ := filepath.Glob(filepath.Join(dir, "test_archiv", "*", "*", "data.csv"))
	data, _ := os.ReadFile(csvs[0])
	os.WriteFile(csvs[0], bytes.Replace(data, []byte(","), []byte(";"), 1), 0o644)
	cfg := filepath.Join(dir, "werkstatt.json")
	os.WriteFile(cfg, []byte(`{
  "db": "test_archiv/werkstatt.db",
  "archiv": "test_archiv",
  "zeitplan": [
    {"befehl": "verify", "zeit": "0 3 * * 0"},
    {"befehl": ["export", "--workers", "2"], "zeit": "0 2 * * *"}
  ]
}`), 0o644)

	p := start(t, dir, "schedule", "--config", cfg, "--run-now")
	log := filepath.Join(dir, "backup_system.log")
	p.waitFor(t, "the next date after both runs", fileContains(log, "Zeitplan: nächster Lauf"))
	p.term(t)
	r := p.wait(t).expect(t, 0)
	for _, want := range []string{
		`Zeitplan gestartet: "0 3 * * 0" → --config=` + cfg + ` verify; "0 2 * * *" → --config=` + cfg + ` export --workers 2`,
		"Zeitplan: nächster Lauf ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	got := runLines(r.stdout)
	want := []string{
		"WARNING - Zeitplan: --config=" + cfg + " verify: Verify abgeschlossen: 2 gültig, 1 Fehler",
		"INFO - Zeitplan: --config=" + cfg + " export --workers 2: Export abgeschlossen: 3 erfolgreich, 0 Fehler",
	}
	if len(got) != len(want) {
		t.Fatalf("run lines on stdout:\n%s\nwant %d\nall stdout:\n%s", strings.Join(got, "\n"), len(want), r.stdout)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("line %d:\n got  %q\n want …%q…", i, got[i], want[i])
		}
	}
	if !strings.Contains(got[0], "(Exit-Code 3 nach ") {
		t.Errorf("verify's line does not say exit code 3: %q", got[0])
	}
	if r.stderr != "" {
		t.Errorf("stderr: %q", r.stderr)
	}
	wb(t, dir, "verify", "--archiv", "test_archiv").expect(t, 0)
}

// TestScheduleJobsRefused: a schedule without --at needs zeitplan; each of
// its entries is checked at start like a command line, and a mistake names
// the entry (exit 2).
func TestScheduleJobsRefused(t *testing.T) {
	dir := workshop(t, 1)
	cases := []struct {
		name, config, msg string
	}{
		{"no zeitplan", `{"archiv": "test_archiv"}`, "kein Zeitplan: --at ZEITPLAN -- BEFEHL angeben oder"},
		{"not schedulable", `{"archiv": "test_archiv", "zeitplan": [{"befehl": "demo", "zeit": "@daily"}]}`, `zeitplan[0].befehl: "demo" kann nicht geplant werden`},
		{"bad option", `{"archiv": "test_archiv", "zeitplan": [{"befehl": "verify", "zeit": "@daily"}, {"befehl": "export --nope", "zeit": "@daily"}]}`, "zeitplan[1] (export --nope): export: "},
		{"no database", `{"archiv": "test_archiv", "zeitplan": [{"befehl": "export", "zeit": "@daily"}]}`, "zeitplan[0] (export): Konfiguration "},
		{"bad time", `{"archiv": "test_archiv", "zeitplan": [{"befehl": "export", "zeit": "nachts"}]}`, "zeitplan: [0].zeit: ungültiger Zeitplan"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "werkstatt.json")
			os.WriteFile(cfg, []byte(c.config), 0o644)
			r := wb(t, dir, "schedule", "--config", cfg).expect(t, 2)
			if first := firstLine(r.stderr); !strings.Contains(first, c.msg) {
				t.Fatalf("stderr does not name %q: %q", c.msg, r.stderr)
			}
		})
	}
}
