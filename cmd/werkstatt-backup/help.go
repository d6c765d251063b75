package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// globalsUsed lists, for the commands that do not use every global flag,
// the ones they do. Their help lists only these, and giving another one is
// a usage error instead of being silently ignored. A command not listed
// uses them all.
var globalsUsed = map[string][]string{
	"demo":       {"log-file", "json", "quiet", "verbose"},
	"version":    {"json"},
	"completion": {},
	"help":       {},
}

// usesGlobal reports whether cmd (or the listed command it belongs to)
// uses the global flag name.
func usesGlobal(cmd *cobra.Command, name string) bool {
	for c := cmd; c != nil && c.HasParent(); c = c.Parent() {
		if used, ok := globalsUsed[c.Name()]; ok && c.Parent() == c.Root() {
			return slices.Contains(used, name)
		}
	}
	return true
}

// checkGlobals refuses a global flag the command would ignore.
func checkGlobals(cmd *cobra.Command, _ []string) error {
	var err error
	cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) {
		if err == nil && f.Changed && !usesGlobal(cmd, f.Name) {
			err = usageError{fmt.Errorf("Option --%s gilt nicht für %q", f.Name, cmd.CommandPath())}
		}
	})
	return err
}

const usageTemplate = `Aufruf:{{if .Runnable}}
  {{useLine .}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} BEFEHL [Optionen]{{end}}{{if .HasExample}}

Beispiele:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}

Befehle:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Optionen:
{{localFlags .}}{{end}}{{with globalFlags .}}

Globale Optionen:
{{.}}{{end}}{{if .HasAvailableSubCommands}}

"{{.CommandPath}} BEFEHL --help" zeigt die Hilfe zu einem Befehl.{{end}}
`

const helpTemplate = `{{with (or .Long .Short)}}{{. | trimTrailingWhitespaces}}

{{end}}{{if or .Runnable .HasSubCommands}}{{.UsageString}}{{end}}`

func init() {
	cobra.AddTemplateFunc("useLine", useLine)
	cobra.AddTemplateFunc("localFlags", func(c *cobra.Command) string { return flagTable(c.LocalFlags(), nil) })
	cobra.AddTemplateFunc("globalFlags", func(c *cobra.Command) string {
		return flagTable(c.InheritedFlags(), func(f *pflag.Flag) bool { return usesGlobal(c, f.Name) })
	})
}

// useLine is cobra's UseLine in German: "[Optionen]" instead of "[flags]".
func useLine(c *cobra.Command) string {
	use := c.Use
	if c.HasParent() {
		use = c.Parent().CommandPath() + " " + use
	}
	if c.HasAvailableFlags() && !strings.Contains(use, "[Optionen]") {
		use += " [Optionen]"
	}
	return use
}

// flagTable renders flags as pflag's FlagUsages does, with German value
// names ("--workers Anzahl") and "(Vorgabe: …)" for defaults.
func flagTable(fs *pflag.FlagSet, keep func(*pflag.Flag) bool) string {
	type row struct{ left, usage string }
	var rows []row
	width := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || keep != nil && !keep(f) {
			return
		}
		left := "      --" + f.Name
		if f.Shorthand != "" {
			left = "  -" + f.Shorthand + ", --" + f.Name
		}
		switch n := typeName(f); {
		case n == "":
		case f.NoOptDefVal != "":
			left += "[=" + n + "]" // a switch that also takes a value: --s3-insecure[=ja|nein]
		default:
			left += " " + n
		}
		_, usage := pflag.UnquoteUsage(f)
		if d := defaultText(f); d != "" {
			usage += " (Vorgabe: " + d + ")"
		}
		rows = append(rows, row{left, usage})
		width = max(width, len([]rune(left)))
	})
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s%s   %s\n", r.left, strings.Repeat(" ", width-len([]rune(r.left))), r.usage)
	}
	return strings.TrimRight(b.String(), "\n")
}

// defaultText is a flag's default as help shows it, "" for none.
func defaultText(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]":
		return ""
	}
	if f.Value.Type() == "string" {
		return fmt.Sprintf("%q", f.DefValue)
	}
	return f.DefValue
}

// germanFrame replaces cobra's English frame in the whole tree: usage and
// help templates, the help flag of every command, the help command, the
// texts of the completion commands, and parse errors of flags.
func germanFrame(root *cobra.Command) {
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpTemplate(helpTemplate)
	root.SetFlagErrorFunc(flagError)
	root.PersistentPreRunE = checkGlobals
	help := &cobra.Command{
		Use:   "help [BEFEHL]",
		Short: "Hilfe zu einem Befehl anzeigen",
		Long:  `Zeigt die Hilfe zu einem Befehl, wie BEFEHL --help.`,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil {
				return err
			}
			if len(rest) > 0 && target == root {
				return usageError{fmt.Errorf("unbekannter Befehl %q; werkstatt-backup --help listet alle", rest[0])}
			}
			return target.Help()
		},
	}
	root.SetHelpCommand(help)
	root.AddCommand(help) // now, so that the walk below reaches it
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Flags().Lookup("help") == nil {
			c.Flags().BoolP("help", "h", false, "diese Hilfe anzeigen")
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
