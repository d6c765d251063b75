package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestZeitplan: schedule's jobs from the file (befehl as text or list) and
// from ARCHIV_ZEITPLAN (crontab lines), the environment winning.
func TestZeitplan(t *testing.T) {
	list := []any{
		map[string]any{"befehl": "export", "zeit": "0 2 * * *"},
		map[string]any{"Befehl": []any{"verify", "--with-db"}, "ZEIT": "CRON_TZ=Europe/Berlin 0 3 * * 0"},
	}
	cfg, src, err := setup{top: map[string]any{"archiv": "mem://z", "zeitplan": list}}.resolve(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Zeitplan{
		{Zeit: "0 2 * * *", Befehl: []string{"export"}},
		{Zeit: "CRON_TZ=Europe/Berlin 0 3 * * 0", Befehl: []string{"verify", "--with-db"}},
	}
	if !slices.EqualFunc(cfg.Zeitplan, want, sameJob) || src["zeitplan"].Kind != FromFile {
		t.Errorf("from the file: %v (%s), want %v", cfg.Zeitplan, src["zeitplan"], want)
	}
	if got := cfg.Zeitplan.String(); got != "0 2 * * * export; CRON_TZ=Europe/Berlin 0 3 * * 0 verify --with-db" {
		t.Errorf("String() = %q", got)
	}

	env := map[string]string{"ARCHIV_ZEITPLAN": "@daily export --full;\n@every 6h verify; 30 1 * * 1-5 verify --with-db"}
	cfg, src, err = setup{top: map[string]any{"archiv": "mem://z", "zeitplan": list}, env: env}.resolve(t, "")
	if err != nil {
		t.Fatal(err)
	}
	want = Zeitplan{
		{Zeit: "@daily", Befehl: []string{"export", "--full"}},
		{Zeit: "@every 6h", Befehl: []string{"verify"}},
		{Zeit: "30 1 * * 1-5", Befehl: []string{"verify", "--with-db"}},
	}
	if !slices.EqualFunc(cfg.Zeitplan, want, sameJob) || src["zeitplan"].Kind != FromEnv {
		t.Errorf("from the environment: %v (%s), want %v", cfg.Zeitplan, src["zeitplan"], want)
	}
}

func sameJob(a, b Job) bool { return a.Zeit == b.Zeit && slices.Equal(a.Befehl, b.Befehl) }

// TestZeitplanRefused: each mistake is a configuration error naming the key
// and the entry.
func TestZeitplanRefused(t *testing.T) {
	cases := []struct {
		name string
		s    setup
		want string
	}{
		{"not a list", setup{top: map[string]any{"zeitplan": 3}}, "zeitplan: muss eine Liste"},
		{"empty", setup{top: map[string]any{"zeitplan": []any{}}}, "zeitplan: leer"},
		{"bad time", setup{top: map[string]any{"zeitplan": []any{map[string]any{"befehl": "export", "zeit": "nachts"}}}}, "zeitplan: [0].zeit: ungültiger Zeitplan"},
		{"no time", setup{top: map[string]any{"zeitplan": []any{map[string]any{"befehl": "export"}}}}, "zeitplan: [0].zeit: fehlt"},
		{"no command", setup{top: map[string]any{"zeitplan": []any{map[string]any{"zeit": "@daily", "befehl": " "}}}}, "zeitplan: [0].befehl: fehlt"},
		{"unknown key", setup{top: map[string]any{"zeitplan": []any{map[string]any{"zeit": "@daily", "befehl": "export", "wann": 1}}}}, "zeitplan: [0].wann: unbekannter Schlüssel"},
		{"in a site", setup{site: map[string]any{"name": "nord", "archiv": "mem://n", "zeitplan": []any{map[string]any{"zeit": "@daily", "befehl": "export"}}}}, "sites[0].zeitplan: gehört auf die oberste Ebene"},
		{"environment without command", setup{env: map[string]string{"ARCHIV_ZEITPLAN": "0 2 * * *"}}, "ARCHIV_ZEITPLAN: \"0 2 * * *\": erwartet Zeit und Befehl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := c.s.resolve(t, "")
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want a *config.Error with %q", err, c.want)
			}
		})
	}
}
