package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/history"
)

// retentionOf is the history policy of the config key retention.
func retentionOf(r config.Retention) history.Retention {
	return history.Retention{Last: r.Last, Daily: r.Daily, Weekly: r.Weekly, Monthly: r.Monthly, Yearly: r.Yearly}
}

func (a *app) forgetCmd() *cobra.Command {
	var opts backup.ForgetOptions
	keep := []struct {
		flag string
		n    *int
		what string
	}{
		{"keep-last", &opts.Policy.Last, "die N neuesten Generationen"},
		{"keep-daily", &opts.Policy.Daily, "die neueste Generation jedes der letzten N Tage"},
		{"keep-weekly", &opts.Policy.Weekly, "die neueste Generation jeder der letzten N Wochen"},
		{"keep-monthly", &opts.Policy.Monthly, "die neueste Generation jedes der letzten N Monate"},
		{"keep-yearly", &opts.Policy.Yearly, "die neueste Generation jedes der letzten N Jahre"},
	}
	cmd := &cobra.Command{
		Use:   "forget",
		Short: "alte Generationen der Historie nach Aufbewahrungsregeln entfernen",
		Long: `Entfernt die Generationen der Historie, die keine Regel behält, und danach die
Inhalte, auf die keine verbliebene Generation mehr verweist. Die Regeln wirken wie bei
restic: --keep-daily 14 behält die neueste Generation jedes der letzten 14 Tage, an
denen es Generationen gibt; was eine Regel behält, bleibt; -1 heißt unbegrenzt. Tage,
Wochen, … zählen nach der Zeit, die das Archiv der Generation gegeben hat, nicht nach
der Uhr des Rechners. Ohne --keep-* gilt der Konfigurationsschlüssel retention
(Standard: last=10 daily=14 weekly=8 monthly=24 yearly=10); mit --keep-* gelten nur
die angegebenen Regeln. Regeln, die nichts behalten, werden abgelehnt.
Läuft unter dem Lock des Archivs; --dry-run zeigt nur, was entfernt würde.
Auf einem Speicher mit Object Lock bleibt, was noch gesperrt ist (history_lock), und
eine Zeile nennt es; ein späteres forget entfernt es.

` + exitCodesHelp,
		Example: `  werkstatt-backup forget --config .archiv_config.json --dry-run
  werkstatt-backup forget --archiv ./test_archiv --keep-daily 7 --keep-monthly 12`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			custom := false
			for _, k := range keep {
				custom = custom || cmd.Flags().Changed(k.flag)
			}
			if custom && opts.Policy == (history.Retention{}) {
				return usageError{fmt.Errorf("--keep-*: alle Regeln sind 0, forget würde die ganze Historie löschen")}
			}
			if err := opts.Policy.Validate(); custom && err != nil {
				return usageError{err}
			}
			return a.runJob(cmd, "forget", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
				rep, err := e.Forget(ctx, opts)
				if rep != nil && rep.Forget != nil && !a.jsonOut && !a.quiet {
					a.printForget(rep)
				}
				return rep, err
			})
		},
	}
	for _, k := range keep {
		cmd.Flags().IntVar(k.n, k.flag, 0, k.what+" behalten (`N`; -1 = unbegrenzt)")
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "nur anzeigen, was entfernt würde")
	return cmd
}

// printForget lists the generations forget removed (or would remove).
func (a *app) printForget(rep *backup.Report) {
	verb := "entfernt"
	if rep.DryRun {
		verb = "würde entfernt"
	}
	fmt.Fprintf(a.stdout, "Regeln: %s\n", rep.Forget.Policy)
	for _, v := range rep.Forget.Removed {
		fmt.Fprintf(a.stdout, "Generation %d vom %s %s\n", v.Generation, v.ArchiveTime.Local().Format(time.DateTime), verb)
	}
	if n := len(rep.Forget.Retained); n > 0 {
		fmt.Fprintf(a.stdout, "Object Lock: %d Dateien der Historie noch gesperrt, bleiben: %s\n", n, backup.FirstNames(rep.Forget.Retained, 5))
	}
	if n := len(rep.Forget.PDFsRemoved); n > 0 {
		fmt.Fprintf(a.stdout, "PDF-Kopien, die keine behaltene Generation braucht, %s: %d (%s)\n", verb, n, backup.FirstNames(rep.Forget.PDFsRemoved, 5))
	}
	if n := len(rep.Forget.PDFsRetained); n > 0 {
		fmt.Fprintf(a.stdout, "Object Lock: %d nicht mehr benötigte PDF-Kopien noch gesperrt, bleiben bis zum nächsten forget nach Ablauf der Sperre: %s\n", n, backup.FirstNames(rep.Forget.PDFsRetained, 5))
	}
}
