package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"werkstatt-backup/config"
)

func (a *app) configCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Konfiguration anzeigen",
	}
	var sources bool
	show := &cobra.Command{
		Use:   "show",
		Short: "die wirksame Konfiguration anzeigen (Geheimnisse als ***)",
		Example: `  werkstatt-backup config show --sources
  werkstatt-backup config show --site filiale-nord`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			ld, err := config.Load(nil, a.configFile)
			if err != nil {
				return err
			}
			cfg, src, err := ld.Resolve(a.site, cmd.Flags())
			if err != nil {
				return err
			}
			entries := config.Show(cfg, src)
			if a.jsonOut {
				writeJSON(a.stdout, map[string]any{"site": cfg.Site, "file": cfg.File, "settings": entries, "sites": ld.Sites()})
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, e := range entries {
				if sources {
					fmt.Fprintf(tw, "%s\t%s\t(%s)\n", e.Key, e.Value, e.Source)
				} else {
					fmt.Fprintf(tw, "%s\t%s\n", e.Key, e.Value)
				}
			}
			if names := ld.Sites(); len(names) > 0 {
				fmt.Fprintf(tw, "sites\t%v\t\n", names)
			}
			return tw.Flush()
		},
	}
	show.Flags().BoolVar(&sources, "sources", false, "zu jedem Wert angeben, woher er kommt (default/file/site/env/flag)")
	cmd.AddCommand(show)
	return cmd
}
