package main

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/config"
	"werkstatt-backup/monitor"
)

// statusCommands are the commands whose runs are recorded.
var statusCommands = jobNames()

func (a *app) statusCmd() *cobra.Command {
	var command string
	var strict bool
	maxAge := ageValue(26 * time.Hour)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "prüfen, ob der letzte Lauf (z. B. der nächtliche Export) erfolgreich und aktuell ist",
		Long: `Liest last_run.json neben der Logdatei (log_file) und sagt in einer Zeile, ob der
letzte Lauf des Befehls (Vorgabe: export) erfolgreich war und nicht älter als
--max-age ist. Für Monitoring-Skripte, Nagios/Icinga, einen Healthcheck im
Container oder ExecStartPost in systemd.

Jeder Lauf von export, verify, restore und migrate (außer --dry-run) schreibt
seinen Eintrag (Befehl, Standort, Beginn, Dauer, Zähler, Exit-Code, letzter
Erfolg) nach last_run.json, einen je Befehl, Standort und Archiv: ein Probe-Export
in ein anderes Archiv ersetzt den Eintrag des nächtlichen Laufs nicht. status prüft
das konfigurierte Archiv (mit --all-sites das jedes Standorts); ist keines
konfiguriert, den jüngsten Lauf. Mit metrics_file (--metrics-file) zusätzlich eine
Prometheus-Textdatei für node_exporter.

Ein Lauf, der mit Exit-Code 3 endete, aber alles gesichert hat (Datensätze, die
Feldregeln verletzen, oder ohne eigenen Ordner), gilt als "OK mit Warnungen: N"
(Exit-Code 0); mit --strict als Fehler.

Alarme ohne eigenes Skript: "notify" in der Konfiguration schickt nach jedem Lauf
das JSON des Laufs an Webhooks (z. B. Healthchecks, Chat) und Mails über SMTP,
je Ziel bei "fehler", "warnung" oder "immer".

Exit-Codes von status:
  0    der letzte Lauf war erfolgreich (oder nur mit Warnungen) und ist jünger als --max-age
  1    der letzte Lauf schlug fehl, ist zu alt, oder es gibt keinen
  2    Aufruf- oder Konfigurationsfehler`,
		Example: `  # nächtlicher Export: höchstens 26 Stunden alt und erfolgreich?
  werkstatt-backup status --config /etc/werkstatt-backup/config.json

  # wöchentlicher Verify, alle Standorte
  werkstatt-backup status --config /etc/werkstatt-backup/config.json --all-sites --command verify --max-age 8d

  # Alarm per Mail, wie im Seed, aber ohne grep (z. B. stündlich aus cron)
  meldung=$(werkstatt-backup status --config /etc/werkstatt-backup/config.json) ||
    echo "$meldung" | mail -s "Werkstatt-Archiv Alert" admin@werkstatt.de

  # auch Läufe mit Warnungen (Exit-Code 3) als Fehler melden
  werkstatt-backup status --config /etc/werkstatt-backup/config.json --strict

  # maschinenlesbar
  werkstatt-backup status --site filiale-nord --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			if !slices.Contains(statusCommands, command) {
				return usageError{fmt.Errorf("--command %q: erlaubt sind %s", command, strings.Join(statusCommands, ", "))}
			}
			return a.status(cmd, command, time.Duration(maxAge), strict)
		},
	}
	cmd.Flags().StringVar(&command, "command", "export", "welcher `BEFEHL` geprüft wird: "+strings.Join(statusCommands, ", "))
	_ = cmd.RegisterFlagCompletionFunc("command", cobra.FixedCompletions(statusCommands, cobra.ShellCompDirectiveNoFileComp))
	cmd.Flags().BoolVar(&strict, "strict", false, "ein Lauf mit Warnungen (Exit-Code 3, alles gesichert) gilt als Fehler")
	cmd.Flags().Var(&maxAge, "max-age", "höchstes Alter des letzten erfolgreichen Laufs (26h, 90m, 8d; 0 = beliebig)")
	return cmd
}

// statusResult is one site's verdict, with where it was read.
type statusResult struct {
	monitor.Verdict
	File string `json:"status_file"`
}

func (a *app) status(cmd *cobra.Command, command string, maxAge time.Duration, strict bool) error {
	ld, err := config.Load(nil, a.configFile)
	if err != nil {
		return err
	}
	sites, err := a.siteNames(ld)
	if err != nil {
		return err
	}
	now := time.Now()
	var results []statusResult
	failed := 0
	for _, site := range sites {
		cfg, _, err := ld.Resolve(site, cmd.Flags())
		if err != nil {
			return err
		}
		file := monitor.StatusFile(cfg.LogFile)
		state, err := monitor.Load(file)
		q := monitor.Query{Command: command, Site: cfg.Site, MaxAge: maxAge, Strict: strict,
			ArchiveID: archiveID(cfg.Archiv), Archive: archiveOf(cmd, ld, site)}
		var v monitor.Verdict
		switch {
		case err == nil:
			v = monitor.CheckQuery(state, q, now)
		case errors.Is(err, iofs.ErrNotExist):
			v = monitor.CheckQuery(nil, q, now)
			v.Reason += " (" + file + " fehlt)"
		default:
			v = monitor.Verdict{Command: command, Site: cfg.Site, Reason: "FEHLER: Statusdatei unlesbar: " + message(err)}
		}
		if !v.OK {
			failed++
		}
		results = append(results, statusResult{v, file})
	}
	switch {
	case a.jsonOut && a.allSites:
		a.emit(map[string]any{"ok": failed == 0, "sites": results})
	case a.jsonOut:
		a.emit(results[0])
	default:
		for _, r := range results {
			if a.quiet && r.OK {
				continue
			}
			if a.allSites {
				fmt.Fprintf(a.stdout, "Standort %s: ", r.Site)
			}
			fmt.Fprintln(a.stdout, r.Reason)
		}
	}
	if failed > 0 {
		return silentError{fmt.Errorf("status: %d von %d nicht in Ordnung", failed, len(results))}
	}
	return nil
}

// ageValue is a duration flag that also takes days ("8d", "1d12h").
type ageValue time.Duration

func (v *ageValue) String() string { return monitor.Age(time.Duration(*v)) }
func (v *ageValue) Type() string   { return "DAUER" }

func (v *ageValue) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*v = ageValue(d)
	return nil
}

// parseAge reads a Go duration with an optional leading number of days:
// "26h", "90m", "8d", "1d12h", "0".
func parseAge(s string) (time.Duration, error) {
	bad := fmt.Errorf("keine gültige Dauer: %q (Beispiele: 26h, 90m, 8d, 1d12h)", s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 {
			return 0, bad
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, bad
	}
	return days + d, nil
}
