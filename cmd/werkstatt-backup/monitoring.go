package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/monitor"
	"werkstatt-backup/storage"
)

// recordRun writes the outcome of one site's run into last_run.json beside
// the site's log file and, with metrics_file, into the Prometheus text file.
// It runs for every run of export, verify, restore and migrate that got as
// far as a resolved configuration, failed ones included (an unreachable NAS
// is what monitoring is for); dry runs change nothing and are not recorded.
// A failure to write is reported on stderr and does not change the exit code.
func (a *app) recordRun(cmd *cobra.Command, ld *config.Loader, site, op string, started time.Time, rep *backup.Report, runErr error) {
	if rep != nil {
		a.reports = append(a.reports, rep)
	}
	if f := cmd.Flags().Lookup("dry-run"); f != nil && f.Value.String() == "true" {
		return
	}
	cfg, _, err := ld.Resolve(site, cmd.Flags())
	if err != nil {
		return // a configuration error: no place to record it
	}
	finished := time.Now()
	host, _ := os.Hostname()
	run := monitor.Run{
		Command:   op,
		Site:      cfg.Site,
		Archive:   archiveOf(cmd, ld, site),
		ArchiveID: archiveID(cfg.Archiv),
		Started:   started,
		Finished:  finished,
		Duration:  finished.Sub(started).Seconds(),
		ExitCode:  exitCode(runErr),
		Host:      host,
		Version:   version,
	}
	if rep != nil {
		if rep.Archive != "" {
			run.Archive = rep.Archive
		}
		run.Records, run.OK, run.Written, run.Unchanged = rep.Records, rep.OK, rep.Written, rep.Unchanged
		run.Errors, run.Warnings = rep.Errors, rep.Warnings
		if rep.Finished() { // the run got to its summary line
			run.Summary = rep.Summary()
		}
	}
	switch {
	case run.ExitCode == exitInterrupt:
		run.Error = "abgebrochen (Signal)"
	case runErr != nil:
		run.Error = message(runErr)
	}
	if err := monitor.Record(monitor.StatusFile(cfg.LogFile), run); err != nil {
		fmt.Fprintf(a.stderr, "werkstatt-backup: Statusdatei nicht geschrieben: %s\n", message(err))
	}
	if cfg.MetricsFile != "" {
		if err := monitor.WriteMetrics(cfg.MetricsFile, run); err != nil {
			fmt.Fprintf(a.stderr, "werkstatt-backup: Metrikdatei nicht geschrieben: %s\n", message(err))
		}
	}
}

// archiveID identifies the archive of an archiv value in last_run.json,
// whatever form it was given in: a local path made absolute (against the
// working directory, as the run itself resolved it), a location that knows
// its place (smb: host:port/share/dir) by it, any other by its display form
// (which holds no password). "" for no archive.
func archiveID(archiv string) string {
	if strings.TrimSpace(archiv) == "" {
		return ""
	}
	loc, err := backends.Parse(archiv)
	if err != nil {
		return storage.Redact(archiv)
	}
	if p, ok := loc.(storage.Placed); ok {
		return loc.Scheme() + "://" + p.Place()
	}
	if loc.Scheme() == "file" {
		if abs, err := filepath.Abs(loc.String()); err == nil {
			return "file://" + filepath.ToSlash(abs)
		}
	}
	return loc.String()
}
