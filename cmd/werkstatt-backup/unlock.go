package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"werkstatt-backup/config"
	archfs "werkstatt-backup/fs"
)

func (a *app) unlockCmd() *cobra.Command {
	var removeAll bool
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "einen veralteten .backup.lock entfernen",
		Long: `Entfernt .backup.lock im Archiv, wenn er veraltet ist: sein Prozess auf diesem
Rechner lebt nicht mehr, oder er wurde seit 10 Minuten nicht aufgefrischt. Ein
aktiver Lock bleibt, außer mit --remove-all.

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
			host, _ := os.Hostname()
			holder, err := archfs.Unlock(s.fsys, removeAll, host, archfs.DefaultLockStaleAfter)
			if err != nil {
				s.log.Error("unlock: " + oneLine(err.Error()))
				return err
			}
			msg := "Kein Lock vorhanden: " + s.loc.String()
			if holder != nil {
				msg = fmt.Sprintf("Lock entfernt: pid %d auf %s (%s, zuletzt aufgefrischt %s)",
					holder.PID, holder.Host, holder.Operation, holder.Refreshed.Local().Format("2006-01-02 15:04:05"))
			}
			s.log.Info(msg)
			if a.jsonOut {
				a.emit(map[string]any{"command": "unlock", "removed": holder})
			} else if !a.quiet {
				fmt.Fprintln(a.stdout, msg)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&removeAll, "remove-all", false, "auch einen aktiven Lock entfernen (nur wenn sicher kein Lauf mehr aktiv ist)")
	return cmd
}
