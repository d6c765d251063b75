package main

import (
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

` + exitCodesHelp,
		Example: `  werkstatt-backup unlock --archiv ./test_archiv
  werkstatt-backup unlock --archiv ./test_archiv --remove-all`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			ld, err := config.Load(nil, a.configFile)
			if err != nil {
				return err
			}
			s, err := a.openSite(cmd.Context(), ld, cmd, a.site, "unlock", false)
			if err != nil {
				return err
			}
			defer s.done()
			u, err := lock.Unlock(cmd.Context(), s.arch.Fs, s.arch.Caps, lock.UnlockOptions{RemoveAll: removeAll,
				Logf: func(_, msg string) {
					s.log.Info(msg)
					if !a.quiet && !a.jsonOut {
						fmt.Fprintln(a.stderr, msg)
					}
				}})
			if err != nil {
				s.log.Error("unlock: " + oneLine(err.Error()))
				return err
			}
			msg := "Kein Lock vorhanden: " + s.loc.String()
			var holder *lock.LockInfo
			if u != nil {
				holder = u.Holder
				msg = "Lock entfernt: " + lock.DescribeHolder(holder)
				if holder != nil {
					msg += ", zuletzt aufgefrischt " + holder.Refreshed.Local().Format("2006-01-02 15:04:05") + " (Uhr des Halters)"
				}
			}
			s.log.Info(msg)
			if a.jsonOut {
				out := map[string]any{"command": "unlock", "removed": holder}
				if u != nil && holder == nil {
					out["unreadable"] = true
				}
				a.emit(out)
			} else if !a.quiet {
				fmt.Fprintln(a.stdout, msg)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&removeAll, "remove-all", false, "auch einen aktiven Lock entfernen (nur wenn sicher kein Lauf mehr aktiv ist)")
	return cmd
}
