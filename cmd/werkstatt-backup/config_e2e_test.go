package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shown parses `config show --sources`: key → "value (source)".
func shown(t *testing.T, stdout string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, l := range strings.Split(stdout, "\n") {
		f := strings.Fields(l)
		if len(f) >= 3 && strings.HasPrefix(f[2], "(") {
			m[f[0]] = strings.Join(f[1:], " ")
		}
	}
	return m
}

func realDir(t *testing.T, dir string) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const secretPW = "Pw-Nie-Zeigen-42"

func TestConfigShowThroughTheBinary(t *testing.T) {
	dir := realDir(t, t.TempDir())
	os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(`{
  "db": "./test_archiv/werkstatt.db",
  "archiv": "./test_archiv",
  "workers": 3,
  "sites": [
    {"name": "zentrale", "archiv": "/srv/archiv"},
    {"name": "nord", "archiv": "smb://werk;backup:`+secretPW+`@nas-nord/archiv", "smb_password_file": "nord.pass"}
  ]
}`), 0o644)
	env := []string{"ARCHIV_LOCK_TIMEOUT=1m", "ARCHIV_SMB_PASSWORD=" + secretPW, "ARCHIV_SMB_DOMAIN=werk"}

	r := wbEnv(t, dir, env, "config", "show", "--sources", "--site", "nord", "--log-file", "/var/log/wb.log").expect(t, 0)
	got := shown(t, r.stdout)
	want := map[string]string{
		"db":                filepath.Join(dir, "test_archiv", "werkstatt.db") + " (Datei .archiv_config.json)",
		"archiv":            "smb://werk;backup:***@nas-nord/archiv (Standort nord)",
		"log_file":          "/var/log/wb.log (Option --log-file)",
		"lock_timeout":      "1m0s (Umgebung ARCHIV_LOCK_TIMEOUT)",
		"workers":           "3 (Datei .archiv_config.json)", // the flag's default 8 does not hide the file
		"smb_user":          "- (nicht gesetzt)",
		"smb_domain":        "werk (Umgebung ARCHIV_SMB_DOMAIN)",
		"smb_password_file": filepath.Join(dir, "nord.pass") + " (Standort nord)",
		"smb_password":      "*** (Umgebung ARCHIV_SMB_PASSWORD)",
		"s3_region":         "us-east-1 (Vorgabe)",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	// Every source is named in German (the JSON keeps its keys).
	for k, v := range got {
		src := v[strings.LastIndex(v, "(")+1:]
		if w, _, _ := strings.Cut(strings.TrimSuffix(src, ")"), " "); !slices.Contains([]string{"Vorgabe", "Datei", "Standort", "Umgebung", "Option", "nicht"}, w) {
			t.Errorf("%s: source %q is not German", k, src)
		}
	}
	if !strings.Contains(r.stdout, "Standorte: zentrale, nord") || !strings.Contains(r.stdout, "Standort nord:") {
		t.Errorf("config show:\n%s", r.stdout)
	}
	// Without --sources: key and value only.
	r = wbEnv(t, dir, env, "config", "show").expect(t, 0)
	if !strings.Contains(r.stdout, "workers") || strings.Contains(r.stdout, "(file") {
		t.Errorf("config show without --sources:\n%s", r.stdout)
	}

	// The password never shows, whatever the form.
	for _, args := range [][]string{
		{"config", "show", "--site", "nord"},
		{"config", "show", "--site", "nord", "--sources"},
		{"config", "show", "--site", "nord", "--json"},
		{"config", "show", "--all-sites", "--sources"},
		{"config", "show", "--all-sites", "--json"},
		{"config", "show", "--site", "nord", "--verbose"},
	} {
		r := wbEnv(t, dir, env, args...).expect(t, 0)
		if strings.Contains(r.stdout+r.stderr, secretPW) {
			t.Errorf("%v shows the password:\n%s%s", args, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "***") {
			t.Errorf("%v: no *** for the password:\n%s", args, r.stdout)
		}
	}

	r = wbEnv(t, dir, env, "config", "show", "--all-sites", "--json").expect(t, 0)
	var doc struct {
		File   string   `json:"file"`
		Sites  []string `json:"sites"`
		BySite []struct {
			Site     string `json:"site"`
			Settings []struct {
				Key, Value, Source, From string
			} `json:"settings"`
		} `json:"by_site"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.BySite) != 2 || doc.File != ".archiv_config.json" {
		t.Fatalf("--all-sites --json: %v\n%s", err, r.stdout)
	}
	for _, s := range doc.BySite[0].Settings {
		if s.Key == "archiv" && (s.Value != "/srv/archiv" || s.Source != "site" || s.From != "zentrale") {
			t.Errorf("zentrale archiv: %+v", s)
		}
	}
}

// TestPrecedenceThroughTheBinary: flag > environment > site > file, with a
// setting that decides whether the run works (the archive).
func TestPrecedenceThroughTheBinary(t *testing.T) {
	dir := workshop(t, 3)
	os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(`{
  "db": "./test_archiv/werkstatt.db",
  "archiv": "./aus_der_datei",
  "sites": [{"name": "nord", "archiv": "./test_archiv"}]
}`), 0o644)
	missing := func(r result, name string) {
		t.Helper()
		if !strings.Contains(r.stderr, name) {
			t.Errorf("stderr does not name %s: %q", name, r.stderr)
		}
	}
	missing(wb(t, dir, "export").expect(t, 1), "aus_der_datei")
	wbEnv(t, dir, []string{"ARCHIV_ARCHIV=./test_archiv"}, "export").expect(t, 0)                                                // env > file
	missing(wbEnv(t, dir, []string{"ARCHIV_ARCHIV=./test_archiv"}, "export", "--archiv", "./vom_flag").expect(t, 1), "vom_flag") // flag > env
	wb(t, dir, "export", "--site", "nord").expect(t, 0)                                                                          // site > file
	missing(wbEnv(t, dir, []string{"ARCHIV_ARCHIV=./aus_env"}, "export", "--site", "nord").expect(t, 1), "aus_env")              // env > site
	missing(wb(t, dir, "export", "--site", "nord", "--archiv", "./vom_flag").expect(t, 1), "vom_flag")                           // flag > site
	wb(t, dir, "export", "--archiv", "./test_archiv").expect(t, 0)                                                               // flag > file

	// $ARCHIV_CONFIG from another folder (cron): paths relative to the file.
	r := wbEnv(t, t.TempDir(), []string{"ARCHIV_CONFIG=" + filepath.Join(dir, ".archiv_config.json")}, "verify", "--site", "nord").expect(t, 0)
	if !strings.Contains(r.stdout, "Verify abgeschlossen: 3 gültig, 0 Fehler") {
		t.Errorf("ARCHIV_CONFIG:\n%s", r.stdout)
	}
	// --config beats $ARCHIV_CONFIG.
	wbEnv(t, dir, []string{"ARCHIV_CONFIG=./fehlt.json"}, "verify", "--config", ".archiv_config.json", "--site", "nord").expect(t, 0)
	missing(wbEnv(t, dir, []string{"ARCHIV_CONFIG=./fehlt.json"}, "verify").expect(t, 2), "fehlt.json")
}

// TestSeedInvocations: the seed's two ways to call the tool work unchanged,
// with the seed's config file as SPEC 7 shows it.
func TestSeedInvocations(t *testing.T) {
	dir := workshop(t, 5)
	os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(`{
  "db": "./test_archiv/werkstatt.db",
  "archiv": "./test_archiv",
  "log_file": "backup_system.log",
  "lock_timeout": "30s",
  "workers": 8
}`), 0o644)
	r := wb(t, dir, "export", "--config", ".archiv_config.json").expect(t, 0)
	if !strings.Contains(r.stdout, "Export abgeschlossen: 5 erfolgreich, 0 Fehler") {
		t.Fatal(r.stdout)
	}
	os.Remove(filepath.Join(dir, ".archiv_config.json"))
	r = wb(t, dir, "export", "--db", "./test_archiv/werkstatt.db", "--archiv", "./test_archiv").expect(t, 0)
	if !strings.Contains(r.stdout, "Export abgeschlossen: 5 erfolgreich, 0 Fehler") {
		t.Fatal(r.stdout)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	if strings.Count(string(log), "werkstatt_backup - INFO - Export abgeschlossen: 5 erfolgreich, 0 Fehler") != 2 {
		t.Errorf("log:\n%s", log)
	}
}

// TestConfigErrorsThroughTheBinary: every configuration mistake exits 2 with
// one line naming the key (and file), and never shows the password.
func TestConfigErrorsThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		return name
	}
	cases := []struct {
		name string
		env  []string
		args []string
		msg  string
	}{
		{"bad ARCHIV_WORKERS", []string{"ARCHIV_WORKERS=x"}, []string{"verify", "--archiv", "."}, "Konfiguration: ARCHIV_WORKERS: keine ganze Zahl"},
		{"bad ARCHIV_LOCK_TIMEOUT", []string{"ARCHIV_LOCK_TIMEOUT=bald"}, []string{"config", "show"}, "ARCHIV_LOCK_TIMEOUT"},
		{"workers not a number", nil, []string{"verify", "--archiv", ".", "--workers", "acht"}, "--workers"},
		{"workers zero", nil, []string{"verify", "--archiv", ".", "--workers", "0"}, "Konfiguration: --workers: muss zwischen 1 und 256 liegen"},
		{"bad site archiv", nil, []string{"verify", "--all-sites", "--config",
			write("a.json", `{"sites": [{"name": "a", "archiv": "mem://a"}, {"name": "b", "archiv": "smb://backup:`+secretPW+`@nas"}]}`)},
			"Konfiguration a.json: sites[1].archiv: ungültiger Archiv-Ort \"smb://backup:***@nas\""},
		{"duplicate site", nil, []string{"config", "show", "--config",
			write("b.json", `{"sites": [{"name": "a", "archiv": "mem://a"}, {"name": "A", "archiv": "mem://b"}]}`)},
			"Konfiguration b.json: sites[1].name: Standort \"A\" ist doppelt"},
		{"password in the file", nil, []string{"export", "--config", write("c.json", `{"archiv": ".", "smb_password": "`+secretPW+`"}`)},
			"Konfiguration c.json: smb_password: gehört nicht in die Datei"},
		{"unknown key in a site", nil, []string{"verify", "--site", "a", "--config", write("d.json", `{"sites": [{"name": "a", "archiv": ".", "passwort": "`+secretPW+`"}]}`)},
			"Konfiguration d.json: sites[0].passwort: unbekannter Schlüssel"},
		{"bad duration in the file", nil, []string{"verify", "--config", write("e.json", `{"archiv": ".", "lock_timeout": "bald"}`)},
			"Konfiguration e.json: lock_timeout: keine gültige Dauer: \"bald\""},
		{"invalid JSON", nil, []string{"verify", "--config", write("f.json", "{\n  \"archiv\": \".\"\n  \"db\": \"x\"\n}")},
			"Konfiguration f.json: kein gültiges JSON: Zeile 3, Spalte 3"},
		{"bad password-URL from env", []string{"ARCHIV_ARCHIV=smb://backup:" + secretPW + "@/x"}, []string{"verify"}, "ARCHIV_ARCHIV"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := wbEnv(t, dir, c.env, c.args...).expect(t, 2)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if !strings.Contains(lines[0], c.msg) {
				t.Errorf("stderr %q does not contain %q", r.stderr, c.msg)
			}
			if strings.Contains(r.stdout+r.stderr, secretPW) {
				t.Errorf("password shown: %s%s", r.stdout, r.stderr)
			}
		})
	}
	// --help names the environment variables.
	r := wb(t, dir, "verify", "--help").expect(t, 0)
	for _, want := range []string{"$ARCHIV_DB", "$ARCHIV_ARCHIV", "$ARCHIV_WORKERS", "$ARCHIV_LOCK_TIMEOUT", "$ARCHIV_CONFIG"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--help lacks %s", want)
		}
	}
}
