package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/backends/all"
	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/logging"
	"werkstatt-backup/storage"
)

// job is the part of a command that runs against one site's engine.
type job func(ctx context.Context, e *backup.Engine) (*backup.Report, error)

// siteRun is what one site needs: its config, log and archive.
type siteRun struct {
	cfg  config.Config
	log  *slog.Logger
	arch *storage.Archive
	loc  storage.Location
	done func()
}

// runJob runs j for the selected site, or for every site with --all-sites.
func (a *app) runJob(cmd *cobra.Command, op string, j job) error {
	a.started()
	spec, _ := jobNamed(op)
	needDB := spec.needsDB(cmd.Flags())
	ld, err := config.Load(nil, a.configFile)
	if err != nil {
		return err
	}
	if a.allSites {
		return a.runAllSites(cmd, ld, op, needDB, j)
	}
	rep, err := a.runSite(cmd, ld, a.site, op, needDB, j)
	a.printReport(rep)
	return err
}

// siteResult is one site's outcome in an --all-sites run.
type siteResult struct {
	Site     string         `json:"site"`
	ExitCode int            `json:"exit_code"`
	Skipped  bool           `json:"skipped,omitempty"` // not run: interrupted before
	Error    string         `json:"error,omitempty"`
	Report   *backup.Report `json:"report,omitempty"`
}

// line is the site's one summary line: "Standort nord: Verify abgeschlossen:
// 3 gültig, 0 Fehler (Exit-Code 0)", or "Standort nord: Fehler: … (Exit-Code 1)".
func (r siteResult) line() string {
	var what string
	switch {
	case r.Skipped:
		what = "übersprungen (abgebrochen)"
	case r.Report.Finished() && (r.ExitCode == exitOK || r.ExitCode == exitValidation):
		what = r.Report.Summary()
		if r.Report.DryRun {
			what = "(Probelauf) " + what
		}
	case r.Error != "":
		what = "Fehler: " + r.Error
	default:
		what = "ok"
	}
	return fmt.Sprintf("Standort %s: %s (Exit-Code %d)", r.Site, what, r.ExitCode)
}

// runAllSites runs j for every site of the configuration, one after another,
// each under its own lock and log name; it goes on past a failing site, stops
// only when interrupted, prints one summary line per site at the end (or one
// JSON report for all) and returns the worst site's exit code.
func (a *app) runAllSites(cmd *cobra.Command, ld *config.Loader, op string, needDB bool, j job) error {
	if a.site != "" {
		return usageError{errors.New("--site und --all-sites schließen sich aus")}
	}
	sites := ld.Sites()
	if len(sites) == 0 {
		return &config.Error{File: ld.File(), Key: "--all-sites", Reason: "die Konfiguration beschreibt keine Standorte (sites)"}
	}
	// A db or archiv from a flag or the environment would be the same for
	// every site: all sites would export into, or restore from, one place.
	_, src, err := ld.Resolve(sites[0], cmd.Flags())
	if err != nil {
		return err
	}
	for _, k := range []string{"archiv", "db"} {
		if s := src[k]; s.Kind == config.FromFlag || s.Kind == config.FromEnv {
			return &config.Error{Key: s.Where, Reason: fmt.Sprintf("gälte für alle Standorte; mit --all-sites steht %s jedes Standorts in der Datei", k)}
		}
	}
	results := make([]siteResult, 0, len(sites))
	worst, failed := exitOK, 0
	for _, name := range sites {
		res := siteResult{Site: name}
		if cmd.Context().Err() != nil {
			res.Skipped, res.ExitCode = true, exitInterrupt
		} else {
			rep, err := a.runSite(cmd, ld, name, op, needDB, j)
			res.Report, res.ExitCode = rep, exitCode(err)
			if err != nil {
				res.Error = message(err)
				fmt.Fprintf(a.stderr, "werkstatt-backup: Standort %s: %s\n", name, res.Error)
			}
			if !a.jsonOut {
				a.printReport(rep)
			}
		}
		if res.ExitCode != exitOK {
			failed++
		}
		worst = worse(worst, res.ExitCode)
		results = append(results, res)
	}
	if a.jsonOut {
		a.emit(struct {
			Command string       `json:"command"`
			Sites   []siteResult `json:"sites"`
		}{op, results})
	} else {
		for _, r := range results {
			if !a.quiet || r.ExitCode != exitOK {
				fmt.Fprintln(a.stdout, r.line())
			}
		}
	}
	if failed == 0 {
		return nil
	}
	// Each failing site was already named on stderr.
	return silentError{siteFailure{code: worst, failed: failed, total: len(sites)}}
}

// siteFailure summarises --all-sites; it maps back to the worst exit code.
type siteFailure struct{ code, failed, total int }

func (e siteFailure) Error() string {
	return fmt.Sprintf("%d von %d Standorten nicht erfolgreich (Exit-Code %d)", e.failed, e.total, e.code)
}

// runSite resolves one site's configuration and runs j against it, under the
// lock of the site's archive and with the site's logger name. It is the one
// place that logs how a run ended: a run that got to its end has logged its
// "… abgeschlossen" line itself and here gets its error, if any; a run that
// did not (interrupted, refused, failed, archive unreachable) gets
// "<Befehl> abgebrochen: <Grund>" at ERROR and nothing else.
func (a *app) runSite(cmd *cobra.Command, ld *config.Loader, site, op string, needDB bool, j job) (rep *backup.Report, err error) {
	started := time.Now()
	defer func() { a.recordRun(cmd, ld, site, op, started, rep, err) }()
	cfg, log, closeLog, err := a.siteLog(ld, cmd, site, needDB)
	if err != nil {
		return nil, err
	}
	defer closeLog()
	rep, err = a.runEngine(cmd.Context(), cfg, log, op, j)
	switch {
	case err == nil:
	case rep.Finished():
		log.Error(message(err))
	default:
		err = abortedError{op, err}
		log.Error(err.Error())
	}
	return rep, err
}

// abortedError is the error of a run that did not get to its end.
type abortedError struct {
	op  string
	err error
}

func (e abortedError) Error() string {
	reason := message(e.err)
	if errors.Is(e.err, context.Canceled) {
		reason = "Signal erhalten (Strg+C oder SIGTERM); begonnene Dateien sind vollständig oder unverändert"
	}
	return backup.AbortLine(e.op, reason)
}

func (e abortedError) Unwrap() error { return e.err }

// runEngine opens the site's archive and runs j on an engine for it.
func (a *app) runEngine(ctx context.Context, cfg config.Config, log *slog.Logger, op string, j job) (*backup.Report, error) {
	arch, loc, err := openArchive(ctx, cfg, false)
	if err != nil {
		return nil, err
	}
	defer arch.Close()
	e := &backup.Engine{
		Fs:          arch.Fs,
		Caps:        arch.Caps,
		Archive:     loc.String(),
		DBPath:      cfg.DB,
		Log:         log,
		Workers:     cfg.Workers,
		LockTimeout: cfg.LockTimeout,
		MassChange:  float64(cfg.MassChange),
		Retention:   retentionOf(cfg.Retention),
		HistoryLock: time.Duration(cfg.HistoryLock),
		Version:     version,
		Site:        cfg.Site,
	}
	var stopBar func()
	e.Progress, stopBar = a.progress(op, cfg.Site)
	defer stopBar()
	return j(ctx, e)
}

// siteLog resolves the configuration of site, checks that what the command
// needs is set, and opens the site's log.
func (a *app) siteLog(ld *config.Loader, cmd *cobra.Command, site string, needDB bool) (config.Config, *slog.Logger, func(), error) {
	cfg, src, err := ld.Resolve(site, cmd.Flags())
	if err != nil {
		return cfg, nil, nil, err
	}
	if src["workers"].Kind == config.FromDefault {
		cfg.Workers = 0 // not chosen: the engine asks the archive's backend
	}
	required := []string{"archiv"}
	if needDB {
		required = append(required, "db")
	}
	if err := config.Require(cfg, required...); err != nil {
		return cfg, nil, nil, err
	}
	logFile, err := logging.OpenFile(cfg.LogFile)
	if err != nil {
		return cfg, nil, nil, fmt.Errorf("Logdatei: %w", err)
	}
	return cfg, a.logger(logFile, cfg.Site), func() { logFile.Close() }, nil
}

// openSite opens the log and the archive of site (for unlock). done closes
// both.
func (a *app) openSite(ctx context.Context, ld *config.Loader, cmd *cobra.Command, site, op string, needDB bool) (*siteRun, error) {
	cfg, log, closeLog, err := a.siteLog(ld, cmd, site, needDB)
	if err != nil {
		return nil, err
	}
	arch, loc, err := openArchive(ctx, cfg, false)
	if err != nil {
		log.Error(fmt.Sprintf("%s: %s", op, message(err)))
		closeLog()
		return nil, err
	}
	return &siteRun{cfg: cfg, log: log, arch: arch, loc: loc, done: func() {
		arch.Close()
		closeLog()
	}}, nil
}

// logger writes the seed's log format to w, and with --verbose to stderr too.
func (a *app) logger(w io.Writer, site string) *slog.Logger {
	name := "werkstatt_backup"
	if site != "" {
		name += "." + site
	}
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
		w = io.MultiWriter(w, a.stderr)
	}
	return slog.New(logging.NewHandler(w, name, level))
}

// backends is every archive backend of the program; config learns their
// keys from it (main), openArchive opens archives through it.
var backends = all.Registry()

// openArchive opens the archive of cfg through the backend registry, with
// the values of the options its backend declares. A bad location or a bad
// option value is a configuration error naming the key.
func openArchive(ctx context.Context, cfg config.Config, create bool) (*storage.Archive, storage.Location, error) {
	loc, err := backends.Parse(cfg.Archiv)
	if se := (*storage.SchemeError)(nil); errors.As(err, &se) {
		return nil, nil, fmt.Errorf("Archiv %s: %w", storage.Redact(cfg.Archiv), err)
	}
	if err != nil {
		return nil, nil, &config.Error{File: cfg.File, Key: "archiv", Reason: err.Error()}
	}
	opts := storage.Options{Create: create, Values: cfg.BackendOptions(loc.Scheme())}
	arch, err := backends.Open(ctx, loc, opts)
	if oe := (*storage.OptionError)(nil); errors.As(err, &oe) {
		return nil, loc, &config.Error{File: cfg.File, Key: oe.Key, Reason: message(errors.New(oe.Reason))}
	}
	if err != nil {
		return nil, loc, fmt.Errorf("Archiv %s: %w", loc, err)
	}
	return arch, loc, nil
}

// printReport prints the report: JSON with --json, else one line per
// problem and the summary line.
func (a *app) printReport(r *backup.Report) {
	if r == nil {
		return
	}
	if a.jsonOut {
		a.emit(r)
		return
	}
	prefix := ""
	if r.Site != "" {
		prefix = "[" + r.Site + "] "
	}
	for _, p := range r.Problems {
		if a.quiet && p.Level != backup.LevelError {
			continue
		}
		fmt.Fprintf(a.stdout, "%s%s - %s\n", prefix, p.Level, p)
	}
	if a.quiet {
		return
	}
	if r.DryRun {
		prefix += "(Probelauf) "
	}
	if !r.HistoryLockedUntil.IsZero() {
		fmt.Fprintf(a.stdout, "%sHistorie unveränderbar (Object Lock) bis %s\n", prefix, r.HistoryLockedUntil.Local().Format(time.DateTime))
	}
	if r.Finished() {
		fmt.Fprintf(a.stdout, "%s%s (%s)\n", prefix, r.Summary(), r.Duration.Round(1e6))
	}
}
