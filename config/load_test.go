package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/pflag"
)

// cfgPath is where the tests put the config file on the in-memory Fs.
const cfgPath = "/etc/werkstatt/config.json"

// layer is one source of a value, lowest precedence first.
type layer int

const (
	lDefault layer = iota
	lFile
	lSite
	lEnv
	lFlag
)

var layerKinds = []string{FromDefault, FromFile, FromSite, FromEnv, FromFlag}

func (l layer) String() string { return layerKinds[l] }

// sample is a valid value of k that is different in every layer: as written
// in the file (JSON), as a string (environment, flag), and as Config holds it.
func sample(k key, l layer) (inFile any, asText string, want any) {
	switch k.kind {
	case kindInt, kindNumber:
		n := 10 + int(l)
		return n, fmt.Sprint(n), n
	case kindBool:
		b := l%2 == 1
		return b, fmt.Sprint(b), b
	case kindDuration:
		d := time.Duration(10+int(l)) * time.Second
		return d.String(), d.String(), d
	case kindRetention:
		r := Retention{Last: 10 + int(l), Yearly: -1}
		return map[string]any{"last": 10 + int(l), "yearly": -1}, r.String(), r
	case kindWindow:
		n := 10 + int(l)
		return n, fmt.Sprintf("%dd", n), MassChangeWindow(time.Duration(n) * 24 * time.Hour)
	case kindLockDays:
		n := 10 + int(l)
		return n, fmt.Sprintf("%dd", n), HistoryLock(time.Duration(n) * 24 * time.Hour)
	case kindShare:
		p := 10 + int(l)
		return fmt.Sprintf("%d%%", p), fmt.Sprintf("%d %%", p), Share(float64(p) / 100)
	case kindZeitplan:
		// get compares the text form: a slice is not comparable.
		z := Zeitplan{{Zeit: fmt.Sprintf("%d 2 * * *", 10+int(l)), Befehl: []string{"export", "--" + l.String()}}}
		return []any{map[string]any{"zeit": z[0].Zeit, "befehl": z[0].Befehl[0] + " " + z[0].Befehl[1]}}, z.String(), z.String()
	case kindLocation:
		s := "mem://" + k.name + "-" + l.String()
		return s, s, s
	case kindPath:
		s := "/" + l.String() + "/" + k.name + k.suffix
		return s, s, s
	case kindNotify:
		u := "https://hc.example/ping/" + l.String()
		n := Notify{{Webhook: u, On: "fehler"}}
		return []any{map[string]any{"webhook": u, "on": "fehler"}}, `[{"webhook": "` + u + `", "on": "fehler"}]`, n.String()
	}
	if k.name == "pdf_check" {
		s := fmt.Sprintf("%d%%", 10+int(l))
		return s, s, s
	}
	if k.name == "smtp_from" {
		s := l.String() + "@werkstatt.de"
		return s, s, s
	}
	s := k.name + "-" + l.String()
	return s, s, s
}

// setup is one test's world: an in-memory Fs with the config file, the
// environment and a FlagSet like the CLI's.
type setup struct {
	top   map[string]any
	site  map[string]any // nil: no sites
	env   map[string]string
	flags []string
}

func (s setup) resolve(t *testing.T, siteName string) (Config, Sources, error) {
	t.Helper()
	clearEnv(t)
	for k, v := range s.env {
		t.Setenv(k, v)
	}
	fsys := afero.NewMemMapFs()
	if s.top != nil || s.site != nil {
		doc := map[string]any{}
		for k, v := range s.top {
			doc[k] = v
		}
		if s.site != nil {
			doc["sites"] = []any{s.site}
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, cfgPath, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	configFlag := ""
	if s.top != nil || s.site != nil {
		configFlag = cfgPath
	}
	ld, err := Load(fsys, configFlag)
	if err != nil {
		return Config{}, nil, err
	}
	return ld.Resolve(siteName, cliFlags(t, s.flags...))
}

// cliFlags parses args with the flags the CLI registers.
func cliFlags(t *testing.T, args ...string) *pflag.FlagSet {
	t.Helper()
	fs := pflag.NewFlagSet("werkstatt-backup", pflag.ContinueOnError)
	RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

// clearEnv unsets every ARCHIV_* variable of the test process for this test.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, k := range keys {
		t.Setenv(envName(k.name), "")
		for _, env := range k.env {
			t.Setenv(env, "")
		}
	}
	t.Setenv("ARCHIV_CONFIG", "")
}

func get(cfg Config, name string) any {
	if k, _ := lookupKey(name); k.backend != "" {
		return cfg.Backend[name]
	}
	switch p := cfg.field(name).(type) {
	case *string:
		return *p
	case *time.Duration:
		return *p
	case *int:
		return *p
	case *Share:
		return *p
	case *Retention:
		return *p
	case *HistoryLock:
		return *p
	case *MassChangeWindow:
		return *p
	case *Zeitplan:
		return p.String()
	case *Notify:
		return p.String()
	}
	return nil
}

// TestPrecedence sets every setting in two layers at once, for every pair of
// layers, and checks that the higher one wins and is named as the source.
func TestPrecedence(t *testing.T) {
	for _, k := range keys {
		if k.flag == "" {
			continue // smb_password: environment only, see TestSecretOnlyFromEnvironment
		}
		for hi := lFile; hi <= lFlag; hi++ {
			for lo := lDefault; lo < hi; lo++ {
				if lo == lDefault && k.def == nil {
					continue
				}
				t.Run(fmt.Sprintf("%s/%s>%s", k.name, hi, lo), func(t *testing.T) {
					s := setup{top: map[string]any{}, env: map[string]string{}}
					siteName := ""
					for _, l := range []layer{lo, hi} {
						inFile, text, _ := sample(k, l)
						switch l {
						case lFile:
							s.top[k.name] = inFile
						case lSite:
							s.site = map[string]any{"name": "nord", "archiv": "mem://nord"}
							s.site[k.name] = inFile
							siteName = "nord"
						case lEnv:
							s.env[envName(k.name)] = text
						case lFlag:
							s.flags = []string{"--" + k.flag + "=" + text}
						}
					}
					cfg, src, err := s.resolve(t, siteName)
					if err != nil {
						t.Fatal(err)
					}
					_, _, want := sample(k, hi)
					if got := get(cfg, k.name); got != want {
						t.Errorf("%s = %v, want %v (from %s)", k.name, got, want, hi)
					}
					if got := src[k.name].Kind; got != hi.String() {
						t.Errorf("source of %s = %q, want %q", k.name, got, hi)
					}
				})
			}
		}
	}
}

// TestDefaults: with nothing given, the defaults hold, the flags' defaults
// equal them, and settings without a default are empty.
func TestDefaults(t *testing.T) {
	cfg, src, err := setup{}.resolve(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{LogFile: "backup_system.log", LockTimeout: 30 * time.Second, Workers: 8, MassChange: 0.25, MassChangeWindow: DefaultMassChangeWindow, Retention: DefaultRetention, Backend: map[string]any{"smb_timeout": 15 * time.Second}}
	if cfg.String() != want.String() {
		t.Errorf("got %v\nwant %v", cfg, want)
	}
	fs := cliFlags(t)
	for _, k := range keys {
		if k.def != nil && src[k.name].Kind != FromDefault || k.def == nil && src[k.name].Kind != "" {
			t.Errorf("source of %s = %q", k.name, src[k.name])
		}
		if k.flag == "" {
			continue
		}
		f := fs.Lookup(k.flag)
		if f == nil {
			t.Fatalf("flag --%s not registered", k.flag)
		}
		if def := fmt.Sprint(k.def); k.def != nil && f.DefValue != def {
			t.Errorf("--%s default %q, key default %q", k.flag, f.DefValue, def)
		}
		if !strings.Contains(f.Usage, envName(k.name)) {
			t.Errorf("--%s usage does not name %s: %q", k.flag, envName(k.name), f.Usage)
		}
	}
}

// TestFlagDefaultDoesNotOverride: a flag the user did not set keeps out of
// the way (viper #671, #1010), but a flag set to its default value wins.
func TestFlagDefaultDoesNotOverride(t *testing.T) {
	for _, k := range keys {
		if k.flag == "" {
			continue
		}
		for _, l := range []layer{lFile, lSite, lEnv} {
			t.Run(k.name+"/"+l.String(), func(t *testing.T) {
				inFile, text, want := sample(k, l)
				s := setup{env: map[string]string{}}
				site := ""
				switch l {
				case lFile:
					s.top = map[string]any{k.name: inFile}
				case lSite:
					s.site = map[string]any{"name": "nord", "archiv": "mem://nord", k.name: inFile}
					site = "nord"
				case lEnv:
					s.env[envName(k.name)] = text
				}
				cfg, src, err := s.resolve(t, site) // flags registered, none given
				if err != nil {
					t.Fatal(err)
				}
				if got := get(cfg, k.name); got != want || src[k.name].Kind != l.String() {
					t.Errorf("%s = %v from %s, want %v from %s", k.name, got, src[k.name], want, l)
				}
			})
		}
	}
	// --workers 8 equals the default, yet the user said it: it wins over
	// the file's 3.
	s := setup{top: map[string]any{"workers": 3}, flags: []string{"--workers", "8"}}
	cfg, src, err := s.resolve(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Workers != 8 || src["workers"] != (Source{FromFlag, "--workers"}) {
		t.Errorf("workers = %d from %v, want 8 from --workers", cfg.Workers, src["workers"])
	}
}

// TestEnvironmentAlone: a variable for a key set nowhere else is seen
// (viper #761), for every key, the secret included.
func TestEnvironmentAlone(t *testing.T) {
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			_, text, want := sample(k, lEnv)
			cfg, src, err := setup{env: map[string]string{envName(k.name): text}}.resolve(t, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := get(cfg, k.name); got != want {
				t.Errorf("%s = %v, want %v", k.name, got, want)
			}
			if got := src[k.name]; got != (Source{FromEnv, envName(k.name)}) {
				t.Errorf("source = %v", got)
			}
		})
	}
	// Empty counts as unset, as in viper.
	cfg, _, err := setup{top: map[string]any{"db": "/file.db"}, env: map[string]string{"ARCHIV_DB": ""}}.resolve(t, "")
	if err != nil || cfg.DB != "/file.db" {
		t.Errorf("empty ARCHIV_DB: %q, %v", cfg.DB, err)
	}
	// Decimal, never octal (viper's own cast would read 010 as 8).
	cfg, _, err = setup{env: map[string]string{"ARCHIV_WORKERS": "010"}}.resolve(t, "")
	if err != nil || cfg.Workers != 10 {
		t.Errorf("ARCHIV_WORKERS=010: %d, %v", cfg.Workers, err)
	}
}

// TestSecretOnlyFromEnvironment: smb_password has no flag and is refused in
// the file; ARCHIV_SMB_PASSWORD is its only source.
func TestSecretOnlyFromEnvironment(t *testing.T) {
	fs := cliFlags(t)
	fs.VisitAll(func(f *pflag.Flag) {
		if strings.Contains(f.Name, "password") && f.Name != "smb-password-file" {
			t.Errorf("flag --%s would put a password on the command line", f.Name)
		}
	})
	for _, s := range []setup{
		{top: map[string]any{"smb_password": "geheim"}},
		{site: map[string]any{"name": "nord", "archiv": "/a", "smb_password": "geheim"}},
	} {
		_, _, err := s.resolve(t, "")
		var ce *Error
		if !errors.As(err, &ce) || !strings.HasSuffix(ce.Key, "smb_password") ||
			!strings.Contains(ce.Reason, "ARCHIV_SMB_PASSWORD") || !strings.Contains(ce.Reason, "smb_password_file") {
			t.Errorf("smb_password in the file: %v", err)
		}
	}
}

// TestSites: a site inherits the top level, overrides it key by key, and is
// picked by name regardless of case.
func TestSites(t *testing.T) {
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, cfgPath, []byte(`{
		"db": "/srv/werkstatt.db", "archiv": "/srv/archiv", "workers": 4, "smb_user": "backup",
		"sites": [
			{"name": "zentrale", "archiv": "/srv/zentrale"},
			{"name": "Filiale-Nord", "db": "/srv/nord.db", "archiv": "smb://nas-nord/archiv", "workers": 2, "smb_user": ""}
		]}`), 0o644)
	clearEnv(t)
	ld, err := Load(fsys, cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if got := ld.Sites(); !slices.Equal(got, []string{"zentrale", "Filiale-Nord"}) {
		t.Fatalf("Sites() = %q", got)
	}
	cfg, src, err := ld.Resolve("filiale-nord", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Site: "Filiale-Nord", File: cfgPath, DB: "/srv/nord.db", Archiv: "smb://nas-nord/archiv",
		LogFile: "backup_system.log", LockTimeout: 30 * time.Second, Workers: 2, MassChange: 0.25, MassChangeWindow: DefaultMassChangeWindow, Retention: DefaultRetention, Backend: map[string]any{"smb_timeout": 15 * time.Second, "smb_user": ""}}
	if cfg.String() != want.String() {
		t.Errorf("got  %v\nwant %v", cfg, want)
	}
	if src["smb_user"].Kind != FromSite || src["lock_timeout"].Kind != FromDefault {
		t.Errorf("sources: %v", src)
	}
	cfg, src, err = ld.Resolve("zentrale", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DB != "/srv/werkstatt.db" || src["db"] != (Source{FromFile, cfgPath}) || cfg.Archiv != "/srv/zentrale" || cfg.Backend["smb_user"] != "backup" {
		t.Errorf("zentrale: %v %v", cfg, src)
	}
	// The top level alone, without --site.
	cfg, _, err = ld.Resolve("", nil)
	if err != nil || cfg.Archiv != "/srv/archiv" || cfg.Site != "" {
		t.Errorf("top level: %v %v", cfg, err)
	}

	_, _, err = ld.Resolve("süd", nil)
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "--site" || ce.File != cfgPath || !strings.Contains(ce.Reason, `"süd"`) ||
		!strings.Contains(ce.Reason, "zentrale, Filiale-Nord") {
		t.Errorf("unknown site: %v", err)
	}
	noSites, _ := Load(afero.NewMemMapFs(), "")
	if _, _, err := noSites.Resolve("nord", nil); !errors.As(err, &ce) || ce.Key != "--site" {
		t.Errorf("--site without a file: %v", err)
	}
}

// TestWhichFile: --config, else $ARCHIV_CONFIG, else ./.archiv_config.json,
// else no file.
func TestWhichFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	fsys := afero.NewMemMapFs()
	write := func(path, db string) {
		if err := afero.WriteFile(fsys, path, []byte(`{"db": "`+db+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	load := func(flag string) Config {
		t.Helper()
		ld, err := Load(fsys, flag)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := ld.Resolve("", nil)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	clearEnv(t)
	if cfg := load(""); cfg.File != "" || cfg.DB != "" {
		t.Errorf("no file: %v", cfg)
	}
	write(DefaultFile, "default.db")
	if cfg := load(""); cfg.File != DefaultFile || cfg.DB != filepath.Join(dir, "default.db") {
		t.Errorf("default file: %v", cfg)
	}
	write("/a/env.json", "env.db")
	t.Setenv("ARCHIV_CONFIG", "/a/env.json")
	if cfg := load(""); cfg.File != "/a/env.json" || cfg.DB != "/a/env.db" {
		t.Errorf("ARCHIV_CONFIG: %v", cfg)
	}
	write("/b/flag.json", "flag.db")
	if cfg := load("/b/flag.json"); cfg.File != "/b/flag.json" || cfg.DB != "/b/flag.db" {
		t.Errorf("--config: %v", cfg)
	}
	// A named file must exist; only the default one is optional.
	_, err := Load(fsys, "/b/fehlt.json")
	var ce *Error
	if !errors.As(err, &ce) || ce.File != "/b/fehlt.json" {
		t.Errorf("missing --config file: %v", err)
	}
}

// TestRelativePaths: paths in the file are relative to the file's folder,
// URLs stay as they are; paths from flags and environment are not touched.
func TestRelativePaths(t *testing.T) {
	cases := []struct{ key, in, want string }{
		{"db", "./werkstatt.db", "/etc/werkstatt/werkstatt.db"},
		{"db", "../daten/werkstatt.db", "/etc/daten/werkstatt.db"},
		{"db", "/srv/werkstatt.db", "/srv/werkstatt.db"},
		{"archiv", "test_archiv", "/etc/werkstatt/test_archiv"},
		{"archiv", "./test_archiv/", "/etc/werkstatt/test_archiv"},
		{"archiv", "/srv/archiv", "/srv/archiv"},
		{"archiv", "file:///srv/archiv", "file:///srv/archiv"},
		{"archiv", "FILE:///srv/archiv", "FILE:///srv/archiv"},
		{"archiv", "mem://lager", "mem://lager"},
		{"archiv", "smb://backup@nas/archiv/sub", "smb://backup@nas/archiv/sub"},
		{"log_file", "backup_system.log", "/etc/werkstatt/backup_system.log"},
		{"metrics_file", "prom/werkstatt_backup.prom", "/etc/werkstatt/prom/werkstatt_backup.prom"},
		{"smb_password_file", "nord.pass", "/etc/werkstatt/nord.pass"},
		{"smb_user", "./nicht-ein-pfad", "./nicht-ein-pfad"},
	}
	for _, c := range cases {
		t.Run(c.key+"="+c.in, func(t *testing.T) {
			for _, inSite := range []bool{false, true} {
				s := setup{top: map[string]any{c.key: c.in}}
				site := ""
				if inSite {
					s = setup{site: map[string]any{"name": "nord", "archiv": "mem://x", c.key: c.in}}
					site = "nord"
				}
				cfg, _, err := s.resolve(t, site)
				if err != nil {
					t.Fatal(err)
				}
				if got := get(cfg, c.key); got != c.want {
					t.Errorf("site=%v: %s = %q, want %q", inSite, c.key, got, c.want)
				}
			}
		})
	}
	cfg, _, err := setup{env: map[string]string{"ARCHIV_DB": "./env.db"}, flags: []string{"--archiv", "./flag"}}.resolve(t, "")
	if err != nil || cfg.DB != "./env.db" || cfg.Archiv != "./flag" {
		t.Errorf("environment and flags resolved: %v %v", cfg, err)
	}
}

// TestRequire names the missing setting and, if the file has sites, them.
func TestRequire(t *testing.T) {
	cfg := Config{File: "x.json", Archiv: "/a", Sites: []string{"zentrale", "nord"}}
	if err := Require(cfg, "archiv"); err != nil {
		t.Fatal(err)
	}
	err := Require(cfg, "archiv", "db")
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "db" || ce.File != "x.json" ||
		!strings.Contains(ce.Reason, "--db") || !strings.Contains(ce.Reason, "ARCHIV_DB") || !strings.Contains(ce.Reason, "zentrale, nord") {
		t.Errorf("Require: %v", err)
	}
}

// history_lock takes days as a number, "56d" or a duration of whole or
// more days.
func TestHistoryLockValues(t *testing.T) {
	for in, want := range map[any]time.Duration{
		"56": 56 * 24 * time.Hour, json.Number("7"): 7 * 24 * time.Hour, "56d": 56 * 24 * time.Hour, "36h": 36 * time.Hour,
	} {
		got, err := parseHistoryLock(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("history_lock %v = %v, %v; want %v", in, got, err, want)
		}
	}
	if s := HistoryLock(56 * 24 * time.Hour).String(); s != "56d" {
		t.Errorf("String = %q", s)
	}
}

// TestNotifyNeedsSMTPHost: a mail target without smtp_host is a
// configuration error naming the target where it was written: the file's
// top level, a site's entry, or ARCHIV_NOTIFY; smtp_host may come from the
// top level, the site or the environment.
func TestNotifyNeedsSMTPHost(t *testing.T) {
	mailTo := []any{map[string]any{"webhook": "https://hc.example/ping/x", "on": "immer"}, map[string]any{"mail": "admin@werkstatt.de", "on": "warnung"}}
	for _, c := range []struct {
		name      string
		s         setup
		site      string
		file, key string // "" key: no error
	}{
		{"top level", setup{top: map[string]any{"notify": mailTo}}, "", cfgPath, "notify[1].mail"},
		{"site", setup{top: map[string]any{"db": "/x.db"}, site: map[string]any{"name": "nord", "archiv": "/n", "notify": mailTo}}, "nord", cfgPath, "sites[0].notify[1].mail"},
		{"environment", setup{env: map[string]string{"ARCHIV_NOTIFY": `[{"mail": "a@b.de", "on": "fehler"}]`}}, "", "", "ARCHIV_NOTIFY[0].mail"},
		{"host at the top, target in the site", setup{top: map[string]any{"smtp_host": "mail.example:587"}, site: map[string]any{"name": "nord", "archiv": "/n", "notify": mailTo}}, "nord", "", ""},
		{"host from the environment", setup{top: map[string]any{"notify": mailTo}, env: map[string]string{"ARCHIV_SMTP_HOST": "mail.example"}}, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, err := c.s.resolve(t, c.site)
			var ce *Error
			if c.key == "" {
				if err != nil || len(cfg.Notify) != 2 || cfg.Notify[1].Mail != "admin@werkstatt.de" || cfg.Notify[1].On != "warnung" {
					t.Fatalf("%v %+v", err, cfg.Notify)
				}
				return
			}
			if !errors.As(err, &ce) || ce.File != c.file || ce.Key != c.key || !strings.Contains(ce.Reason, "smtp_host") {
				t.Fatalf("err = %#v", err)
			}
		})
	}
}

// TestNotifyShowAndSecrets: config show names webhooks by host only and
// the SMTP password as ***; the password comes from the environment.
func TestNotifyShowAndSecrets(t *testing.T) {
	s := setup{
		top: map[string]any{"smtp_host": "mail.example", "smtp_user": "backup", "notify": []any{
			map[string]any{"webhook": "https://hc.example/ping/5f0c-geheim", "on": "fehler"},
			map[string]any{"mail": "admin@werkstatt.de", "on": "warnung"}}},
		env: map[string]string{"ARCHIV_SMTP_PASSWORD": "pw-geheim"},
	}
	cfg, src, err := s.resolve(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SMTPPassword != "pw-geheim" || cfg.SMTPHost != "mail.example" {
		t.Fatalf("cfg: %v %q", cfg.SMTPHost, cfg.SMTPUser)
	}
	shown := fmt.Sprint(Show(cfg, src)) + cfg.String()
	if strings.Contains(shown, "geheim") {
		t.Fatalf("a secret is shown: %s", shown)
	}
	if !strings.Contains(shown, "Webhook https://hc.example/… (fehler); Mail admin@werkstatt.de (warnung)") || !strings.Contains(shown, "smtp_password *** env ARCHIV_SMTP_PASSWORD") {
		t.Fatalf("show: %s", shown)
	}
}

// TestKeyErrorNamesTheSource: a problem found after Resolve (a backend's
// option, a missing database) names the flag, the variable or the file's
// key it came from, and no file for a key set nowhere.
func TestKeyErrorNamesTheSource(t *testing.T) {
	s := setup{
		top:   map[string]any{"db": "/file.db", "smb_user": "backup"},
		site:  map[string]any{"name": "nord", "archiv": "mem://nord", "smb_password_file": "/etc/nord.pass"},
		env:   map[string]string{"ARCHIV_LOG_FILE": "/var/log/wb.log"},
		flags: []string{"--db", "/nicht/da.db"},
	}
	cfg, _, err := s.resolve(t, "nord")
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"db":                "Konfiguration: --db: x",
		"log_file":          "Konfiguration: ARCHIV_LOG_FILE: x",
		"smb_user":          "Konfiguration " + cfgPath + ": smb_user: x",
		"smb_password_file": "Konfiguration " + cfgPath + ": sites[0].smb_password_file: x",
		"s3_secret_key":     "Konfiguration: s3_secret_key: x",
	} {
		if got := cfg.KeyError(key, "x").Error(); got != want {
			t.Errorf("KeyError(%s) = %q, want %q", key, got, want)
		}
	}
}

// mass_change_window: a week by default; days as a number, "7d" or a
// duration from the file or ARCHIV_MASS_CHANGE_WINDOW; 0 switches it off;
// a bad value is an *Error naming the key where it was written.
func TestMassChangeWindow(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		s    setup
		want time.Duration
		from string
	}{
		{setup{}, 7 * day, FromDefault},
		{setup{top: map[string]any{"mass_change_window": 3}}, 3 * day, FromFile},
		{setup{top: map[string]any{"mass_change_window": "14d"}}, 14 * day, FromFile},
		{setup{top: map[string]any{"mass_change_window": 0}}, 0, FromFile},
		{setup{site: map[string]any{"name": "nord", "archiv": "/a", "mass_change_window": "36h"}}, 36 * time.Hour, FromSite},
		{setup{top: map[string]any{"mass_change_window": 3}, env: map[string]string{"ARCHIV_MASS_CHANGE_WINDOW": "2d"}}, 2 * day, FromEnv},
	} {
		site := ""
		if c.s.site != nil {
			site = "nord"
		}
		cfg, src, err := c.s.resolve(t, site)
		if err != nil || time.Duration(cfg.MassChangeWindow) != c.want || src["mass_change_window"].Kind != c.from {
			t.Errorf("%+v: %v from %v, %v; want %v from %s", c.s, time.Duration(cfg.MassChangeWindow), src["mass_change_window"], err, c.want, c.from)
		}
	}
	for _, c := range []struct {
		s         setup
		key, file string
		reason    string
	}{
		{setup{top: map[string]any{"mass_change_window": "eine Woche"}}, "mass_change_window", cfgPath, `keine gültige Dauer: "eine Woche"`},
		{setup{top: map[string]any{"mass_change_window": -1}}, "mass_change_window", cfgPath, "zwischen 0 und 3650 Tagen"},
		{setup{top: map[string]any{"mass_change_window": true}}, "mass_change_window", cfgPath, "nicht ein Wahrheitswert"},
		{setup{site: map[string]any{"name": "nord", "archiv": "/a", "mass_change_window": "99999d"}}, "sites[0].mass_change_window", cfgPath, "zwischen 0 und 3650 Tagen"},
		{setup{env: map[string]string{"ARCHIV_MASS_CHANGE_WINDOW": "bald"}}, "ARCHIV_MASS_CHANGE_WINDOW", "", `"bald"`},
	} {
		site := ""
		if c.s.site != nil {
			site = "nord"
		}
		_, _, err := c.s.resolve(t, site)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != c.key || ce.File != c.file || !strings.Contains(ce.Reason, c.reason) {
			t.Errorf("%+v: got %#v, want key %q reason containing %q", c.s, err, c.key, c.reason)
		}
	}
	if s := (MassChangeWindow(7 * day)).String(); s != "7d" {
		t.Errorf("String = %q", s)
	}
}
