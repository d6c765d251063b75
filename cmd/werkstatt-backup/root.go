package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
)

// app holds what all commands share: the output streams and global flags.
type app struct {
	stdout, stderr io.Writer

	configFile string
	site       string
	allSites   bool
	jsonOut    bool
	quiet      bool
	verbose    bool

	ran    bool // a command's RunE started: later errors are not usage errors
	result any  // what --json prints, with the exit code added (see emit)
	// reports are the reports of the runs of this command line, one per
	// site (recordRun keeps them), for --quiet's list of affected orders.
	reports []*backup.Report

	// For tests of the progress bar: whether stderr counts as a terminal
	// (nil: ask the OS) and how long a run lasts before the bar shows.
	isTerminal func(io.Writer) bool
	barDelay   *time.Duration
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr}
	return a.execute(ctx, args, true)
}

// silentError carries an exit code whose details were already printed.
type silentError struct{ err error }

func (e silentError) Error() string { return e.err.Error() }
func (e silentError) Unwrap() error { return e.err }

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "werkstatt-backup",
		Short: "Sichert die Auftrags-Datenbank einer Werkstatt in das PDF-Archiv und stellt sie wieder her",
		Long: `werkstatt-backup schreibt jede Zeile der Tabelle auftraege aus werkstatt.db als
data.csv + meta.json (SHA-256-Prüfsumme, Schema-Version) in den Ordner des Auftrags
im Archiv, prüft diese Sicherungen und baut die Datenbank nach einem Verlust daraus
wieder auf. Das Archiv liegt lokal, auf einer SMB-Freigabe (ohne mount) oder in einem
S3-Objektspeicher (AWS S3, Ceph, MinIO …).

` + exitCodesHelp,
		Example: `  werkstatt-backup export --db ./test_archiv/werkstatt.db --archiv ./test_archiv
  werkstatt-backup export --config .archiv_config.json
  werkstatt-backup verify --archiv ./test_archiv
  werkstatt-backup restore --db ./neu/werkstatt.db --archiv ./test_archiv
  werkstatt-backup demo`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	var showVersion bool
	root.Flags().BoolVarP(&showVersion, "version", "V", false, "Version anzeigen (wie der Befehl version)")
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		if !showVersion {
			return cmd.Help() // no command: the overview, as before
		}
		a.started()
		a.printVersion()
		return nil
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.configFile, "config", "", "`PFAD` der Konfigurationsdatei (sonst $ARCHIV_CONFIG oder ./.archiv_config.json)")
	pf.StringVar(&a.site, "site", "", "der Standort `NAME` aus der Konfiguration")
	pf.BoolVar(&a.allSites, "all-sites", false, "den Befehl für jeden Standort der Konfiguration ausführen")
	// --db, --archiv, --workers, --lock-timeout, --log-file and the
	// backends' options: config defines them with their defaults, the
	// backends declare theirs.
	config.UseBackends(backends)
	config.RegisterFlags(pf)
	pf.BoolVar(&a.jsonOut, "json", false, "einen maschinenlesbaren Bericht (JSON) auf stdout ausgeben")
	pf.BoolVarP(&a.quiet, "quiet", "q", false, "nur Fehler ausgeben")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "ausführlich: jeden Datensatz protokollieren, Log auch auf stderr")

	root.AddCommand(
		a.exportCmd(),
		a.verifyCmd(),
		a.restoreCmd(),
		a.migrateCmd(),
		a.historyCmd(),
		a.forgetCmd(),
		a.unlockCmd(),
		a.demoCmd(),
		a.configCmd(),
		a.statusCmd(),
		a.scheduleCmd(),
		a.versionCmd(),
	)
	for _, c := range root.Commands() {
		if c.Args == nil {
			c.Args = noArgs
		}
	}
	a.completionCmd(root)
	a.manCmd(root)
	germanFrame(root)
	return root
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unerwartetes Argument %q für %q", args[0], cmd.CommandPath())}
	}
	return nil
}

// started marks that the command itself runs: from here on an error is the
// command's, not a wrong invocation.
func (a *app) started() { a.ran = true }

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
