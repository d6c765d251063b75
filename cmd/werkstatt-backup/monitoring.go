package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/logging"
	"werkstatt-backup/monitor"
	"werkstatt-backup/notify"
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
		if p := rep.PDFs; p != nil {
			run.PDFs = &monitor.PDFCounts{Checked: p.Checked, Good: p.Good, Bad: p.Bad, Missing: p.Missing,
				Unverifiable: p.Unverifiable, Stored: p.Stored, Unchanged: p.Unchanged}
		}
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
	if len(cfg.Notify) > 0 {
		a.notify(context.WithoutCancel(cmd.Context()), cfg, run, outcomeJSON(reportOrNil(rep), op, run.ExitCode, errText(runErr)), rep)
	}
}

// reportOrNil keeps a nil report an untyped nil for outcomeJSON.
func reportOrNil(rep *backup.Report) any {
	if rep == nil {
		return nil
	}
	return rep
}

// errText is what --json's "error" says for err.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return message(err)
}

// notifyLevel is how run ended, for the targets' "on".
func notifyLevel(run monitor.Run) notify.Level {
	switch {
	case run.Succeeded():
		return notify.LevelOK
	case run.OnlyWarnings():
		return notify.LevelWarning
	}
	return notify.LevelError
}

// notify tells the targets of cfg.Notify that are due how run ended: the
// webhooks get body (the run's --json object), the mail targets a text
// with the same object at its end. Each success is logged at INFO, each
// failure at WARNING (and on stderr); neither changes the exit code.
func (a *app) notify(ctx context.Context, cfg config.Config, run monitor.Run, body []byte, rep *backup.Report) {
	level := notifyLevel(run)
	due := false
	for _, t := range cfg.Notify {
		due = due || t.Due(level)
	}
	if !due {
		return
	}
	var log *slog.Logger
	if f, err := logging.OpenFile(cfg.LogFile); err == nil {
		defer f.Close()
		log = a.logger(f, cfg.Site)
	} else {
		log = slog.New(slog.DiscardHandler)
	}
	warn := func(t notify.Target, reason string) {
		line := fmt.Sprintf("Benachrichtigung (%s) fehlgeschlagen: %s", t, reason)
		log.Warn(line)
		fmt.Fprintf(a.stderr, "werkstatt-backup: Warnung: %s\n", line)
	}
	conf := notify.SMTP{Host: cfg.SMTPHost, User: cfg.SMTPUser, From: cfg.SMTPFrom, Password: cfg.SMTPPassword}
	targets := cfg.Notify
	if conf.Password == "" && cfg.SMTPPasswordFile != "" {
		pw, err := os.ReadFile(cfg.SMTPPasswordFile)
		if err != nil {
			// Mail cannot log in; the webhooks still go out.
			targets = nil
			for _, t := range cfg.Notify {
				if t.Mail == "" {
					targets = append(targets, t)
				} else if t.Due(level) {
					warn(t, "smtp_password_file "+cfg.SMTPPasswordFile+" nicht lesbar: "+message(unwrapPath(err)))
				}
			}
		}
		conf.Password = strings.TrimRight(string(pw), "\r\n")
	}
	msg := notify.Message{Subject: mailSubject(run, level), Text: mailText(run, rep, body), JSON: body}
	for _, r := range notify.Send(ctx, targets, conf, level, msg) {
		if r.Err != nil {
			warn(r.Target, message(r.Err))
		} else {
			log.Info(fmt.Sprintf("Benachrichtigung gesendet: %s", r.Target))
		}
	}
}

// unwrapPath drops Go's "open <path>:" from a file error; the caller
// names the file.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// mailSubject: "werkstatt-backup: Export FEHLER (Standort nord, Exit-Code 1)".
func mailSubject(run monitor.Run, level notify.Level) string {
	s := fmt.Sprintf("werkstatt-backup: %s %s (", monitor.Title(run.Command), level)
	if run.Site != "" {
		s += "Standort " + run.Site + ", "
	}
	if run.Host != "" {
		s += run.Host + ", "
	}
	return s + fmt.Sprintf("Exit-Code %d)", run.ExitCode)
}

// maxMailProblems is how many of a report's problems a mail lists.
const maxMailProblems = 20

// mailText is the mail's body: what ran where, how it ended, the first
// problems, then the run's JSON object.
func mailText(run monitor.Run, rep *backup.Report, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Befehl:    %s\n", run.Command)
	if run.Site != "" {
		fmt.Fprintf(&b, "Standort:  %s\n", run.Site)
	}
	if run.Archive != "" {
		fmt.Fprintf(&b, "Archiv:    %s\n", run.Archive)
	}
	fmt.Fprintf(&b, "Rechner:   %s\n", run.Host)
	fmt.Fprintf(&b, "Ende:      %s\n", run.Finished.Local().Format(time.DateTime))
	fmt.Fprintf(&b, "Exit-Code: %d\n", run.ExitCode)
	if run.Summary != "" {
		fmt.Fprintf(&b, "Ergebnis:  %s\n", run.Summary)
	}
	if run.Error != "" {
		fmt.Fprintf(&b, "Fehler:    %s\n", run.Error)
	}
	if rep != nil && len(rep.Problems) > 0 {
		b.WriteString("\nMeldungen:\n")
		for i, p := range rep.Problems {
			if i == maxMailProblems {
				fmt.Fprintf(&b, "… und %d weitere (siehe Log)\n", len(rep.Problems)-maxMailProblems)
				break
			}
			fmt.Fprintf(&b, "%s - %s\n", p.Level, p)
		}
	}
	if len(body) > maxMailJSON {
		fmt.Fprintf(&b, "\nDer Bericht (wie mit --json) ist mit %d KB zu groß für eine Mail; die Meldungen stehen im Log.\n", len(body)/1024)
		return b.String()
	}
	b.WriteString("\nBericht (wie mit --json):\n")
	b.Write(body)
	return b.String()
}

// maxMailJSON bounds the JSON a mail carries (a run with thousands of
// warnings would make a mail of megabytes).
const maxMailJSON = 64 << 10

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
