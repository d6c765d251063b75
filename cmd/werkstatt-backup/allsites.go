package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"werkstatt-backup/config"
	"werkstatt-backup/storage"
)

// siteStatus is what every --all-sites run says about one site; each
// command's JSON entry for a site embeds it and adds what it found.
type siteStatus struct {
	Site     string `json:"site"`
	ExitCode int    `json:"exit_code"`
	Skipped  bool   `json:"skipped,omitempty"` // not run: interrupted before
	Error    string `json:"error,omitempty"`
	// summary is what the site's line says when it did not fail (or, for
	// an engine run that found invalid records, what it found).
	summary string
}

// line is the site's one summary line: "Standort nord: Verify abgeschlossen:
// 3 gültig, 0 Fehler (Exit-Code 0)", or "Standort nord: Fehler: … (Exit-Code 1)".
func (s siteStatus) line() string {
	what := "ok"
	switch {
	case s.Skipped:
		what = "übersprungen (abgebrochen)"
	case s.summary != "":
		what = s.summary
	case s.Error != "":
		what = "Fehler: " + s.Error
	}
	return fmt.Sprintf("Standort %s: %s (Exit-Code %d)", s.Site, what, s.ExitCode)
}

// allSitesOf checks an --all-sites invocation and returns the sites of the
// configuration, in file order.
func (a *app) allSitesOf(cmd *cobra.Command, ld *config.Loader) ([]string, error) {
	sites, err := a.siteNames(ld)
	if err != nil {
		return nil, err
	}
	// A db or archiv from a flag or the environment would be the same for
	// every site: all sites would export into, or restore from, one place.
	_, src, err := ld.Resolve(sites[0], cmd.Flags())
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"archiv", "db"} {
		if s := src[k]; s.Kind == config.FromFlag || s.Kind == config.FromEnv {
			return nil, &config.Error{Key: s.Where, Reason: fmt.Sprintf("gälte für alle Standorte; mit --all-sites steht %s jedes Standorts in der Datei", k)}
		}
	}
	return sites, nil
}

// siteNames returns the sites a command that only reads its configuration
// (config show, status) works on: the one of --site (or the top level, ""),
// or with --all-sites every site of the file, in file order.
func (a *app) siteNames(ld *config.Loader) ([]string, error) {
	if !a.allSites {
		return []string{a.site}, nil
	}
	if a.site != "" {
		return nil, usageError{errors.New("--site und --all-sites schließen sich aus")}
	}
	sites := ld.Sites()
	if len(sites) == 0 {
		return nil, &config.Error{File: ld.File(), Key: "--all-sites", Reason: "die Konfiguration beschreibt keine Standorte (sites)"}
	}
	return sites, nil
}

// siteOutcome is the status of a site whose run ended with err (nil: it
// succeeded); a failure is named on stderr at once, with the site.
func (a *app) siteOutcome(site string, err error) siteStatus {
	st := siteStatus{Site: site, ExitCode: exitCode(err)}
	if err != nil {
		st.Error = message(err)
		fmt.Fprintf(a.stderr, "werkstatt-backup: Standort %s: %s\n", site, st.Error)
	}
	return st
}

// eachSite runs run for the i-th of sites, one after another, for
// --all-sites: on past a site that failed, but not past an interruption
// (the sites after it are skipped, exit 130). Without --json it then prints
// one line per site (with --quiet only the failing ones). The error, if a
// site failed, maps to the worst site's exit code and prints nothing more:
// each failing site was named on stderr when it failed.
func (a *app) eachSite(ctx context.Context, sites []string, run func(i int, site string) siteStatus) ([]siteStatus, error) {
	statuses := make([]siteStatus, len(sites))
	worst, failed := exitOK, 0
	for i, name := range sites {
		st := siteStatus{Skipped: true, ExitCode: exitInterrupt}
		if ctx.Err() == nil {
			st = run(i, name)
		}
		st.Site = name
		if st.ExitCode != exitOK {
			failed++
		}
		worst = worse(worst, st.ExitCode)
		statuses[i] = st
	}
	if !a.jsonOut {
		for _, st := range statuses {
			if !a.quiet || st.ExitCode != exitOK {
				fmt.Fprintln(a.stdout, st.line())
			}
		}
	}
	if failed == 0 {
		return statuses, nil
	}
	return statuses, silentError{siteFailure{code: worst, failed: failed, total: len(sites)}}
}

// archiveOf names the archive of site for a report when the archive could
// not be opened: as the backend writes it, else with any password removed;
// "" if the configuration does not say.
func archiveOf(cmd *cobra.Command, ld *config.Loader, site string) string {
	cfg, _, err := ld.Resolve(site, cmd.Flags())
	if err != nil || cfg.Archiv == "" {
		return ""
	}
	if loc, err := backends.Parse(cfg.Archiv); err == nil {
		return loc.String()
	}
	return storage.Redact(cfg.Archiv)
}
