package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// firstLine is the first line of s.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestScheduleChecksLikeTheRun: every invocation that a run refuses with
// exit 2 is refused by schedule when it starts, with the same message,
// whether the global flags stand before schedule or after "--" (issue 22:
// `schedule --all-sites --archiv /x … -- export` started, and every night's
// run then exited 2). schedule runs with a context that has ended, so a
// preflight that lets a case through ends at once with 0 instead of waiting
// for the night.
func TestScheduleChecksLikeTheRun(t *testing.T) {
	zentrale, nord := workshop(t, 2), workshop(t, 2)
	sites := sitesConfig(t, map[string]any{"sites": []map[string]any{
		{"name": "zentrale", "db": filepath.Join(zentrale, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(zentrale, "test_archiv")},
		{"name": "nord", "db": filepath.Join(nord, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(nord, "test_archiv")},
	}})
	noSites := sitesConfig(t, map[string]any{"archiv": filepath.Join(zentrale, "test_archiv")})
	logFile := filepath.Join(t.TempDir(), "wb.log")

	cases := []struct {
		name  string
		flags []string // global flags
		env   []string // KEY=value
	}{
		{"archiv flag for all sites", []string{"--config", sites, "--all-sites", "--archiv", t.TempDir()}, nil},
		{"db flag for all sites", []string{"--config", sites, "--all-sites", "--db", "x.db"}, nil},
		{"archiv variable for all sites", []string{"--config", sites, "--all-sites"}, []string{"ARCHIV_ARCHIV=" + t.TempDir()}},
		{"db variable for all sites", []string{"--config", sites, "--all-sites"}, []string{"ARCHIV_DB=x.db"}},
		{"site and all sites", []string{"--config", sites, "--all-sites", "--site", "nord"}, nil},
		{"all sites without sites", []string{"--config", noSites, "--all-sites"}, nil},
		{"unknown site", []string{"--config", sites, "--site", "sued"}, nil},
		{"no site chosen", []string{"--config", sites}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, kv := range c.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			flags := append([]string{"--log-file", logFile}, c.flags...)
			var out, errb bytes.Buffer
			code := run(context.Background(), append(flags, "export"), &out, &errb)
			if code != exitUsage {
				t.Fatalf("export: exit code %d, want %d\n%s", code, exitUsage, errb.String())
			}
			want := firstLine(errb.String())

			ended, cancel := context.WithCancel(context.Background())
			cancel()
			for _, line := range [][]string{
				append(append(flags, "schedule", "--at", "0 2 * * *", "--"), "export"),
				append([]string{"schedule", "--at", "0 2 * * *", "--", "export"}, flags...),
			} {
				out.Reset()
				errb.Reset()
				code := run(ended, line, &out, &errb)
				if code != exitUsage {
					t.Errorf("%s: exit code %d, want %d (as export)\nstdout:\n%s", strings.Join(line, " "), code, exitUsage, out.String())
					continue
				}
				if got := firstLine(errb.String()); got != want {
					t.Errorf("%s:\n got  %q\n want %q (as export)", strings.Join(line, " "), got, want)
				}
			}
		})
	}
}
