package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/history"
)

// orderRestoreHelp is restore's help on one order and its undo.
const orderRestoreHelp = `Ein einzelner Auftrag: --auftrag NR stellt nur die Zeile dieses Auftrags in der
laufenden Datenbank wieder her (ersetzt sie, oder fügt sie wieder ein, wenn sie
fehlt), in einer Transaktion; alle anderen Zeilen und Tabellen bleiben unberührt,
--force ist nicht nötig. Quelle ist die Sicherung im Auftragsordner (bei mehreren
Kopien gewinnt das neueste updated_at), mit --at ZEIT die Generation der Historie.
NR wird verglichen, wie die Tabelle sie speichert (076329); 76329 findet 076329 mit
einem Hinweis. Die alte Zeile steht im Log, in --json und in einer Rückgängig-Datei
neben der Datenbank (werkstatt.db.auftrag-NR-JJJJMMTT-HHMMSS.json); --dry-run zeigt
alte und neue Felder nebeneinander. --undo DATEI macht den Schritt rückgängig,
solange die Zeile seitdem nicht geändert wurde (sonst mit --force).`

// orderFlags are restore's flags for one order.
type orderFlags struct {
	auftrag string
	undo    string
}

func (o *orderFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.auftrag, "auftrag", "", "nur diesen Auftrag (`NR`, z. B. 076329) in der laufenden Datenbank wiederherstellen (ohne --force)")
	cmd.Flags().StringVar(&o.undo, "undo", "", "einen Einzel-Restore rückgängig machen, mit seiner Rückgängig-`DATEI` (werkstatt.db.auftrag-NR-….json)")
}

// set reports whether the run is about one order (--auftrag or --undo).
func (o *orderFlags) set(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("auftrag") || cmd.Flags().Changed("undo")
}

// restoreOne runs restore --auftrag or --undo.
func (a *app) restoreOne(cmd *cobra.Command, o *orderFlags, opts backup.RestoreOptions, at string) error {
	f := cmd.Flags()
	not := func(why string, names ...string) error {
		for _, n := range names {
			if f.Changed(n) {
				return usageError{fmt.Errorf("--%s gilt nicht mit %s", n, why)}
			}
		}
		return nil
	}
	if a.allSites {
		return usageError{errors.New("--auftrag und --undo gelten für einen Standort (--site NAME), nicht mit --all-sites")}
	}
	if f.Changed("undo") {
		if err := not("--undo (die Rückgängig-Datei sagt, welche Zeile)", "auftrag", "at", "skip-invalid", "allow-shrink"); err != nil {
			return err
		}
		if strings.TrimSpace(o.undo) == "" {
			return usageError{errors.New("--undo: Rückgängig-Datei fehlt (z. B. --undo werkstatt.db.auftrag-076329-20261202-091500.json)")}
		}
		uo := backup.UndoOptions{File: o.undo, DryRun: opts.DryRun, Force: opts.Force}
		return a.runJob(cmd, "restore", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
			rep, err := e.UndoOrder(ctx, uo)
			a.printOrder(rep)
			return rep, err
		})
	}
	if err := not("--auftrag (eine Zeile: keine Kopie der Datenbank, eine Rückgängig-Datei)", "force", "allow-shrink"); err != nil {
		return err
	}
	nr := strings.TrimSpace(o.auftrag)
	if nr == "" {
		return usageError{errors.New("--auftrag: Auftragsnummer fehlt (z. B. --auftrag 076329)")}
	}
	oo := backup.OrderOptions{AuftragNr: nr, DryRun: opts.DryRun, SkipInvalid: opts.SkipInvalid, Generation: opts.Generation}
	if f.Changed("at") {
		if f.Changed("generation") {
			return usageError{errors.New("--at und --generation schließen sich aus")}
		}
		t, seq, err := history.ParseAt(at, nil)
		if err != nil {
			return usageError{fmt.Errorf("--at: %w", err)}
		}
		oo.At, oo.Generation = t, seq
	} else if f.Changed("generation") && opts.Generation == 0 {
		return usageError{errors.New("--generation: 0 ist keine Generation (history zeigt die Nummern)")}
	}
	return a.runJob(cmd, "restore", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
		rep, err := e.RestoreOrder(ctx, oo)
		a.printOrder(rep)
		return rep, err
	})
}

// printOrder shows the row's fields old and new side by side (not with
// --json, which has them, nor with --quiet) and, also with --quiet or
// --json, where the undo file is: that must be seen.
func (a *app) printOrder(r *backup.Report) {
	if r == nil || r.Order == nil {
		return
	}
	o := r.Order
	if o.UndoFile != "" {
		fmt.Fprintf(a.stderr, "Alte Zeile von Auftrag %s gesichert in %s (rückgängig: werkstatt-backup restore --undo %s)\n", o.AuftragNr, o.UndoFile, o.UndoFile)
	}
	if a.jsonOut || a.quiet || len(o.Fields) == 0 {
		return
	}
	if o.Note != "" {
		fmt.Fprintf(a.stdout, "Hinweis: %s\n", o.Note)
	}
	what := o.Action
	if r.DryRun {
		what = "würde " + what
	}
	fmt.Fprintf(a.stdout, "Auftrag %s (record_id %d) aus %s: %s\n", o.AuftragNr, o.RecordID, o.Source, what)
	writeFields(a.stdout, o.Fields)
}

// writeFields writes the fields as a table: a * marks a changed one.
func writeFields(w io.Writer, fields []backup.FieldChange) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  Feld\tbisher\tneu")
	for _, f := range fields {
		mark := " "
		if f.Changed {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\n", mark, f.Column, cell(f.Old), cell(f.New))
	}
	tw.Flush()
}

// cell quotes a value for the table and shortens a long one.
func cell(s string) string {
	const maxRunes = 40
	if utf8.RuneCountInString(s) > maxRunes {
		s = string([]rune(s)[:maxRunes-1]) + "…"
	}
	return strconv.Quote(s) // printable runes (Umlauts) stay as they are
}
