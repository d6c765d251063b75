package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // TZ=Europe/Berlin works in a container without zoneinfo

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"werkstatt-backup/config"
	"werkstatt-backup/logging"
	"werkstatt-backup/schedule"
)

// schedulable are the commands schedule may run.
var schedulable = jobNames()

func (a *app) scheduleCmd() *cobra.Command {
	var at string
	var runNow bool
	cmd := &cobra.Command{
		Use:   "schedule --at ZEITPLAN [Optionen] -- BEFEHL [OPTIONEN DES BEFEHLS]",
		Short: "einen Befehl nach Zeitplan ausführen, ohne cron (z. B. im Container jede Nacht export)",
		Long: `Läuft dauerhaft und führt den Befehl nach -- zu jedem Termin des cron-Ausdrucks
--at aus, im selben Prozess und mit denselben globalen Flags (--config, --site,
--all-sites, …), die vor -- stehen. Jeder Lauf schreibt wie sonst ins Log,
nach last_run.json und in die Metrikdatei; schedule selbst protokolliert Start,
Ende und Exit-Code jedes Laufs und den nächsten Termin. Ein fehlgeschlagener
Lauf beendet schedule nicht.

ZEITPLAN: fünf Felder (Minute Stunde Tag Monat Wochentag) in der lokalen Zeitzone
(TZ), "CRON_TZ=Europe/Berlin " davor für eine andere, oder @daily, @hourly,
"@every 6h". Ein Termin, der in einen noch laufenden Lauf fällt, entfällt.

SIGTERM/SIGINT (docker stop, systemctl stop, Strg+C): während eines Laufs
werden keine neuen Datensätze mehr begonnen, die begonnenen fertig geschrieben
(atomar: keine halben Dateien), dann endet schedule mit Exit-Code 130. Zwischen
zwei Läufen endet schedule sofort mit 0.

` + exitCodesHelp,
		Example: `  # jede Nacht um 2 Uhr sichern (wie der Cronjob im Seed)
  werkstatt-backup schedule --at "0 2 * * *" -- export --config /etc/werkstatt-backup/config.json

  # alle Standorte, einmal sofort beim Start und dann jede Nacht
  werkstatt-backup schedule --config /etc/werkstatt-backup/config.json --all-sites --at "0 2 * * *" --run-now -- export

  # sonntags 3 Uhr das Archiv prüfen, deutsche Zeit auch auf einem UTC-Server
  werkstatt-backup schedule --at "CRON_TZ=Europe/Berlin 0 3 * * 0" -- verify`,
		Args: func(cmd *cobra.Command, args []string) error {
			if n := cmd.ArgsLenAtDash(); n > 0 {
				return usageError{fmt.Errorf("unerwartetes Argument %q vor --", args[0])}
			}
			switch {
			case len(args) == 0:
				return usageError{fmt.Errorf("nach -- fehlt der Befehl: %s (z. B. schedule --at \"0 2 * * *\" -- export)", strings.Join(schedulable, ", "))}
			case !slices.Contains(schedulable, args[0]):
				return usageError{fmt.Errorf("%q kann nicht geplant werden; nach -- steht einer der Befehle %s", args[0], strings.Join(schedulable, ", "))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("at") {
				return usageError{errors.New("--at fehlt, z. B. --at \"0 2 * * *\"")}
			}
			spec, err := schedule.Parse(at)
			if err != nil {
				return usageError{err}
			}
			a.started()
			line := append(forwardedFlags(cmd), args...)
			cfg, err := preflight(cmd.Context(), line)
			if err != nil {
				return err
			}
			return a.schedule(cmd, at, spec, line, runNow, cfg)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "cron-Ausdruck (`ZEITPLAN`), z. B. \"0 2 * * *\" (täglich 2 Uhr)")
	cmd.Flags().BoolVar(&runNow, "run-now", false, "den Befehl zusätzlich sofort beim Start einmal ausführen")
	return cmd
}

// forwardedFlags are the global flags given to schedule, as arguments for
// each run (placed before the command, so the command's own flags win).
func forwardedFlags(cmd *cobra.Command) []string {
	var out []string
	// VisitAll and Changed: InheritedFlags is a new set whose Visit would
	// see nothing.
	cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			out = append(out, "--"+f.Name+"="+f.Value.String())
		}
	})
	return out
}

// preflight parses line with a fresh command tree and checks the settings
// the command will need, so that a typo or a missing config file fails when
// schedule starts (exit 2), not at two in the morning. The site and key rules
// are the run's own (allSitesOf, siteLog), called here as a run calls them,
// so the two cannot disagree; preflight adds only that the archive can be
// opened and the database exists. It returns the configuration of the
// selected site (the top level with --all-sites), whose log file gets
// schedule's own lines.
func preflight(ctx context.Context, line []string) (config.Config, error) {
	var none config.Config
	sub := &app{stdout: io.Discard, stderr: io.Discard}
	root := sub.rootCmd()
	c, rest, err := root.Find(line)
	if err != nil {
		return none, usageError{err}
	}
	if err := c.ParseFlags(rest); err != nil {
		return none, usageError{fmt.Errorf("%s: %w", c.Name(), err)}
	}
	if c.Args != nil {
		if err := c.Args(c, c.Flags().Args()); err != nil {
			return none, usageError{err}
		}
	}
	ld, err := config.Load(nil, sub.configFile)
	if err != nil {
		return none, err
	}
	spec, _ := jobNamed(c.Name())
	needsDB := spec.needsDB(c.Flags())
	sites := []string{sub.site}
	if sub.allSites {
		if sites, err = sub.allSitesOf(c, ld); err != nil {
			return none, err
		}
	}
	// The database must exist for the commands that read it; restore
	// creates a missing one.
	readsDB := needsDB && !spec.createsDB
	for _, site := range sites {
		cfg, _, closeLog, err := sub.siteLog(ld, c, site, needsDB)
		if err != nil {
			return none, err
		}
		closeLog()
		if err := reachable(ctx, cfg, readsDB); err != nil {
			return none, err
		}
	}
	top := sub.site
	if sub.allSites {
		top = ""
	}
	cfg, _, err := ld.Resolve(top, c.Flags())
	return cfg, err
}

// reachable checks at schedule's start that the archive of cfg can be
// opened and, if readsDB, that its database file exists: a typo in a path
// is then exit 2 at once, not a failed run at two in the morning.
func reachable(ctx context.Context, cfg config.Config, readsDB bool) error {
	if readsDB {
		if _, err := os.Stat(cfg.DB); err != nil {
			return &config.Error{File: cfg.File, Key: "db", Reason: "Datenbank nicht gefunden: " + message(err)}
		}
	}
	arch, _, err := openArchive(ctx, cfg, false)
	if err != nil {
		var cfgErr *config.Error
		if errors.As(err, &cfgErr) {
			return err
		}
		return &config.Error{File: cfg.File, Key: "archiv", Reason: message(err)}
	}
	arch.Close()
	return nil
}

// schedule runs line at every activation of spec until a signal ends it.
// Each run loads the configuration anew (the file may be changed between
// runs); cfg, checked at start, only says where schedule's own lines go.
func (a *app) schedule(cmd *cobra.Command, at string, spec schedule.Spec, line []string, runNow bool, cfg config.Config) error {
	ctx := cmd.Context()
	f, err := logging.OpenFile(cfg.LogFile)
	if err != nil {
		return fmt.Errorf("Logdatei: %w", err)
	}
	f.Close()
	log := a.scheduleLogger(cfg)
	what := strings.Join(line, " ")
	log.Info(fmt.Sprintf("Zeitplan gestartet: %q → %s (pid %d)", at, what, os.Getpid()))

	job := func(ctx context.Context, planned time.Time) {
		log.Info(fmt.Sprintf("Zeitplan: starte %s (Termin %s)", what, planned.Format("2006-01-02 15:04:05")))
		start := time.Now()
		code := a.runLine(ctx, line)
		took := time.Since(start).Round(time.Millisecond)
		switch {
		case code == exitInterrupt && ctx.Err() != nil:
			log.Warn(fmt.Sprintf("Zeitplan: %s durch Signal abgebrochen nach %s; begonnene Dateien sind vollständig oder unverändert", what, took))
		case code != exitOK:
			log.Error(fmt.Sprintf("Zeitplan: %s beendet mit Exit-Code %d nach %s", what, code, took))
		default:
			log.Info(fmt.Sprintf("Zeitplan: %s beendet mit Exit-Code 0 nach %s", what, took))
		}
	}
	if runNow {
		job(ctx, time.Now())
		if ctx.Err() != nil {
			return silentError{ctx.Err()}
		}
	}
	s := &schedule.Scheduler{
		Spec: spec,
		Job:  job,
		OnWait: func(next time.Time) {
			log.Info(fmt.Sprintf("Zeitplan: nächster Lauf %s (in %s)", next.Format("2006-01-02 15:04:05 MST"), waitFor(next)))
		},
	}
	if err := s.Run(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return silentError{err} // the run said so itself; run() adds the signal line
		}
		return err
	}
	log.Info("Zeitplan beendet (Signal), kein Lauf war aktiv")
	return nil
}

func waitFor(t time.Time) string {
	d := time.Until(t)
	if d < time.Minute {
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

// runLine executes one scheduled run with a fresh command tree (flags keep
// no state from the previous run) and returns its exit code. execute prints
// its errors as for any command, except the line for an interruption, which
// the schedule command's own run prints once when it ends.
func (a *app) runLine(ctx context.Context, line []string) int {
	sub := &app{stdout: a.stdout, stderr: a.stderr, isTerminal: a.isTerminal, barDelay: a.barDelay}
	return sub.execute(ctx, line, false)
}

// scheduleLogger logs the schedule's own lines in the seed's format to the
// log file (opened for each line, so logrotate can move it) and, unless
// --quiet, to stdout, where `docker logs` and journald see them.
func (a *app) scheduleLogger(cfg config.Config) *slog.Logger {
	var w io.Writer = appendWriter(cfg.LogFile)
	if !a.quiet && !a.jsonOut {
		w = io.MultiWriter(w, a.stdout)
	}
	return a.logger(w, cfg.Site)
}

// appendWriter appends each write to the file at path, opening and closing
// it every time. A write that fails (a full disk) is dropped; the run's own
// log and exit code still tell.
type appendWriter string

func (p appendWriter) Write(b []byte) (int, error) {
	f, err := logging.OpenFile(string(p))
	if err != nil {
		return len(b), nil
	}
	defer f.Close()
	f.Write(b)
	return len(b), nil
}
