package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// english are texts of cobra, pflag and Go's libraries that must never
// reach a user of this German tool.
var english = []string{
	"Usage:", "Available Commands", "Flags:", "Global Flags", "help for", `Use "`,
	"unknown flag", "unknown shorthand", "unknown command", "invalid argument", "strconv.",
	"parsing", "time: ", "does not exist", "unexpected EOF", "Did you mean", "[flags]",
	"flag needs an argument", "bad flag syntax", "(default", "no such file", "Additional help",
	"Aliases:", "Examples:", "Generate the autocompletion", "disable completion",
	"file is not a database", "disk I/O error", "open /",
}

// inProcess runs the command line in this process and returns exit code,
// stdout and stderr.
func inProcess(t *testing.T, dir string, args ...string) result {
	t.Helper()
	t.Chdir(dir)
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

func noEnglish(t *testing.T, what string, r result) {
	t.Helper()
	for _, w := range english {
		if strings.Contains(r.stdout, w) || strings.Contains(r.stderr, w) {
			t.Errorf("%s shows English %q:\n%s%s", what, w, r.stdout, r.stderr)
		}
	}
}

// commandPaths lists every command a user can call, as argument lists.
func commandPaths() [][]string {
	root := (&app{stdout: io.Discard, stderr: io.Discard}).rootCmd()
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden {
			return
		}
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(root, nil)
	return paths
}

// TestNoEnglishInHelp runs --help and "help" of every command.
func TestNoEnglishInHelp(t *testing.T) {
	dir := t.TempDir()
	paths := commandPaths()
	if len(paths) < 15 {
		t.Fatalf("only %d commands found", len(paths))
	}
	for _, p := range paths {
		name := strings.Join(append([]string{"werkstatt-backup"}, p...), " ")
		r := inProcess(t, dir, append(p, "--help")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Aufruf:") {
			t.Errorf("%s --help: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
		noEnglish(t, name+" --help", r)
		noEnglish(t, "help "+name, inProcess(t, dir, append([]string{"help"}, p...)...))
	}
}

// TestNoEnglishInErrors: a wrong flag on every command, and a wrong value
// for every kind of flag, give a German message and name the command's
// --help.
func TestNoEnglishInErrors(t *testing.T) {
	dir := t.TempDir()
	for _, p := range commandPaths() {
		name := strings.Join(append([]string{"werkstatt-backup"}, p...), " ")
		for _, bad := range []string{"--gibtsnicht", "-Z"} {
			r := inProcess(t, dir, append(p, bad)...)
			if r.code != exitUsage {
				t.Errorf("%s %s: exit %d, want 2", name, bad, r.code)
			}
			noEnglish(t, name+" "+bad, r)
			if !strings.Contains(r.stderr, "Hilfe: "+name+" --help") {
				t.Errorf("%s %s: hint does not name the command's --help: %q", name, bad, r.stderr)
			}
		}
	}
	bad := filepath.Join(dir, "kaputt.json")
	if err := os.WriteFile(bad, []byte(`{"db": "/x.db", "archiv": `), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := [][]string{
		{"exprot"},                                            // unknown command, with a suggestion
		{"verify", "--json=vielleicht"},                       // bool
		{"demo", "--orders", "abc"},                           // int (pflag)
		{"demo", "--orders"},                                  // value missing
		{"export", "--workers", "acht"},                       // number setting
		{"verify", "--archiv", ".", "--lock-timeout", "bald"}, // duration setting
		{"status", "--max-age", "garbage"},                    // age
		{"schedule", "--at", "garbage", "--", "export"},
		{"schedule", "--at", "99 * * * *", "--", "export"},
		{"export", "---x"},                 // bad syntax
		{"verify", "--config", "nix.json"}, // file does not exist
		{"verify", "--config", bad},        // unexpected EOF
		{"verify", "--archiv", filepath.Join(dir, "gibtsnicht")},
		{"export", "--archiv", dir, "--db", filepath.Join(dir, "fehlt.db")},
		{"help", "gibtsnicht"},
		{"export", "--archiv", dir, "--db", bad},                               // not a database
		{"restore", "--archiv", dir, "--db", dir},                              // a folder
		{"verify", "--archiv", dir, "--log-file", filepath.Join(bad, "x.log")}, // log in a missing folder
		{"version", "--db", "x.db"},                                            // a global flag version ignores
	}
	for _, args := range cases {
		r := inProcess(t, dir, args...)
		if r.code == 0 || strings.TrimSpace(r.stderr) == "" {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		noEnglish(t, strings.Join(args, " "), r)
	}
}

// TestIgnoredGlobalsAreNotListed: demo, version and completion list only
// the global flags they use.
func TestIgnoredGlobalsAreNotListed(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args     []string
		has, not []string
	}{
		{[]string{"demo", "--help"}, []string{"--log-file", "--json", "--out Pfad"}, []string{"--db", "--archiv", "--site", "--workers", "--config"}},
		{[]string{"version", "--help"}, []string{"--json"}, []string{"--db", "--archiv", "--log-file", "--quiet"}},
		{[]string{"completion", "bash", "--help"}, nil, []string{"Globale Optionen", "--db", "--json"}},
		{[]string{"export", "--help"}, []string{"--db PFAD", "--archiv PFAD|URL", "--workers ANZAHL", "--lock-timeout DAUER", "(Vorgabe: 30s)"}, nil},
	} {
		r := inProcess(t, dir, c.args...)
		for _, w := range c.has {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%q lacks %q:\n%s", c.args, w, r.stdout)
			}
		}
		for _, w := range c.not {
			if strings.Contains(r.stdout, w) {
				t.Errorf("%q lists %q:\n%s", c.args, w, r.stdout)
			}
		}
	}
	if r := inProcess(t, dir, "demo", "--help"); !strings.Contains(r.stdout, "nicht leer") {
		t.Errorf("demo --out does not say what happens with a non-empty folder:\n%s", r.stdout)
	}
}

// TestSettingsOnTheCommandLine: --lock-timeout takes plain seconds as the
// file does; --metrics-file must name a .prom file, as README promises.
func TestSettingsOnTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "wb.log")
	// The empty archive holds no backup (exit 1); what matters is that "30"
	// is accepted, which a usage error (exit 2) would deny.
	inProcess(t, dir, "verify", "--archiv", dir, "--log-file", log, "--lock-timeout", "30").expect(t, 1)
	r := inProcess(t, dir, "verify", "--archiv", dir, "--log-file", log, "--metrics-file", filepath.Join(dir, "werkstatt.txt")).expect(t, exitUsage)
	if !strings.Contains(r.stderr, "--metrics-file") || !strings.Contains(r.stderr, ".prom") {
		t.Errorf("stderr: %q", r.stderr)
	}
	inProcess(t, dir, "verify", "--archiv", dir, "--log-file", log, "--metrics-file", filepath.Join(dir, "werkstatt.prom")).expect(t, 1)
	if _, err := os.Stat(filepath.Join(dir, "werkstatt.prom")); err != nil {
		t.Errorf("metrics file not written: %v", err)
	}
}
