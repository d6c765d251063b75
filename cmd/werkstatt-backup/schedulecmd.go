package main

import (
	"bytes"
	"context"
	"encoding/json"
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

	"werkstatt-backup/backup"
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
		Use:   "schedule [--at ZEITPLAN [Optionen] -- BEFEHL [OPTIONEN DES BEFEHLS]]",
		Short: "Befehle nach Zeitplan ausführen, ohne cron (z. B. im Container nachts export, sonntags verify)",
		Long: `Läuft dauerhaft und führt Befehle zu den Terminen ihrer cron-Ausdrücke aus, im
selben Prozess und mit denselben globalen Flags (--config, --site, --all-sites, …),
die vor -- stehen.

Ein Befehl: --at ZEITPLAN -- BEFEHL [OPTIONEN]. Mehrere Befehle: ohne --at der
Schlüssel zeitplan der Konfiguration, eine Liste von {"befehl", "zeit"}, z. B.:

    "zeitplan": [{"befehl": "export", "zeit": "0 2 * * *"},
                 {"befehl": "verify --with-db", "zeit": "0 3 * * 0"}]

In der Umgebung sind es crontab-Zeilen, getrennt durch ";":
ARCHIV_ZEITPLAN="0 2 * * * export; 0 3 * * 0 verify --with-db".

Jeder Lauf schreibt wie sonst ins Log, nach last_run.json und in die Metrikdatei;
schedule selbst schreibt je Lauf EINE Zeile auf stdout und ins Log (Ergebnis,
Exit-Code, Dauer; docker logs, journald), Start, Termine und Details nur ins Log.
Ein fehlgeschlagener Lauf beendet schedule nicht. Alle Befehle werden beim Start
geprüft wie bei einem Lauf (Konfiguration, Standorte, Archiv, Datenbank); ein
Fehler ist Exit-Code 2 sofort, nicht erst nachts.

ZEITPLAN: fünf Felder (Minute Stunde Tag Monat Wochentag) in der lokalen Zeitzone
(TZ), "CRON_TZ=Europe/Berlin " davor für eine andere, oder @daily, @hourly,
"@every 6h". Läufe überlappen nie: ein Termin eines Befehls, der in seinen eigenen
Lauf fällt, entfällt; fällt er in den Lauf eines anderen Befehls, folgt er
direkt danach (einmal). Gleichzeitige Termine laufen in der angegebenen Reihenfolge.

SIGTERM/SIGINT (docker stop, systemctl stop, Strg+C): während eines Laufs
werden keine neuen Datensätze mehr begonnen, die begonnenen fertig geschrieben
(atomar: keine halben Dateien), dann endet schedule mit Exit-Code 130. Zwischen
zwei Läufen endet schedule sofort mit 0.

` + exitCodesHelp,
		Example: `  # jede Nacht um 2 Uhr sichern (wie der Cronjob im Seed)
  werkstatt-backup schedule --at "0 2 * * *" -- export --config /etc/werkstatt-backup/config.json

  # alle Standorte, einmal sofort beim Start und dann jede Nacht
  werkstatt-backup schedule --config /etc/werkstatt-backup/config.json --all-sites --at "0 2 * * *" --run-now -- export

  # die Befehle aus "zeitplan" der Konfiguration (z. B. export nachts, verify sonntags)
  werkstatt-backup schedule --config /etc/werkstatt-backup/config.json

  # sonntags 3 Uhr das Archiv prüfen, deutsche Zeit auch auf einem UTC-Server
  werkstatt-backup schedule --at "CRON_TZ=Europe/Berlin 0 3 * * 0" -- verify`,
		Args: func(cmd *cobra.Command, args []string) error {
			if n := cmd.ArgsLenAtDash(); n > 0 {
				return usageError{fmt.Errorf("unerwartetes Argument %q vor --", args[0])}
			}
			switch {
			case len(args) == 0 && cmd.Flags().Changed("at"):
				return usageError{fmt.Errorf("nach -- fehlt der Befehl: %s (z. B. schedule --at \"0 2 * * *\" -- export)", strings.Join(schedulable, ", "))}
			case len(args) > 0 && !slices.Contains(schedulable, args[0]):
				return usageError{fmt.Errorf("%q kann nicht geplant werden; nach -- steht einer der Befehle %s", args[0], strings.Join(schedulable, ", "))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var jobs []plannedJob
			forwarded := forwardedFlags(cmd)
			switch {
			case len(args) > 0 && !cmd.Flags().Changed("at"):
				return usageError{errors.New("--at fehlt, z. B. --at \"0 2 * * *\" (oder ohne -- BEFEHL die Befehle aus zeitplan der Konfiguration)")}
			case len(args) > 0:
				spec, err := schedule.Parse(at)
				if err != nil {
					return usageError{err}
				}
				jobs = []plannedJob{{at: at, spec: spec, line: append(forwarded, args...), entry: -1}}
			default:
				a.started() // from here on, errors are the configuration's
				var err error
				if jobs, err = a.configuredJobs(cmd, forwarded); err != nil {
					return err
				}
			}
			a.started()
			var cfg config.Config
			for i, j := range jobs {
				c, err := preflight(cmd.Context(), j.line)
				if err != nil {
					if j.entry >= 0 {
						err = fmt.Errorf("zeitplan[%d] (%s): %w", j.entry, strings.Join(j.line[len(forwarded):], " "), err)
					}
					return err
				}
				if i == 0 {
					cfg = c
				}
			}
			return a.schedule(cmd, jobs, runNow, cfg)
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "cron-Ausdruck (`ZEITPLAN`), z. B. \"0 2 * * *\" (täglich 2 Uhr); ohne --at gilt zeitplan der Konfiguration")
	cmd.Flags().BoolVar(&runNow, "run-now", false, "jeden Befehl zusätzlich sofort beim Start einmal ausführen")
	return cmd
}

// plannedJob is one job of a schedule: when, and the command line it runs
// (schedule's global flags first, then the command and its options).
type plannedJob struct {
	at    string
	spec  schedule.Spec
	line  []string
	entry int // index in zeitplan; -1 for --at
}

// configuredJobs reads the key zeitplan of the configuration schedule was
// given (its --config, --site; the top level with --all-sites).
func (a *app) configuredJobs(cmd *cobra.Command, forwarded []string) ([]plannedJob, error) {
	ld, err := config.Load(nil, a.configFile)
	if err != nil {
		return nil, err
	}
	site := a.site
	if a.allSites {
		site = ""
	}
	cfg, _, err := ld.Resolve(site, cmd.Flags())
	if err != nil {
		return nil, err
	}
	if len(cfg.Zeitplan) == 0 {
		where := "keine Konfigurationsdatei"
		if cfg.File != "" {
			where = cfg.File + " hat keinen Schlüssel zeitplan"
		}
		return nil, usageError{fmt.Errorf("kein Zeitplan: --at ZEITPLAN -- BEFEHL angeben oder \"zeitplan\": [{\"befehl\": \"export\", \"zeit\": \"0 2 * * *\"}] in die Konfiguration schreiben (%s)", where)}
	}
	jobs := make([]plannedJob, len(cfg.Zeitplan))
	for i, z := range cfg.Zeitplan {
		if !slices.Contains(schedulable, z.Befehl[0]) {
			return nil, &config.Error{File: cfg.File, Key: fmt.Sprintf("zeitplan[%d].befehl", i), Reason: fmt.Sprintf("%q kann nicht geplant werden (erlaubt: %s)", z.Befehl[0], strings.Join(schedulable, ", "))}
		}
		spec, err := schedule.Parse(z.Zeit)
		if err != nil { // checked when the file was read; a safety net
			return nil, &config.Error{File: cfg.File, Key: fmt.Sprintf("zeitplan[%d].zeit", i), Reason: err.Error()}
		}
		jobs[i] = plannedJob{at: z.Zeit, spec: spec, line: append(slices.Clone(forwarded), z.Befehl...), entry: i}
	}
	return jobs, nil
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
			return cfg.KeyError("db", "Datenbank nicht gefunden: "+message(err))
		}
	}
	arch, _, err := openArchive(ctx, cfg, false)
	if err != nil {
		var cfgErr *config.Error
		if errors.As(err, &cfgErr) {
			return err
		}
		return cfg.KeyError("archiv", message(err))
	}
	arch.Close()
	return nil
}

// schedule runs each job at its activations until a signal ends it. Each
// run loads the configuration anew (the file may be changed between runs);
// cfg, checked at start, only says where schedule's own lines go: one line
// per run to stdout and the log, the rest (start of a run, next dates) to
// the log only.
func (a *app) schedule(cmd *cobra.Command, jobs []plannedJob, runNow bool, cfg config.Config) error {
	ctx := cmd.Context()
	f, err := logging.OpenFile(cfg.LogFile)
	if err != nil {
		return fmt.Errorf("Logdatei: %w", err)
	}
	f.Close()
	log := a.scheduleLogger(cfg)
	fileLog := a.logger(appendWriter(cfg.LogFile), cfg.Site)
	plan := make([]string, len(jobs))
	for i, j := range jobs {
		plan[i] = fmt.Sprintf("%q → %s", j.at, strings.Join(j.line, " "))
	}
	log.Info(fmt.Sprintf("Zeitplan gestartet: %s (pid %d)", strings.Join(plan, "; "), os.Getpid()))

	run := func(j plannedJob) func(context.Context, time.Time) {
		what := strings.Join(j.line, " ")
		return func(ctx context.Context, planned time.Time) {
			fileLog.Info(fmt.Sprintf("Zeitplan: starte %s (Termin %s)", what, planned.Format("2006-01-02 15:04:05")))
			start := time.Now()
			code, result := a.runLine(ctx, j.line)
			line := fmt.Sprintf("Zeitplan: %s: %s (Exit-Code %d nach %s)", what, result, code, time.Since(start).Round(time.Millisecond))
			switch {
			case code == exitInterrupt && ctx.Err() != nil:
				log.Warn(fmt.Sprintf("Zeitplan: %s: durch Signal abgebrochen nach %s; begonnene Dateien sind vollständig oder unverändert", what, time.Since(start).Round(time.Millisecond)))
			case code == exitOK:
				log.Info(line)
			case code == exitValidation:
				log.Warn(line)
			default:
				log.Error(line)
			}
		}
	}
	s := &schedule.Scheduler{Jobs: make([]schedule.Job, len(jobs))}
	for i, j := range jobs {
		s.Jobs[i] = schedule.Job{Spec: j.spec, Run: run(j)}
	}
	if runNow {
		for _, j := range jobs {
			run(j)(ctx, time.Now())
			if ctx.Err() != nil {
				return silentError{ctx.Err()}
			}
		}
	}
	announced := false
	s.OnWait = func(next time.Time, i int) {
		msg := fmt.Sprintf("Zeitplan: nächster Lauf %s (in %s): %s", next.Format("2006-01-02 15:04:05 MST"), waitFor(next), strings.Join(jobs[i].line, " "))
		if !announced { // once on stdout: the container's log shows when the first run comes
			log.Info(msg)
			announced = true
			return
		}
		fileLog.Info(msg)
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
// no state from the previous run) and returns its exit code and its result
// in a few words: the summary line, or the error. The run reports in JSON
// to schedule, which turns it into its one line; the run's own lines are in
// the log as always. With --json in the line, the JSON goes to stdout too.
// What the run printed on stderr beyond the error the result names is
// passed on.
func (a *app) runLine(ctx context.Context, line []string) (int, string) {
	var out, errb bytes.Buffer
	args := line
	asked := jsonAsked(line)
	if !asked {
		args = append([]string{"--json"}, line...)
	}
	sub := &app{stdout: &out, stderr: &errb, isTerminal: a.isTerminal, barDelay: a.barDelay}
	code := sub.execute(ctx, args, false)
	if asked {
		a.stdout.Write(out.Bytes())
	}
	result, said := runResult(out.Bytes(), code)
	for l := range strings.Lines(errb.String()) {
		if !slices.Contains(said, strings.TrimSuffix(l, "\n")) {
			io.WriteString(a.stderr, l)
		}
	}
	return code, result
}

// runOutcome is what schedule reads from a run's JSON: one report, or one
// per site with --all-sites.
type runOutcome struct {
	backup.Report
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
	Sites    []struct {
		Site     string         `json:"site"`
		ExitCode int            `json:"exit_code"`
		Error    string         `json:"error"`
		Skipped  bool           `json:"skipped"`
		Report   *backup.Report `json:"report"`
	} `json:"sites"`
}

// runResult makes the result words of a run from its JSON: the summary line
// of a run that got to its end (exit 0 or 3), else its error; with several
// sites one part per site. said are the stderr lines that carry nothing
// more than that.
func runResult(js []byte, code int) (result string, said []string) {
	var o runOutcome
	if err := json.Unmarshal(js, &o); err != nil {
		return "kein Bericht (" + err.Error() + ")", nil
	}
	if o.Error != "" {
		said = append(said, "werkstatt-backup: "+o.Error)
	}
	if o.Sites != nil {
		parts := make([]string, len(o.Sites))
		for i, s := range o.Sites {
			what := s.Error
			switch {
			case s.Skipped:
				what = "übersprungen (abgebrochen)"
			case s.Report != nil && s.Report.Command != "" && (s.ExitCode == exitOK || s.ExitCode == exitValidation):
				what = s.Report.Summary()
			}
			if s.Error != "" {
				said = append(said, "werkstatt-backup: Standort "+s.Site+": "+s.Error)
			}
			parts[i] = fmt.Sprintf("%s: %s (%d)", s.Site, what, s.ExitCode)
		}
		return strings.Join(parts, "; "), said
	}
	if o.Command != "" && (code == exitOK || code == exitValidation) {
		return o.Summary(), said
	}
	if o.Error != "" {
		return o.Error, said
	}
	return "fertig", said
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
