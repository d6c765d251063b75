package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigErrorsNameTheirSource: with a .archiv_config.json in the
// working directory, problems with values that did not come from it name
// the flag or the setting, never the file.
func TestConfigErrorsNameTheirSource(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(`{"log_file": "backup_system.log"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing S3 secret", []string{"verify", "--archiv", "s3://AKIAEXAMPLE@127.0.0.1:1/archiv"},
			"Konfiguration: s3_secret_key: fehlt: ARCHIV_S3_SECRET_KEY"},
		{"schedule with a database that is not there", []string{"schedule", "--at", "0 2 * * *", "--", "export", "--db", "/nicht/da.db", "--archiv", "."},
			"Konfiguration: --db: Datenbank nicht gefunden: /nicht/da.db"},
		{"bad archive URL from a flag", []string{"verify", "--archiv", "smb://backup@nas"},
			"Konfiguration: --archiv: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := wb(t, dir, c.args...).expect(t, 2)
			if !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, ".archiv_config.json") {
				t.Fatalf("stderr %q, want %q and no word of .archiv_config.json", r.stderr, c.want)
			}
		})
	}
	// A file's own value is still named with the file and key.
	os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(`{"archiv": "s3://AKIAEXAMPLE@127.0.0.1:1/archiv", "s3_secret_key_file": "fehlt.key"}`), 0o644)
	r := wb(t, dir, "verify").expect(t, 2)
	if !strings.Contains(r.stderr, "Konfiguration .archiv_config.json: s3_secret_key_file: ") {
		t.Fatalf("stderr: %q", r.stderr)
	}
}

// TestBareBoolFlag: a yes/no option alone means yes (the README's own
// example), =nein turns it off; help shows it as a switch.
func TestBareBoolFlag(t *testing.T) {
	dir := t.TempDir()
	url := "s3://AKIAEXAMPLE@127.0.0.1:1/archiv"
	r := wb(t, dir, "config", "show", "--archiv", url, "--s3-insecure").expect(t, 0)
	if !strings.Contains(r.stdout, "s3_insecure") {
		t.Fatalf("config show --s3-insecure:\n%s", r.stdout)
	}
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "s3_insecure") && !strings.Contains(line, "true") {
			t.Fatalf("s3_insecure: %q", line)
		}
	}
	r = wb(t, dir, "config", "show", "--archiv", url, "--s3-insecure=nein").expect(t, 0)
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, "s3_insecure") && !strings.Contains(line, "false") {
			t.Fatalf("--s3-insecure=nein: %q", line)
		}
	}
	// verify with it gets as far as the (absent) server.
	r = wbEnv(t, dir, []string{"ARCHIV_S3_SECRET_KEY=x"}, "verify", "--archiv", url, "--s3-insecure")
	if strings.Contains(r.stderr, "braucht einen Wert") || r.code == 2 {
		t.Fatalf("verify --s3-insecure: exit %d\n%s", r.code, r.stderr)
	}
	r = wb(t, dir, "verify", "--help").expect(t, 0)
	if !strings.Contains(r.stdout, "--s3-insecure[=ja|nein]") {
		t.Fatalf("help:\n%s", r.stdout)
	}
}

// TestVersionFlagsAndPlaceholders: --version and -V print what `version`
// prints; help names values with German words, never Text or string.
func TestVersionFlagsAndPlaceholders(t *testing.T) {
	dir := t.TempDir()
	want := wb(t, dir, "version").expect(t, 0).stdout
	for _, f := range []string{"--version", "-V"} {
		if r := wb(t, dir, f).expect(t, 0); r.stdout != want || !strings.HasPrefix(r.stdout, "werkstatt-backup ") {
			t.Errorf("%s: %q, want %q", f, r.stdout, want)
		}
	}
	r := wb(t, dir, "export", "-V").expect(t, 2)
	if !strings.Contains(r.stderr, `unbekannte Option -V für "werkstatt-backup export"`) {
		t.Errorf("export -V: %q", r.stderr)
	}
	r = wb(t, dir, "restore", "--help").expect(t, 0)
	for _, want := range []string{"--at ZEIT ", "--db PFAD ", "--config PFAD ", "--site NAME "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("restore --help lacks %q", want)
		}
	}
	for _, c := range []string{"export", "verify", "restore", "migrate", "history", "forget", "unlock", "status", "schedule", "config"} {
		r := wb(t, dir, c, "--help").expect(t, 0)
		for _, line := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "--") && (f[1] == "Text" || f[1] == "string") {
				t.Errorf("%s --help: %q", c, line)
			}
		}
	}
}

// TestSMBWithoutPassword: a share reached without any password says which
// variable or key to set, not "Benutzer oder Passwort falsch".
func TestSMBWithoutPassword(t *testing.T) {
	site := newSMBSite(t)
	dir := t.TempDir()
	r := wb(t, dir, "verify", "--archiv", site.url).expect(t, 1)
	if !strings.Contains(r.stderr, "kein Passwort angegeben: ARCHIV_SMB_PASSWORD oder smb_password_file setzen") ||
		strings.Contains(r.stderr, "Passwort falsch") {
		t.Fatalf("stderr: %q", r.stderr)
	}
	// A wrong one is still called wrong.
	r = wbEnv(t, dir, []string{"ARCHIV_SMB_PASSWORD=falsch"}, "verify", "--archiv", site.url).expect(t, 1)
	if !strings.Contains(r.stderr, "Benutzer oder Passwort falsch") {
		t.Fatalf("stderr: %q", r.stderr)
	}
}
