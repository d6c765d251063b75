package config

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/storage"
)

// fakeBackend declares options of every kind, as a new backend would.
type fakeBackend struct{}

func (fakeBackend) Describe() storage.Description {
	return storage.Description{Scheme: "xs", Syntax: "xs://behälter", Summary: "Test", Workers: 64,
		Options: []storage.Option{
			{Key: "xs_region", Kind: storage.OptString, Default: "eu-1", Help: "Region"},
			{Key: "xs_insecure", Kind: storage.OptBool, Help: "ohne TLS"},
			{Key: "xs_parts", Kind: storage.OptInt, Default: 4, Help: "Teile"},
			{Key: "xs_wait", Kind: storage.OptDuration, Default: 10 * time.Second, MinDuration: time.Second, Help: "Frist"},
			{Key: "xs_secret_file", Kind: storage.OptPath, Help: "Datei mit dem Schlüssel"},
			{Key: "xs_secret", Kind: storage.OptString, Secret: true, Env: []string{"XS_SECRET_KEY"}, Help: "Schlüssel"},
		}}
}

func (fakeBackend) Parse(rest string) (storage.Location, error) { return fakeLoc(rest), nil }

func (fakeBackend) Open(context.Context, storage.Location, storage.Options) (*storage.Archive, error) {
	return nil, errors.New("nicht in diesem Test")
}

type fakeLoc string

func (fakeLoc) Scheme() string   { return "xs" }
func (l fakeLoc) String() string { return "xs://" + string(l) }

// TestBackendKeys: a backend's declared options become keys of the file,
// flags and ARCHIV_ variables with their defaults, a secret comes from the
// environment only (its own ARCHIV_ name or the further names) and is
// "***" in config show, and the help of archiv and workers names the
// backend. Nothing in config names the backend.
func TestBackendKeys(t *testing.T) {
	reg := testRegistry()
	reg.Register(fakeBackend{})
	UseBackends(reg)
	t.Cleanup(func() { UseBackends(testRegistry()) })

	k, _ := lookupKey("archiv")
	if !strings.Contains(k.help, "xs://behälter") {
		t.Errorf("archiv help = %q", k.help)
	}
	if k, _ := lookupKey("workers"); !strings.Contains(k.help, "über XS 64") || !strings.Contains(k.defNote, "über SMB 128") {
		t.Errorf("workers help %q, note %q", k.help, k.defNote)
	}
	fs := cliFlags(t)
	for _, name := range []string{"xs-region", "xs-insecure", "xs-parts", "xs-wait", "xs-secret-file"} {
		if fs.Lookup(name) == nil {
			t.Errorf("no flag --%s", name)
		}
	}
	if fs.Lookup("xs-secret") != nil {
		t.Error("a secret has a flag (visible in ps)")
	}
	if f := fs.Lookup("xs-secret-file"); f == nil || !strings.Contains(f.Usage, "$ARCHIV_XS_SECRET_FILE") {
		t.Errorf("usage of --xs-secret-file: %+v", f)
	}

	cfg, src, err := setup{
		top:   map[string]any{"archiv": "xs://b", "xs_parts": 8, "xs_secret_file": "schluessel"},
		env:   map[string]string{"ARCHIV_XS_INSECURE": "ja", "XS_SECRET_KEY": "Str3ng-Geheim"},
		flags: []string{"--xs-wait", "30"},
	}.resolve(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"xs_region": "eu-1", "xs_insecure": true, "xs_parts": 8, "xs_wait": 30 * time.Second,
		"xs_secret_file": "/etc/werkstatt/schluessel", "xs_secret": "Str3ng-Geheim"}
	got := cfg.BackendOptions("xs")
	for key, v := range want {
		if got[key] != v {
			t.Errorf("%s = %#v (%s), want %#v", key, got[key], src[key], v)
		}
	}
	if s := src["xs_secret"]; s.Kind != FromEnv || s.Where != "XS_SECRET_KEY" {
		t.Errorf("source of xs_secret = %v", s)
	}
	if _, ok := cfg.BackendOptions("smb")["xs_parts"]; ok {
		t.Error("the SMB backend gets the options of xs")
	}
	for _, e := range Show(cfg, src) {
		if e.Key == "xs_secret" && e.Value != "***" {
			t.Errorf("config show: xs_secret = %q", e.Value)
		}
	}
	if strings.Contains(cfg.String(), "Str3ng-Geheim") {
		t.Error("Config.String shows the secret")
	}

	for _, s := range []setup{
		{top: map[string]any{"xs_secret": "x"}},
		{env: map[string]string{"ARCHIV_XS_INSECURE": "vielleicht"}},
		{top: map[string]any{"xs_wait": "0.5"}},
		{flags: []string{"--xs-parts", "-1"}},
	} {
		_, _, err := s.resolve(t, "")
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(ce.Key, "xs") && !strings.Contains(ce.Key, "XS") {
			t.Errorf("%+v: %v, want an error naming the key", s, err)
		}
	}
	_, _, err = setup{top: map[string]any{"xs_secret": "x"}}.resolve(t, "")
	if err == nil || !strings.Contains(err.Error(), "ARCHIV_XS_SECRET oder xs_secret_file") {
		t.Errorf("secret in the file: %v", err)
	}
}
