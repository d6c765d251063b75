package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"werkstatt-backup/config"
	"werkstatt-backup/lock"
)

func (a *app) unlockCmd() *cobra.Command {
	var removeAll bool
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "einen veralteten .backup.lock entfernen",
		Long: `Entfernt .backup.lock im Archiv, wenn er veraltet ist. Sofort, wenn sein Prozess
auf genau diesem Rechner (gleiche Machine-ID, gleicher Boot, gleicher
PID-Namespace) nicht mehr läuft. Sonst beobachtet unlock den Lock 3 Minuten
lang (eine Lease): ändert er sich nicht, wird er entfernt; frischt sein Lauf
ihn auf, bleibt er (Exit 4). --remove-all entfernt jeden Lock sofort.
Wo der Speicher Compare-and-Swap kann (S3), bleibt die Datei stehen und
wird als frei markiert; ein Lauf, der den Lock gerade hält, merkt das bei
seiner nächsten Auffrischung und schreibt nichts mehr.
Mit --all-sites für das Archiv jedes Standorts der Konfiguration nacheinander,
nach denselben Regeln, mit einer Zeile je Standort; der Exit-Code ist der des
schlechtesten.

` + exitCodesHelp,
		Example: `  werkstatt-backup unlock --archiv ./test_archiv
  werkstatt-backup unlock --archiv ./test_archiv --remove-all
  werkstatt-backup unlock --config .archiv_config.json --all-sites`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			ld, err := config.Load(nil, a.configFile)
			if err != nil {
				return err
			}
			if a.allSites {
				return a.unlockAllSites(cmd, ld, removeAll)
			}
			res, err := a.unlockSite(cmd.Context(), ld, cmd, a.site, removeAll, "")
			if err != nil {
				return err
			}
			if a.jsonOut {
				out := map[string]any{"command": "unlock", "removed": res.Removed}
				if res.Unreadable {
					out["unreadable"] = true
				}
				a.emit(out)
			} else if !a.quiet {
				fmt.Fprintln(a.stdout, res.msg)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&removeAll, "remove-all", false, "auch einen aktiven Lock entfernen (nur wenn sicher kein Lauf mehr aktiv ist)")
	return cmd
}

// unlocked is what unlock did to one archive's lock.
type unlocked struct {
	Archive    string         `json:"archive,omitempty"`
	Removed    *lock.LockInfo `json:"removed"`              // the removed lock's holder
	Unreadable bool           `json:"unreadable,omitempty"` // the removed file was no readable lock
	msg        string         // "Lock entfernt: …" or "Kein Lock vorhanden: …"
}

// unlockSite removes the stale lock of site's archive (any lock with
// removeAll). prefix ("[nord] " with --all-sites) starts each line unlock
// prints while it watches a lock. Archive is set once the archive is open.
func (a *app) unlockSite(ctx context.Context, ld *config.Loader, cmd *cobra.Command, site string, removeAll bool, prefix string) (unlocked, error) {
	var res unlocked
	s, err := a.openSite(ctx, ld, cmd, site, "unlock", false)
	if err != nil {
		return res, err
	}
	defer s.done()
	res.Archive = s.loc.String()
	u, err := lock.Unlock(ctx, s.arch, lock.UnlockOptions{RemoveAll: removeAll,
		Logf: func(_, msg string) {
			s.log.Info(msg)
			if !a.quiet && !a.jsonOut {
				fmt.Fprintln(a.stderr, prefix+msg)
			}
		}})
	if err != nil {
		s.log.Error("unlock: " + oneLine(err.Error()))
		return res, err
	}
	res.msg = "Kein Lock vorhanden: " + res.Archive
	if u != nil {
		res.Removed, res.Unreadable = u.Holder, u.Holder == nil
		res.msg = "Lock entfernt: " + lock.DescribeHolder(u.Holder)
		if u.Holder != nil {
			res.msg += ", zuletzt aufgefrischt " + u.Holder.Refreshed.Local().Format("2006-01-02 15:04:05") + " (Uhr des Halters)"
		}
	}
	s.log.Info(res.msg)
	return res, nil
}

// unlockSiteResult is one site's entry in unlock --all-sites --json.
type unlockSiteResult struct {
	siteStatus
	unlocked
}

// unlockAllSites is unlock for the archive of every site of the
// configuration, one after another: a site whose lock is alive (exit 4)
// or whose archive cannot be opened fails alone.
func (a *app) unlockAllSites(cmd *cobra.Command, ld *config.Loader, removeAll bool) error {
	sites, err := a.allSitesOf(cmd, ld)
	if err != nil {
		return err
	}
	results := make([]unlocked, len(sites))
	statuses, err := a.eachSite(cmd.Context(), sites, func(i int, site string) siteStatus {
		res, err := a.unlockSite(cmd.Context(), ld, cmd, site, removeAll, "["+site+"] ")
		results[i] = res
		st := a.siteOutcome(site, err)
		if err == nil {
			st.summary = res.msg
		}
		if st.ExitCode == exitLock && !removeAll {
			// The lock's message points to --remove-all: with
			// --all-sites, that would remove every site's lock.
			fmt.Fprintf(a.stderr, "werkstatt-backup: Standort %s: nur diesen Lock sofort entfernen: unlock --site %s --remove-all (mit --all-sites entfernte --remove-all die Locks aller Standorte)\n", site, site)
		}
		return st
	})
	if a.jsonOut {
		out := make([]unlockSiteResult, len(sites))
		for i, site := range sites {
			if results[i].Archive == "" { // not opened, or skipped
				results[i].Archive = archiveOf(cmd, ld, site)
			}
			out[i] = unlockSiteResult{statuses[i], results[i]}
		}
		a.emit(struct {
			Command string             `json:"command"`
			Sites   []unlockSiteResult `json:"sites"`
		}{"unlock", out})
	}
	return err
}
