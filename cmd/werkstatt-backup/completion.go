package main

import (
	"github.com/spf13/cobra"

	"werkstatt-backup/config"
)

// completionCmd adds cobra's completion command now (cobra would add it only
// when executing) and gives it German help with examples. --site completes
// the site names of the config file.
func (a *app) completionCmd(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("site", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		ld, err := config.Load(nil, a.configFile)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return ld.Sites(), cobra.ShellCompDirectiveNoFileComp
	})
	root.InitDefaultCompletionCmd()
	c, _, err := root.Find([]string{"completion"})
	if err != nil || c == root {
		return
	}
	c.Short = "Skript für die Tab-Vervollständigung ausgeben (bash, zsh, fish, powershell)"
	c.Long = `Gibt das Skript aus, mit dem die Shell Befehle, Optionen und Standortnamen
von werkstatt-backup mit der Tab-Taste vervollständigt. Die Beispiele zeigen, wohin
es für jede Shell gehört.`
	for _, sh := range c.Commands() {
		sh.Short = "Vervollständigung für " + sh.Name() + " ausgeben"
		sh.Long = "Gibt das Skript für die Tab-Vervollständigung in " + sh.Name() + " aus (Beispiele: werkstatt-backup completion --help)."
		if f := sh.Flags().Lookup("no-descriptions"); f != nil {
			f.Usage = "ohne Beschreibungen der Befehle und Optionen"
		}
	}
	c.Example = `  # bash, für alle Benutzer (Debian: Paket bash-completion)
  werkstatt-backup completion bash > /etc/bash_completion.d/werkstatt-backup

  # bash, nur in dieser Sitzung
  source <(werkstatt-backup completion bash)

  # zsh
  werkstatt-backup completion zsh > "${fpath[1]}/_werkstatt-backup"

  # fish
  werkstatt-backup completion fish > ~/.config/fish/completions/werkstatt-backup.fish`
}
