package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Version und Build-Informationen anzeigen",
		Long: `Zeigt Version, Go-Version, Betriebssystem/Architektur und, wenn aus einem
git-Checkout gebaut, den Commit (+geändert bei lokalen Änderungen). Die Version
setzt der Build: make build (git describe) oder -ldflags "-X main.version=…".`,
		Example: `  werkstatt-backup version
  werkstatt-backup version --json`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			a.printVersion()
			return nil
		},
	}
}

// printVersion prints the version line (with --json the object): for
// `version`, `--version` and `-V`.
func (a *app) printVersion() {
	info := map[string]string{"version": version, "go": runtime.Version(), "os": runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified":
				info[s.Key] = s.Value
			}
		}
	}
	if a.jsonOut {
		a.emit(info)
		return
	}
	fmt.Fprintf(a.stdout, "werkstatt-backup %s (%s, %s", info["version"], info["go"], info["os"])
	if rev := info["vcs.revision"]; rev != "" {
		fmt.Fprintf(a.stdout, ", commit %.12s", rev)
		if info["vcs.modified"] == "true" {
			fmt.Fprint(a.stdout, "+geändert")
		}
	}
	fmt.Fprintln(a.stdout, ")")
}
