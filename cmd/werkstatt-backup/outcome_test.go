package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oneObject decodes stdout as exactly one JSON object.
func oneObject(t *testing.T, what, stdout string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Errorf("%s: stdout is no JSON object: %v\n%s", what, err, stdout)
		return nil
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Errorf("%s: more than one JSON value on stdout:\n%s", what, stdout)
	}
	return obj
}

// TestJSONOnEveryOutcome: with --json, every command prints exactly one
// JSON object on stdout, on success, on a fatal error and on a usage error,
// with "exit_code" and, when it failed, "error".
func TestJSONOnEveryOutcome(t *testing.T) {
	dir := workshop(t, 4)
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	archive := filepath.Join(dir, "test_archiv")
	missing := filepath.Join(dir, "gibtsnicht")
	log := filepath.Join(dir, "wb.log")
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"export", "--db", db, "--archiv", archive}, 0},
		{[]string{"export", "--db", filepath.Join(dir, "fehlt.db"), "--archiv", archive}, 1},
		{[]string{"export", "--archiv", archive}, 2},
		{[]string{"verify", "--archiv", archive}, 0},
		{[]string{"verify", "--archiv", missing}, 1},
		{[]string{"verify", "--archiv", "ftp://nas/x"}, 2},
		{[]string{"restore", "--db", filepath.Join(dir, "neu.db"), "--archiv", missing}, 1},
		{[]string{"restore", "--db", db, "--archiv", archive}, 1}, // table has rows, no --force
		{[]string{"migrate", "--archiv", missing}, 1},
		{[]string{"migrate", "--archiv", archive}, 0},
		{[]string{"unlock", "--archiv", archive}, 0},
		{[]string{"unlock", "--archiv", missing}, 1},
		{[]string{"status", "--log-file", filepath.Join(dir, "nie.log")}, 1},
		{[]string{"status", "--command", "migrate"}, 0},
		{[]string{"config", "show"}, 0},
		{[]string{"config", "show", "--config", "nix.json"}, 2},
		{[]string{"version"}, 0},
		{[]string{"version", "--db", "x"}, 2},
		{[]string{"demo", "--orders", "abc"}, 2},
		{[]string{"demo", "--orders", "3", "--out", filepath.Join(dir, "demo")}, 0},
		{[]string{"demo", "--orders", "3", "--out", dir}, 2}, // not empty
		{[]string{"completion", "bash"}, 2},                  // --json does not apply
		{[]string{"schedule", "--json", "--at", "garbage", "--", "export"}, 2},
		{[]string{"export", "--gibtsnicht"}, 2},
		{[]string{"exprot"}, 2},
		{[]string{"export", "--workers", "acht", "--db", db, "--archiv", archive}, 2},
		{[]string{"export", "--all-sites"}, 2},
	}
	for _, c := range cases {
		args := append([]string{"--log-file", log}, c.args...)
		if c.args[0] == "version" || c.args[0] == "completion" || c.args[0] == "exprot" || c.args[0] == "status" && c.args[1] == "--log-file" {
			args = c.args
		}
		args = append(args, "--json")
		what := strings.Join(c.args, " ")
		r := inProcess(t, dir, args...)
		if r.code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s%s", what, r.code, c.code, r.stdout, r.stderr)
		}
		obj := oneObject(t, what, r.stdout)
		if obj == nil {
			continue
		}
		if code, ok := obj["exit_code"].(float64); !ok || int(code) != r.code {
			t.Errorf("%s: exit_code %v, process exit %d", what, obj["exit_code"], r.code)
		}
		msg, _ := obj["error"].(string)
		if (r.code != 0) != (msg != "") {
			t.Errorf("%s: exit %d with error %q", what, r.code, msg)
		}
		if strings.Contains(msg, "\n") {
			t.Errorf("%s: error is not one line: %q", what, msg)
		}
	}
}

// TestAbortedRunsLogAbgebrochen: a restore that refuses and an export
// interrupted by a signal log "… abgebrochen: <reason>" at ERROR once, and
// never "… abgeschlossen", which monitoring greps for.
func TestAbortedRunsLogAbgebrochen(t *testing.T) {
	dir := workshop(t, 5)
	archive := filepath.Join(dir, "test_archiv")
	db := filepath.Join(archive, "werkstatt.db")
	inProcess(t, dir, "export", "--db", db, "--archiv", archive, "--log-file", filepath.Join(dir, "export.log")).expect(t, 0)
	csvs, _ := filepath.Glob(filepath.Join(archive, "*", "*", "data.csv"))
	if len(csvs) == 0 {
		t.Fatal("no backups")
	}
	if err := os.WriteFile(csvs[0], []byte("kaputt\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	restoreLog := filepath.Join(dir, "restore.log")
	r := inProcess(t, dir, "restore", "--db", filepath.Join(dir, "neu.db"), "--archiv", archive, "--log-file", restoreLog).expect(t, exitValidation)
	logged := readLog(t, restoreLog)
	if strings.Contains(logged, "abgeschlossen") || strings.Contains(r.stdout, "abgeschlossen") {
		t.Errorf("aborted restore says abgeschlossen:\n%s\n%s", logged, r.stdout)
	}
	if n := strings.Count(logged, "ERROR - Restore abgebrochen: Datenbank unverändert"); n != 1 {
		t.Errorf("%d abort lines, want 1:\n%s", n, logged)
	}
	if !strings.Contains(r.stderr, "Restore abgebrochen: Datenbank unverändert") {
		t.Errorf("stderr: %q", r.stderr)
	}

	// A signal before the export got anywhere.
	exportLog := filepath.Join(dir, "interrupted.log")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"export", "--full", "--db", db, "--archiv", archive, "--log-file", exportLog}, &out, &errb)
	if code != exitInterrupt {
		t.Fatalf("exit %d, want 130: %s", code, errb.String())
	}
	logged = readLog(t, exportLog)
	if strings.Contains(logged, "abgeschlossen") {
		t.Errorf("interrupted export says abgeschlossen:\n%s", logged)
	}
	if n := strings.Count(logged, "ERROR - Export abgebrochen: Signal"); n != 1 {
		t.Errorf("%d abort lines, want 1:\n%s", n, logged)
	}
}

func readLog(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
