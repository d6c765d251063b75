package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/backends/all"
	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/lock"
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

// siteResult is one site's entry in the JSON of an --all-sites run of an
// engine command.
type siteResult struct {
	siteStatus
	Report *backup.Report `json:"report,omitempty"`
}

// runAllSites runs j for every site of the configuration, one after another,
// each under its own lock and log name; it goes on past a failing site, stops
// only when interrupted, prints one summary line per site at the end (or one
// JSON report for all) and returns the worst site's exit code.
func (a *app) runAllSites(cmd *cobra.Command, ld *config.Loader, op string, needDB bool, j job) error {
	sites, err := a.allSitesOf(cmd, ld)
	if err != nil {
		return err
	}
	reports := make([]*backup.Report, len(sites))
	statuses, err := a.eachSite(cmd.Context(), sites, func(i int, site string) siteStatus {
		rep, err := a.runSite(cmd, ld, site, op, needDB, j)
		reports[i] = rep
		st := a.siteOutcome(site, err)
		if !a.jsonOut {
			a.printReport(rep)
		}
		if rep.Finished() && (st.ExitCode == exitOK || st.ExitCode == exitValidation) {
			st.summary = rep.Summary()
			if rep.DryRun && !rep.SummarySaysDryRun() {
				st.summary = "(Probelauf) " + st.summary
			}
		}
		return st
	})
	if a.jsonOut {
		results := make([]siteResult, len(sites))
		for i := range results {
			results[i] = siteResult{statuses[i], reports[i]}
		}
		a.emit(struct {
			Command string       `json:"command"`
			Sites   []siteResult `json:"sites"`
		}{op, results})
	}
	return err
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
		Arch:        arch,
		Archive:     loc.String(),
		DBPath:      cfg.DB,
		Log:         log,
		Workers:     cfg.Workers,
		LockTimeout: cfg.LockTimeout,
		MassChange:  float64(cfg.MassChange),
		// 0 in the configuration switches the window off, which the
		// engine spells < 0 (its 0 is the default).
		MassChangeWindow: massChangeWindow(cfg.MassChangeWindow),
		Retention:        retentionOf(cfg.Retention),
		HistoryLock:      time.Duration(cfg.HistoryLock),
		Version:          version,
		Site:             cfg.Site,
	}
	e.LockSeen = filepath.Join(filepath.Dir(cfg.LogFile), lock.SeenFileName) // beside last_run.json
	closePDFs, err := usePDFs(ctx, cfg, e)
	if err != nil {
		return nil, err
	}
	defer closePDFs()
	var stopBar func()
	e.Progress, e.Notice, stopBar = a.progressNotice(op, cfg.Site)
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
		return nil, nil, cfg.KeyError("archiv", err.Error())
	}
	opts := storage.Options{Create: create, Values: cfg.BackendOptions(loc.Scheme())}
	arch, err := backends.Open(ctx, loc, opts)
	if oe := (*storage.OptionError)(nil); errors.As(err, &oe) {
		return nil, loc, cfg.KeyError(oe.Key, message(errors.New(oe.Reason)))
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
	a.printChanges(r, prefix)
	if r.DryRun && !r.SummarySaysDryRun() {
		prefix += "(Probelauf) "
	}
	if !r.HistoryLockedUntil.IsZero() {
		fmt.Fprintf(a.stdout, "%sHistorie unveränderbar (Object Lock) bis %s\n", prefix, r.HistoryLockedUntil.Local().Format(time.DateTime))
	}
	if r.Finished() {
		fmt.Fprintf(a.stdout, "%s%s (%s)\n", prefix, r.Summary(), r.Duration.Round(1e6))
	}
}

// massChangeWindow is Engine.MassChangeWindow for the configuration's
// mass_change_window: 0 there (off) is -1 for the engine.
func massChangeWindow(w config.MassChangeWindow) time.Duration {
	if w == 0 {
		return -1
	}
	return time.Duration(w)
}
