package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"werkstatt-backup/config"
)

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Konfiguration anzeigen",
		Example: `  werkstatt-backup config show --sources
  werkstatt-backup config show --config /etc/werkstatt-backup/config.json --site filiale-nord`,
	}
	var sources bool
	show := &cobra.Command{
		Use:   "show",
		Short: "die wirksame Konfiguration anzeigen (Geheimnisse als ***)",
		Long: `Zeigt jede Einstellung so, wie ein Befehl mit denselben Flags, Umgebungsvariablen
und derselben Datei sie verwenden würde. Rangfolge, höchste zuerst: Flag >
Umgebung (ARCHIV_*) > gewählter Standort > oberste Ebene der Datei > Vorgabe.
Mit --sources steht hinter jedem Wert, woher er kommt. Relative Pfade aus der
Datei sind schon gegen deren Ordner aufgelöst. Passwörter erscheinen als ***.`,
		Example: `  werkstatt-backup config show --sources
  werkstatt-backup config show --site filiale-nord
  werkstatt-backup config show --all-sites --json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			ld, err := config.Load(nil, a.configFile)
			if err != nil {
				return err
			}
			names, err := a.siteNames(ld)
			if err != nil {
				return err
			}
			type shown struct {
				Site     string         `json:"site,omitempty"`
				Settings []config.Entry `json:"settings"`
			}
			var all []shown
			for _, name := range names {
				cfg, src, err := ld.Resolve(name, cmd.Flags())
				if err != nil {
					return err
				}
				all = append(all, shown{cfg.Site, config.Show(cfg, src)})
			}
			sites := ld.Sites()
			if sites == nil {
				sites = []string{}
			}
			if a.jsonOut {
				if a.allSites {
					a.emit(map[string]any{"file": ld.File(), "sites": sites, "by_site": all})
				} else {
					a.emit(map[string]any{"file": ld.File(), "sites": sites, "site": all[0].Site, "settings": all[0].Settings})
				}
				return nil
			}
			file := ld.File()
			if file == "" {
				file = "keine (--config, ARCHIV_CONFIG oder " + config.DefaultFile + ")"
			}
			fmt.Fprintf(a.stdout, "Konfigurationsdatei: %s\n", file)
			for _, s := range all {
				if s.Site != "" {
					fmt.Fprintf(a.stdout, "\nStandort %s:\n", s.Site)
				}
				if err := showTable(a.stdout, s.Settings, sources); err != nil {
					return err
				}
			}
			if !a.allSites && len(sites) > 0 {
				fmt.Fprintf(a.stdout, "\nStandorte: %s\n", strings.Join(sites, ", "))
			}
			return nil
		},
	}
	show.Flags().BoolVar(&sources, "sources", false, "zu jedem Wert angeben, woher er kommt: Vorgabe, Datei, Standort, Umgebung oder Option")
	cmd.AddCommand(show)
	return cmd
}

// showTable prints one setting per line, aligned, with its source if asked.
func showTable(w io.Writer, entries []config.Entry, sources bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range entries {
		val := e.Value
		if val == "" {
			val = "-"
		}
		if e.Note != "" {
			val += " (" + e.Note + ")"
		}
		if !sources {
			fmt.Fprintf(tw, "%s\t%s\n", e.Key, val)
			continue
		}
		src := strings.TrimSpace(sourceLabel(e.Source) + " " + e.From)
		fmt.Fprintf(tw, "%s\t%s\t(%s)\n", e.Key, val, src)
	}
	return tw.Flush()
}

// sourceLabel names a setting's source in the table's German; --json keeps
// the stable keys (default, file, site, env, flag).
func sourceLabel(kind string) string {
	switch kind {
	case config.FromDefault:
		return "Vorgabe"
	case config.FromFile:
		return "Datei"
	case config.FromSite:
		return "Standort"
	case config.FromEnv:
		return "Umgebung"
	case config.FromFlag:
		return "Option"
	case "":
		return "nicht gesetzt"
	}
	return kind
}
