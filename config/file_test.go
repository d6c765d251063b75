package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// TestFileValidation: every mistake in the file is an *Error naming the file
// and the key (exit 2), and Load refuses the whole file.
func TestFileValidation(t *testing.T) {
	cases := []struct {
		name, json string
		key        string // exact Error.Key
		reason     string // part of Error.Reason
	}{
		{"unknown top-level key", `{"archiv": "/a", "wokers": 3}`, "wokers", "unbekannter Schlüssel (bekannt: db, archiv, log_file"},
		{"name at the top level", `{"name": "zentrale"}`, "name", "unbekannter Schlüssel"},
		{"unknown site key", `{"sites": [{"name": "nord", "archiv": "/a", "datenbank": "/n.db"}]}`, "sites[0].datenbank", "bekannt: name, db, archiv"},
		{"sites inside a site", `{"sites": [{"name": "nord", "archiv": "/a", "sites": []}]}`, "sites[0].sites", "unbekannter Schlüssel"},
		{"key twice in other case", `{"db": "/a.db", "DB": "/b.db"}`, "db", `doppelt (auch als "DB"`},
		{"workers as word", `{"workers": "acht"}`, "workers", `keine ganze Zahl: "acht"`},
		{"workers fraction", `{"workers": 8.5}`, "workers", "keine ganze Zahl"},
		{"workers zero", `{"workers": 0}`, "workers", "zwischen 1 und 256"},
		{"workers too many", `{"workers": 1000}`, "workers", "zwischen 1 und 256"},
		{"workers as list", `{"workers": [8]}`, "workers", "muss eine ganze Zahl sein, nicht eine Liste"},
		{"mass_change as word", `{"mass_change": "viel"}`, "mass_change", `kein gültiger Anteil: "viel"`},
		{"mass_change bare 25", `{"mass_change": 25}`, "mass_change", "zwischen 0 und 100"},
		{"mass_change over 100 %", `{"mass_change": "120%"}`, "mass_change", "zwischen 0 und 100"},
		{"retention all zero", `{"retention": {"last": 0}}`, "retention", "ganze Historie"},
		{"retention unknown rule", `{"retention": "hourly=3"}`, "retention", `unbekannte Regel "hourly"`},
		{"retention below -1", `{"retention": {"daily": -2}}`, "retention", "keine Anzahl"},
		{"retention no pair", `{"retention": "10"}`, "retention", "nicht Regel=Anzahl"},
		{"retention as number", `{"retention": 10}`, "retention", "Objekt oder ein Text"},
		{"history_lock zero", `{"history_lock": 0}`, "history_lock", "zwischen 1 und 36500 Tagen"},
		{"history_lock under a day", `{"history_lock": "12h"}`, "history_lock", "zwischen 1 und 36500 Tagen liegen, nicht 12h0m0s"},
		{"history_lock word", `{"history_lock": "lang"}`, "history_lock", `keine gültige Dauer: "lang"`},
		{"history_lock fraction", `{"history_lock": 1.5}`, "history_lock", "keine gültige Dauer"},
		{"history_lock bool", `{"history_lock": true}`, "history_lock", "nicht ein Wahrheitswert"},
		{"mass_change as list", `{"mass_change": [1]}`, "mass_change", "muss ein Anteil sein"},
		{"lock_timeout bool", `{"lock_timeout": true}`, "lock_timeout", "keine gültige Dauer: ein Wahrheitswert"},
		{"lock_timeout word", `{"lock_timeout": "bald"}`, "lock_timeout", `"bald"`},
		{"lock_timeout unknown unit", `{"lock_timeout": "30 Sekunden"}`, "lock_timeout", "Beispiele"},
		{"notify not a list", `{"notify": {"webhook": "https://hc.example/ping/x", "on": "fehler"}}`, "notify", "muss eine Liste von Zielen sein"},
		{"notify bad on", `{"notify": [{"webhook": "https://hc.example/ping/x", "on": "fehler"}, {"webhook": "https://hc.example/ping/y", "on": "error"}]}`,
			"notify[1].on", `"error": erlaubt sind fehler, warnung, immer`},
		{"notify without on", `{"notify": [{"webhook": "https://hc.example/ping/x"}]}`, "notify[0].on", "fehlt (fehler, warnung, immer)"},
		{"notify bad URL", `{"notify": [{"webhook": "hc.example/ping/x", "on": "fehler"}]}`, "notify[0].webhook", "http:// oder https://"},
		{"notify URL without host", `{"notify": [{"webhook": "https:///ping", "on": "fehler"}]}`, "notify[0].webhook", "ohne Host"},
		{"notify bad address", `{"notify": [{"mail": "admin(at)werkstatt.de", "on": "fehler"}], "smtp_host": "mail.example"}`, "notify[0].mail", "keine gültige Mail-Adresse"},
		{"notify neither", `{"notify": [{"on": "fehler"}]}`, "notify[0]", `braucht "webhook" oder "mail"`},
		{"notify both", `{"notify": [{"mail": "a@b.de", "webhook": "https://x/y", "on": "fehler"}]}`, "notify[0]", "je Ziel eines"},
		{"notify unknown key", `{"notify": [{"webhook": "https://x/y", "on": "fehler", "wann": "nie"}]}`, "notify[0].wann", "unbekannter Schlüssel"},
		{"notify in a site", `{"sites": [{"name": "nord", "archiv": "/n", "notify": [{"mail": "a@b.de", "on": "bald"}]}]}`, "sites[0].notify[0].on", `"bald"`},
		{"smtp_password in the file", `{"smtp_password": "geheim"}`, "smtp_password", "ARCHIV_SMTP_PASSWORD oder smtp_password_file verwenden"},
		{"smtp_host with a path", `{"smtp_host": "smtp://mail.example"}`, "smtp_host", "Port"},
		{"smtp_from bad", `{"smtp_from": "backup"}`, "smtp_from", "keine gültige Mail-Adresse"},
		{"metrics_file not .prom", `{"metrics_file": "/var/lib/node-exporter/werkstatt.txt"}`, "metrics_file", "muss auf .prom enden"},
		{"duplicate key", `{"db": "/a.db", "archiv": "/x", "db": "/b.db"}`, "db", "doppelt"},
		{"duplicate key in a site", `{"sites": [{"name": "nord", "archiv": "/n"}, {"name": "sued", "archiv": "/s", "archiv": "/t"}]}`, "sites[1].archiv", "doppelt"},
		{"lock_timeout negative", `{"lock_timeout": "-5s"}`, "lock_timeout", "keine gültige Dauer"},
		{"smb_timeout zero", `{"smb_timeout": "0s"}`, "smb_timeout", "muss mindestens 1s sein, nicht 0s"},
		{"smb_timeout too short", `{"smb_timeout": 0.5}`, "smb_timeout", "muss mindestens 1s sein, nicht 500ms"},
		{"smb_timeout word", `{"smb_timeout": "lang"}`, "smb_timeout", `"lang"`},
		{"db number", `{"db": 5}`, "db", "muss ein Text sein, nicht eine Zahl"},
		{"db null", `{"db": null}`, "db", "nicht null"},
		{"smb_user object", `{"smb_user": {"name": "x"}}`, "smb_user", "nicht ein Objekt"},
		{"sites not a list", `{"sites": {"name": "nord"}}`, "sites", "Liste von Objekten sein, nicht ein Objekt"},
		{"sites null", `{"sites": null}`, "sites", "nicht null"},
		{"site not an object", `{"sites": ["nord"]}`, "sites[0]", "muss ein Objekt sein, nicht ein Text"},
		{"site without name", `{"sites": [{"archiv": "/a"}]}`, "sites[0].name", "fehlt"},
		{"site name empty", `{"sites": [{"name": "", "archiv": "/a"}]}`, "sites[0].name", "leer"},
		{"site name number", `{"sites": [{"name": 1, "archiv": "/a"}]}`, "sites[0].name", "muss ein Text sein"},
		{"site name with blank", `{"sites": [{"name": "filiale nord", "archiv": "/a"}]}`, "sites[0].name", "nur Buchstaben"},
		{"duplicate site names", `{"sites": [{"name": "nord", "archiv": "/a"}, {"name": "zentrale", "archiv": "/z"}, {"Name": "NORD", "archiv": "/b"}]}`,
			"sites[2].name", `Standort "NORD" ist doppelt (wie sites[0])`},
		{"site without archiv", `{"archiv": "/a", "sites": [{"name": "nord", "db": "/n.db"}]}`, "sites[0].archiv", `Standort "nord" hat kein archiv`},
		{"site with empty archiv", `{"sites": [{"name": "nord", "archiv": ""}]}`, "sites[0].archiv", "kein archiv"},
		{"two sites, one archive", `{"sites": [{"name": "a", "archiv": "/srv/a"}, {"name": "b", "archiv": "/srv/b"}, {"name": "c", "archiv": "file:///srv/b/"}]}`,
			"sites[2].archiv", `dasselbe Archiv wie Standort "b" (sites[1])`},
		{"two sites, one archive, relative", `{"sites": [{"name": "a", "archiv": "./archiv"}, {"name": "b", "archiv": "/etc/werkstatt/archiv"}]}`,
			"sites[1].archiv", "dasselbe Archiv"},
		{"two sites, one share", `{"sites": [{"name": "a", "archiv": "smb://backup@NAS/Archiv/x"}, {"name": "b", "archiv": "smb://werk;admin@nas/archiv/x/"}]}`,
			"sites[1].archiv", "dasselbe Archiv"},
		{"two sites, one mem archive", `{"sites": [{"name": "a", "archiv": "mem://x"}, {"name": "b", "archiv": "mem://x"}]}`,
			"sites[1].archiv", "dasselbe Archiv"},
		{"smb URL without share", `{"sites": [{"name": "a", "archiv": "/a"}, {"name": "b", "archiv": "smb://backup@nas"}]}`, "sites[1].archiv", "SMB-Freigabe fehlt"},
		{"smb URL bad port", `{"archiv": "smb://backup@nas:99999/archiv"}`, "archiv", "SMB-Port"},
		{"mem URL without name", `{"archiv": "mem://"}`, "archiv", "mem-Name fehlt"},
		{"file URL with host", `{"archiv": "file://relativ/archiv"}`, "archiv", "file-URL mit Host"},
		{"archiv a number", `{"archiv": 5}`, "archiv", "muss ein Text sein"},
		{"password in the file", `{"smb_password": "x"}`, "smb_password", "ARCHIV_SMB_PASSWORD oder smb_password_file"},
		{"password in a site", `{"sites": [{"name": "nord", "archiv": "/a", "SMB_Password": "x"}]}`, "sites[0].SMB_Password", "gehört nicht in die Datei"},
		{"invalid JSON", "{\n  \"db\": \"x\",\n  \"archiv\" \"y\"\n}", "", "kein gültiges JSON: Zeile 3, Spalte 12"},
		{"trailing comma", "{\n\t\"db\": \"x\",\n}", "", "Zeile 3, Spalte 1"},
		{"truncated", `{"db": "x"`, "", "Zeile 1, Spalte 11: unerwartetes Dateiende"},
		{"empty file", ``, "", "Zeile 1, Spalte 1: unerwartetes Dateiende"},
		{"column counts characters", `{"db": "ä", x}`, "", "Zeile 1, Spalte 13"},
		{"a list, not an object", `[{"db": "x"}]`, "", "muss ein JSON-Objekt {…} sein, nicht eine Liste"},
		{"content after the object", "{\"db\": \"x\"}\n {}", "", "Zeile 2, Spalte 2: weiterer Inhalt nach dem Objekt"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clearEnv(t)
			fsys := afero.NewMemMapFs()
			if err := afero.WriteFile(fsys, cfgPath, []byte(c.json), 0o644); err != nil {
				t.Fatal(err)
			}
			ld, err := Load(fsys, cfgPath)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, %v; want *Error", ld, err)
			}
			if ce.File != cfgPath || ce.Key != c.key || !strings.Contains(ce.Reason, c.reason) {
				t.Errorf("got  file %q key %q reason %q\nwant file %q key %q reason containing %q", ce.File, ce.Key, ce.Reason, cfgPath, c.key, c.reason)
			}
			if want := "Konfiguration " + cfgPath + ": "; !strings.HasPrefix(ce.Error(), want) {
				t.Errorf("Error() = %q, want prefix %q", ce.Error(), want)
			}
		})
	}
}

// TestFileAccepted: what the file may hold beyond the obvious.
func TestFileAccepted(t *testing.T) {
	clearEnv(t)
	fsys := afero.NewMemMapFs()
	doc := "\ufeff" + `{
		"DB": "/w.db", "Archiv": "/a",
		"lock_timeout": 1.5,
		"workers": 256,
		"sites": [
			{"NAME": "Süd-1_a.b", "archiv": "/s", "lock_timeout": "0s"},
			{"name": "a", "archiv": "smb://backup@nas/archiv/a"},
			{"name": "b", "archiv": "smb://backup@nas/archiv/b"},
			{"name": "c", "archiv": "smb://backup@nas2/archiv/a"}
		]
	}`
	afero.WriteFile(fsys, cfgPath, []byte(doc), 0o644)
	ld, err := Load(fsys, cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := ld.Resolve("", nil)
	if err != nil || cfg.DB != "/w.db" || cfg.Archiv != "/a" || cfg.LockTimeout.Seconds() != 1.5 || cfg.Workers != 256 {
		t.Errorf("top level: %v %v", cfg, err)
	}
	cfg, _, err = ld.Resolve("süd-1_a.b", nil)
	if err != nil || cfg.Site != "Süd-1_a.b" || cfg.LockTimeout != 0 {
		t.Errorf("site: %v %v", cfg, err)
	}
}

// TestBadEnvironmentAndFlags: a bad value from the environment names the
// variable, from a flag the flag; the file is not blamed.
func TestBadEnvironmentAndFlags(t *testing.T) {
	cases := []struct {
		name   string
		s      setup
		key    string
		reason string
	}{
		{"ARCHIV_WORKERS word", setup{env: map[string]string{"ARCHIV_WORKERS": "x"}}, "ARCHIV_WORKERS", `keine ganze Zahl: "x"`},
		{"ARCHIV_WORKERS hex", setup{env: map[string]string{"ARCHIV_WORKERS": "0x10"}}, "ARCHIV_WORKERS", "keine ganze Zahl"},
		{"ARCHIV_WORKERS zero", setup{env: map[string]string{"ARCHIV_WORKERS": "0"}}, "ARCHIV_WORKERS", "zwischen 1 und 256"},
		{"ARCHIV_LOCK_TIMEOUT", setup{env: map[string]string{"ARCHIV_LOCK_TIMEOUT": "bald"}}, "ARCHIV_LOCK_TIMEOUT", `"bald"`},
		{"ARCHIV_ARCHIV", setup{env: map[string]string{"ARCHIV_ARCHIV": "smb://nas"}}, "ARCHIV_ARCHIV", "SMB-Freigabe fehlt"},
		{"--workers 0", setup{flags: []string{"--workers", "0"}}, "--workers", "zwischen 1 und 256"},
		{"--lock-timeout negative", setup{flags: []string{"--lock-timeout=-1s"}}, "--lock-timeout", "keine gültige Dauer"},
		{"--archiv", setup{flags: []string{"--archiv", "mem://a/b"}}, "--archiv", "unerlaubte Zeichen"},
		{"flag beats a bad env", setup{env: map[string]string{"ARCHIV_WORKERS": "x"}, flags: []string{"--workers", "0"}}, "--workers", "zwischen"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.s.top = map[string]any{"workers": 4}
			_, _, err := c.s.resolve(t, "")
			var ce *Error
			if !errors.As(err, &ce) || ce.Key != c.key || ce.File != "" || !strings.Contains(ce.Reason, c.reason) {
				t.Errorf("got %#v, want key %q reason containing %q", err, c.key, c.reason)
			}
		})
	}
	// A bad value that a higher layer hides is not used and not an error.
	_, _, err := setup{env: map[string]string{"ARCHIV_WORKERS": "x"}, flags: []string{"--workers", "3"}}.resolve(t, "")
	if err != nil {
		t.Errorf("hidden bad variable: %v", err)
	}
	// What is no number at all is refused by the same rules, naming the flag.
	_, _, err = setup{flags: []string{"--workers", "acht"}}.resolve(t, "")
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "--workers" || !strings.Contains(ce.Reason, `keine ganze Zahl: "acht"`) {
		t.Errorf("--workers acht: %v", err)
	}
}

// TestLockTimeoutInSeconds: a plain number of seconds works on the command
// line and in the environment as it does in the file.
func TestLockTimeoutInSeconds(t *testing.T) {
	for _, c := range []struct {
		name string
		s    setup
	}{
		{"flag", setup{flags: []string{"--lock-timeout", "30"}}},
		{"flag with =", setup{flags: []string{"--lock-timeout=30"}}},
		{"environment", setup{env: map[string]string{"ARCHIV_LOCK_TIMEOUT": "30"}}},
		{"file, as text", setup{top: map[string]any{"lock_timeout": "30"}}},
		{"file, as number", setup{top: map[string]any{"lock_timeout": 30}}},
	} {
		cfg, _, err := c.s.resolve(t, "")
		if err != nil || cfg.LockTimeout != 30*time.Second {
			t.Errorf("%s: %v, %v", c.name, cfg.LockTimeout, err)
		}
	}
}
