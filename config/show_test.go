package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

func TestShowSources(t *testing.T) {
	s := setup{
		top:   map[string]any{"db": "/srv/werkstatt.db", "workers": 4},
		site:  map[string]any{"name": "nord", "archiv": "mem://nord", "smb_user": "backup"},
		env:   map[string]string{"ARCHIV_LOCK_TIMEOUT": "1m", "ARCHIV_SMB_PASSWORD": "pw"},
		flags: []string{"--log-file", "/var/log/wb.log"},
	}
	cfg, src, err := s.resolve(t, "nord")
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{"db", "/srv/werkstatt.db", FromFile, cfgPath, ""},
		{"archiv", "mem://nord", FromSite, "nord", ""},
		{"log_file", "/var/log/wb.log", FromFlag, "--log-file", ""},
		{"lock_timeout", "1m0s", FromEnv, "ARCHIV_LOCK_TIMEOUT", ""},
		{"workers", "4", FromFile, cfgPath, ""},
		{"mass_change", "25%", FromDefault, "", ""},
		{"mass_change_window", "7d", FromDefault, "", ""},
		{"retention", "last=10 daily=14 weekly=8 monthly=24 yearly=10", FromDefault, "", ""},
		{"history_lock", "", "", "", ""},
		{"pdfs", "", "", "", ""},
		{"pdf_check", "", "", "", ""},
		{"metrics_file", "", "", "", ""},
		{"notify", "", "", "", ""},
		{"smtp_host", "", "", "", ""},
		{"smtp_user", "", "", "", ""},
		{"smtp_from", "", "", "", ""},
		{"smtp_password_file", "", "", "", ""},
		{"smtp_password", "", "", "", ""},
		{"zeitplan", "", "", "", ""},
		{"smb_user", "backup", FromSite, "nord", ""},
		{"smb_domain", "", "", "", ""},
		{"smb_timeout", "15s", FromDefault, "", ""},
		{"smb_password_file", "", "", "", ""},
		{"smb_password", "***", FromEnv, "ARCHIV_SMB_PASSWORD", ""},
	}
	got := Show(cfg, src)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Show:\ngot  %v\nwant %v", got, want)
	}
	if s := (Source{FromEnv, "ARCHIV_DB"}).String(); s != "env ARCHIV_DB" {
		t.Errorf("Source.String() = %q", s)
	}
	if s := (Source{}).String(); s != "nicht gesetzt" {
		t.Errorf("Source{}.String() = %q", s)
	}
}

// A default whose effect depends on the archive says so; a value the user
// chose does not.
func TestShowDefaultNote(t *testing.T) {
	for _, c := range []struct {
		s    setup
		want Entry
	}{
		{setup{}, Entry{"workers", "8", FromDefault, "", "über SMB 128"}},
		{setup{env: map[string]string{"ARCHIV_WORKERS": "8"}}, Entry{"workers", "8", FromEnv, "ARCHIV_WORKERS", ""}},
	} {
		cfg, src, err := c.s.resolve(t, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range Show(cfg, src) {
			if e.Key == "workers" && e != c.want {
				t.Errorf("Show: %+v, want %+v", e, c.want)
			}
		}
	}
}

// TestSecretsNeverShown: the password from the environment and one in an
// smb:// URL appear neither in Show (text or JSON), nor in Config's own
// formatting, nor in any error.
func TestSecretsNeverShown(t *testing.T) {
	const secret = "Str3ng-Geheim"
	check := func(what, s string) {
		t.Helper()
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the password: %s", what, s)
		}
	}
	s := setup{
		site: map[string]any{"name": "nord", "archiv": "smb://werk;backup:" + secret + "@nas-nord/archiv"},
		env:  map[string]string{"ARCHIV_SMB_PASSWORD": secret},
	}
	cfg, src, err := s.resolve(t, "nord")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Backend["smb_password"] != secret || !strings.Contains(cfg.Archiv, secret) {
		t.Fatalf("the password must still reach the program: %q %q", cfg.Backend["smb_password"], cfg.Archiv)
	}
	entries := Show(cfg, src)
	b, _ := json.Marshal(entries)
	check("Show --json", string(b))
	check("Show", fmt.Sprint(entries))
	check("%v", fmt.Sprintf("%v", cfg))
	check("%+v", fmt.Sprintf("%+v", cfg))
	check("%#v", fmt.Sprintf("%#v", cfg))
	check("%s", fmt.Sprintf("%s", cfg))
	for _, e := range entries {
		if e.Key == "archiv" && e.Value != "smb://werk;backup:***@nas-nord/archiv" {
			t.Errorf("archiv shown as %q", e.Value)
		}
	}
	if redactURL("smb://u:"+secret+"@nas") != "smb://***@nas" {
		t.Errorf("redactURL of an unparsable URL: %q", redactURL("smb://u:"+secret+"@nas"))
	}

	// Errors: a broken URL with a password, from the file, the environment
	// and a flag; the password where it does not belong.
	bad := []setup{
		{top: map[string]any{"archiv": "smb://backup:" + secret + "@nas"}},
		{site: map[string]any{"name": "nord", "archiv": "smb://backup:" + secret + "@nas:0/x"}},
		{env: map[string]string{"ARCHIV_ARCHIV": "smb://backup:" + secret + "@/x"}},
		{flags: []string{"--archiv", "smb://backup:" + secret + "@nas"}},
		{top: map[string]any{"smb_password": secret}},
		{top: map[string]any{"passwort": secret}},
		{site: map[string]any{"name": "nord", "archiv": "/a", "smb_password": secret}},
	}
	for i, b := range bad {
		_, _, err := b.resolve(t, "")
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		check(fmt.Sprintf("error %d", i), err.Error())
	}
	fsys := afero.NewMemMapFs()
	afero.WriteFile(fsys, cfgPath, []byte(`{"archiv": "smb://backup:`+secret+`@nas/x" "db": 1}`), 0o644)
	if _, err := Load(fsys, cfgPath); err == nil {
		t.Error("invalid JSON loaded")
	} else {
		check("JSON error", err.Error())
	}
}
