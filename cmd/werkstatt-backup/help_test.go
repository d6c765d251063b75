package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasHelpWithExamples walks the whole command tree.
func TestEveryCommandHasHelpWithExamples(t *testing.T) {
	root := (&app{stdout: io.Discard, stderr: io.Discard}).rootCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if c.Hidden || c.Name() == "help" || c.Parent() != nil && c.Parent().Name() == "completion" {
			return // cobra's own: help, and one command per shell
		}
		if c.Short == "" || c.Example == "" {
			t.Errorf("%q lacks a short description or examples", c.CommandPath())
		}
	}
	walk(root)
}

func TestCompletionAndVersion(t *testing.T) {
	dir := t.TempDir()
	r := wb(t, dir, "--help").expect(t, 0)
	for _, want := range []string{"completion", "schedule", "status"} {
		if !strings.Contains(r.stdout, "\n  "+want+" ") {
			t.Errorf("--help does not list %q:\n%s", want, r.stdout)
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r = wb(t, dir, "completion", shell).expect(t, 0)
		if !strings.Contains(r.stdout, "werkstatt-backup") {
			t.Errorf("completion %s: %q", shell, r.stdout[:min(len(r.stdout), 200)])
		}
	}
	// --site completes the sites of the config file.
	cfg := sitesConfig(t, map[string]any{"sites": []map[string]any{{"name": "zentrale", "archiv": "mem://z"}, {"name": "nord", "archiv": "mem://n"}}})
	r = wb(t, dir, "__complete", "--config", cfg, "export", "--site", "").expect(t, 0)
	if !strings.HasPrefix(r.stdout, "zentrale\nnord\n") {
		t.Errorf("completion of --site: %q", r.stdout)
	}
	r = wb(t, dir, "version").expect(t, 0)
	if !strings.HasPrefix(r.stdout, "werkstatt-backup ") || !strings.Contains(r.stdout, "go1.") {
		t.Errorf("version: %q", r.stdout)
	}
}
