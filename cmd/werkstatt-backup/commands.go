package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/history"
)

func (a *app) exportCmd() *cobra.Command {
	var opts backup.ExportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "jeden Datensatz als data.csv + meta.json in seinen Auftragsordner sichern",
		Long: `Liest alle Zeilen von auftraege in einer Lesetransaktion und schreibt für jeden
Auftrag data.csv und meta.json atomar in <archiv>/<JJJJ>/<auftrag_nr>/. Unveränderte
Sicherungen werden übersprungen (--full schreibt alle neu). Ungültige Zeilen werden
gemeldet und als Fehler gezählt, die übrigen trotzdem gesichert. Jede Sicherung, die
im Archiv gelöscht, verändert oder beschädigt war, wird repariert und als WARNING mit
Auftrag und Grund genannt. --dry-run schreibt nichts und listet, was der Export neu
schriebe, änderte, reparierte und entfernte (20 Zeilen, alle mit --verbose); seine
Logzeile heißt "Export-Probelauf beendet", nicht "Export abgeschlossen".

` + exitCodesHelp,
		Example: `  werkstatt-backup export --db ./test_archiv/werkstatt.db --archiv ./test_archiv
  werkstatt-backup export --config .archiv_config.json
  werkstatt-backup export --archiv smb://backup@nas/archiv --db /srv/werkstatt.db --dry-run`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runJob(cmd, "export", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
				return e.Export(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.Full, "full", false, "auch unveränderte Sicherungen neu schreiben")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "nichts schreiben, nur auflisten, was neu geschrieben, geändert, repariert und entfernt würde")
	cmd.Flags().BoolVar(&opts.AllowMassChange, "allow-mass-change", false, "eine Massenänderung bestätigen (mehr geänderte oder entfernte Sicherungen als mass_change erlaubt)")
	cmd.Flags().BoolVar(&opts.NewHistory, "new-history", false, "eine neue Historie beginnen, obwohl _historie.kopf verlorene Generationen nennt (die Nummerierung läuft weiter)")
	return cmd
}

func (a *app) verifyCmd() *cobra.Command {
	var withDBFlag, pdfs bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "alle Sicherungen im Archiv prüfen (mit --db auch gegen die Datenbank)",
		Long: `Findet jede data.csv im Archiv und prüft meta.json, Prüfsumme, Dateigröße,
Schema-Version, Kopfzeile, Feldregeln, doppelte record_ids und Reste abgebrochener
Läufe. Ohne --db wird keine Datenbank gelesen; mit --db PFAD (oder --with-db für die
Datenbank aus der Konfiguration, etwa mit --all-sites) werden zusätzlich fehlende,
veraltete und verwaiste Sicherungen gemeldet.

Mit --pdfs wird jedes PDF der Aufträge gelesen und mit dem Hash (SHA-256, SHA-1 oder
MD5) seiner Sicherung verglichen; ein fehlendes oder abweichendes PDF ist ein Fehler
(Exit-Code 1), bei data_complete = 0 eine Warnung. Ohne --pdfs liest verify einen
wechselnden Anteil (pdf_check: Vorgabe jedes PDF mindestens einmal in 30 Tagen).

` + exitCodesHelp,
		Example: `  werkstatt-backup verify --archiv ./test_archiv
  werkstatt-backup verify --archiv ./test_archiv --pdfs
  werkstatt-backup verify --archiv ./test_archiv --db ./test_archiv/werkstatt.db
  werkstatt-backup verify --config .archiv_config.json --json
  werkstatt-backup verify --config .archiv_config.json --all-sites --with-db`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			withDB := verifyNeedsDB(cmd.Flags())
			return a.runJob(cmd, "verify", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
				return e.Verify(ctx, backup.VerifyOptions{WithDB: withDB, PDFs: pdfs})
			})
		},
	}
	cmd.Flags().BoolVar(&withDBFlag, "with-db", false, "auch mit der konfigurierten Datenbank vergleichen (fehlend, veraltet, verwaist)")
	cmd.Flags().BoolVar(&pdfs, "pdfs", false, "jedes PDF lesen und mit dem Hash seiner Sicherung vergleichen (ohne: ein wechselnder Anteil nach pdf_check)")
	return cmd
}

func (a *app) restoreCmd() *cobra.Command {
	var opts backup.RestoreOptions
	var at string
	one := &orderFlags{}
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "die Tabelle auftraege aus den Sicherungen im Archiv wiederherstellen",
		Long: `Prüft zuerst alle Sicherungen; ist eine ungültig, bricht restore ab und die
Datenbank bleibt unverändert (außer mit --skip-invalid). Bei mehreren Sicherungen
einer record_id gewinnt das neueste updated_at. Dann wird auftraege in EINER
Transaktion gelöscht, angelegt und befüllt. Enthält die Tabelle noch Datensätze,
ist --force nötig; vorher wird eine Kopie werkstatt.db.bak-JJJJMMTT-HHMMSS angelegt.
Andere Tabellen bleiben unberührt. Was nicht gelesen werden konnte (Netzwerk, Rechte,
symbolischer Link), bricht immer ab (Exit-Code 1); ein Archiv ohne Sicherung auch.
Hätte die Tabelle danach weniger Datensätze als vorher, ist --allow-shrink nötig.

Mit --at ZEIT kommt die Tabelle nicht aus den Auftragsordnern, sondern aus der
Historie (<archiv>/_historie/): genau so, wie sie beim letzten Export am oder vor ZEIT
war (2026-11-01 = vor den Läufen dieses Tages, 2026-11-01 02:00, RFC 3339; Ortszeit,
wenn kein Offset angegeben ist). Die Zeit, die history für eine Generation zeigt
(auf die Millisekunde), wählt genau diese Generation; --generation N oder --at #N wählt
sie nach ihrer Nummer. Laufen die Zeiten des Archivs rückwärts (Uhr verstellt), rät
--at ZEIT nicht, sondern nennt die in Frage kommenden Generationen (Exit-Code 2).
Restore nennt die verwendete Generation (Nummer, Zeit, Datensätze) in der Abschlusszeile.
Das geht auch, wenn die data.csv-Dateien beschädigt sind. Alle übrigen Regeln (--force, --allow-shrink, --dry-run) gelten ebenso.

` + orderRestoreHelp + `

Mit --pdfs ZIEL wird nicht die Tabelle, sondern der PDF-Baum <JJJJ>/<auftrag_nr>/<Datei>
in den Ordner oder die URL ZIEL geschrieben (mit --auftrag NR nur ein Auftrag, mit --at
die PDFs, die die Aufträge damals hatten, soweit das Archiv ihren Inhalt kopiert hat).
Jedes PDF wird vor dem Schreiben gegen seinen Hash geprüft und atomar an seinen Platz
gebracht; in den PDF-Baum selbst (pdfs bzw. archiv) nur mit --force. Keine Datenbank nötig.

` + exitCodesHelp,
		Example: `  werkstatt-backup restore --db ./neu/werkstatt.db --archiv ./test_archiv
  werkstatt-backup restore --archiv smb://backup@nas/archiv --db /srv/werkstatt.db --force
  werkstatt-backup restore --config .archiv_config.json --at "2026-11-01 02:00" --force --dry-run
  werkstatt-backup restore --config .archiv_config.json --auftrag 076329 --dry-run
  werkstatt-backup restore --config .archiv_config.json --auftrag 076329 --at "2026-11-01 02:00"
  werkstatt-backup restore --config .archiv_config.json --undo /srv/werkstatt.db.auftrag-076329-20261202-091500.json
  werkstatt-backup restore --config .archiv_config.json --pdfs /srv/pdfs-zurueck [--auftrag 076329]`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("pdfs") {
				return a.restorePDFs(cmd)
			}
			if one.set(cmd) {
				return a.restoreOne(cmd, one, opts, at)
			}
			if cmd.Flags().Changed("at") || cmd.Flags().Changed("generation") {
				if opts.SkipInvalid {
					return usageError{fmt.Errorf("--skip-invalid gilt nicht mit --at: eine Generation der Historie wird ganz oder gar nicht wiederhergestellt")}
				}
			}
			if cmd.Flags().Changed("at") {
				if cmd.Flags().Changed("generation") {
					return usageError{fmt.Errorf("--at und --generation schließen sich aus")}
				}
				t, seq, err := history.ParseAt(at, nil)
				if err != nil {
					return usageError{fmt.Errorf("--at: %w", err)}
				}
				opts.At, opts.Generation = t, seq
			} else if cmd.Flags().Changed("generation") && opts.Generation == 0 {
				return usageError{fmt.Errorf("--generation: 0 ist keine Generation (history zeigt die Nummern)")}
			}
			return a.runJob(cmd, "restore", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
				rep, err := e.Restore(ctx, opts)
				if rep != nil && rep.BackupDB != "" {
					// Where the old database went must be seen, also
					// with --quiet or --json (which own stdout).
					fmt.Fprintf(a.stderr, "Alte Datenbank gesichert als %s\n", rep.BackupDB)
				}
				return rep, err
			})
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "eine Tabelle mit Datensätzen ersetzen (nach einer Sicherungskopie); mit --undo: auch eine seitdem geänderte Zeile zurücksetzen")
	cmd.Flags().BoolVar(&opts.SkipInvalid, "skip-invalid", false, "ungültige Sicherungen überspringen statt abzubrechen (nie unlesbare)")
	cmd.Flags().BoolVar(&opts.AllowShrink, "allow-shrink", false, "mit --force auch eine Tabelle mit weniger Datensätzen als bisher erzeugen")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "nur prüfen und berichten, nichts ändern")
	cmd.Flags().StringVar(&at, "at", "", "aus der Historie: die Tabelle wie beim letzten Export am oder vor `ZEIT` (2026-11-01, \"2026-11-01 02:00\", die Zeit, die history zeigt, RFC 3339) oder #N für Generation N")
	cmd.Flags().Uint64Var(&opts.Generation, "generation", 0, "aus der Historie: die Tabelle wie in Generation `N` (die Nummer, die history zeigt)")
	one.register(cmd)
	addRestorePDFFlags(cmd)
	return cmd
}

func (a *app) migrateCmd() *cobra.Command {
	var opts backup.MigrateOptions
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "ältere Sicherungen auf die aktuelle Schema-Version umschreiben",
		Long: `Schreibt jede Sicherung einer älteren Schema-Version atomar in die aktuelle
Version um (Schritt für Schritt, z. B. 1.0 → 2.0 → 3.0). Mehrfach ausführbar.

` + exitCodesHelp,
		Example: `  werkstatt-backup migrate --archiv ./test_archiv --dry-run`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runJob(cmd, "migrate", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
				return e.Migrate(ctx, opts)
			})
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "nur anzeigen, was umgeschrieben würde")
	return cmd
}
