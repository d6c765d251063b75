package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/logging"
	"werkstatt-backup/sample"
	"werkstatt-backup/store"
)

func (a *app) demoCmd() *cobra.Command {
	var orders int
	var out string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Beispieldaten anlegen und einmal Export → Verify → Restore durchspielen",
		Long: `Legt eine Beispiel-Datenbank (werkstatt.db) mit realistischen Aufträgen und ein
Archiv mit Platzhalter-PDFs an (Jahre 2019–2024), sichert sie mit export, prüft
mit verify, stellt sie mit restore in eine neue Datenbank wieder her und vergleicht
das Ergebnis mit dem Original. verify liest dabei auch jedes PDF und vergleicht es mit
dem Hash seines Datensatzes (wie verify --pdfs). Ohne --out in einem neuen temporären Ordner.`,
		Example: `  werkstatt-backup demo
  werkstatt-backup demo --orders 10000 --out ./demo`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started()
			if orders < 1 || orders > 1_000_000 {
				return usageError{fmt.Errorf("--orders muss zwischen 1 und 1000000 liegen, nicht %d", orders)}
			}
			return a.demo(cmd, orders, out)
		},
	}
	cmd.Flags().IntVar(&orders, "orders", 500, "Anzahl Beispielaufträge")
	cmd.Flags().StringVar(&out, "out", "", "Zielordner (`Pfad`): wird angelegt, wenn er fehlt; ein nicht leerer Ordner wird abgelehnt (Exit-Code 2) und bleibt unverändert. Ohne --out ein neuer temporärer Ordner")
	return cmd
}

// demo runs the whole drill in dir and prints each step with its time.
func (a *app) demo(cmd *cobra.Command, orders int, dir string) error {
	ctx := cmd.Context()
	dir, err := demoDir(dir)
	if err != nil {
		return err
	}
	// demo reads no configuration file: it works in its own folder; only
	// --log-file may put the log elsewhere.
	logPath := filepath.Join(dir, "backup_system.log")
	if f := cmd.Flags().Lookup("log-file"); f.Changed {
		logPath = f.Value.String()
	}
	logFile, err := logging.OpenFile(logPath)
	if err != nil {
		return fmt.Errorf("Logdatei: %w", err)
	}
	defer logFile.Close()
	log := a.logger(logFile, "")

	archive := filepath.Join(dir, "archiv")
	dbPath := filepath.Join(dir, "werkstatt.db")
	restored := filepath.Join(dir, "wiederhergestellt", "werkstatt.db")
	say := func(format string, args ...any) {
		if !a.quiet && !a.jsonOut {
			fmt.Fprintf(a.stdout, format+"\n", args...)
		}
	}
	say("Demo in %s", dir)

	t := time.Now()
	rows := sample.Rows(orders, 1)
	if err := writeSample(ctx, dir, dbPath, rows); err != nil {
		return err
	}
	say("  %-62s %8s", fmt.Sprintf("Beispieldaten: %d Aufträge, werkstatt.db + PDFs", orders), since(t))

	arch, _, err := openArchive(ctx, config.Config{Archiv: archive}, false)
	if err != nil {
		return err
	}
	defer arch.Close()
	e := &backup.Engine{Arch: arch, Archive: archive, DBPath: dbPath, Log: log,
		LockTimeout: 30 * time.Second, Version: version}
	var reports []*backup.Report
	step := func(f func() (*backup.Report, error)) error {
		t := time.Now()
		r, err := f()
		if r != nil {
			reports = append(reports, r)
			for _, p := range r.Problems {
				say("  %s - %s", p.Level, p)
			}
			say("  %-62s %8s", r.Summary(), since(t))
		}
		return err
	}
	if err := step(func() (*backup.Report, error) { return e.Export(ctx, backup.ExportOptions{}) }); err != nil {
		return err
	}
	if err := step(func() (*backup.Report, error) { return e.Export(ctx, backup.ExportOptions{}) }); err != nil {
		return err
	}
	say("    (zweiter Export: %d unverändert übersprungen)", reports[len(reports)-1].Unchanged)
	// verify --pdfs: also every placeholder PDF against the hash its row holds.
	if err := step(func() (*backup.Report, error) { return e.Verify(ctx, backup.VerifyOptions{PDFs: true}) }); err != nil {
		return err
	}
	if err := demoDamagedPDF(ctx, rows, dir, say, func() (*backup.Report, error) {
		return e.Verify(ctx, backup.VerifyOptions{PDFs: true})
	}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(restored), 0o755); err != nil {
		return err
	}
	e.DBPath = restored
	if err := step(func() (*backup.Report, error) { return e.Restore(ctx, backup.RestoreOptions{}) }); err != nil {
		return err
	}
	t = time.Now()
	same, err := sameRows(ctx, dbPath, restored)
	if err != nil {
		return err
	}
	say("  %-62s %8s", fmt.Sprintf("Vergleich: %d von %d Datensätzen identisch mit dem Original", same, orders), since(t))
	if a.jsonOut {
		a.emit(map[string]any{"dir": dir, "orders": orders, "identical": same, "reports": reports})
	}
	if same != orders {
		return fmt.Errorf("wiederhergestellte Datenbank weicht ab: %d von %d Datensätzen identisch", same, orders)
	}
	say("Archiv: %s\nLog:    %s", archive, logPath)
	return nil
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

// demoDir returns an empty directory for the demo: dir if it is empty or
// missing, else a new temporary one when dir is "".
func demoDir(dir string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", "werkstatt-demo-")
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return dir, os.MkdirAll(dir, 0o755)
	case err != nil:
		return "", err
	case len(entries) > 0:
		return "", usageError{fmt.Errorf("--out %s ist nicht leer; bitte einen leeren oder neuen Ordner angeben", dir)}
	}
	return dir, nil
}

// writeSample creates the sample database and the order PDFs.
func writeSample(ctx context.Context, dir, dbPath string, rows [][]string) error {
	osfs := afero.NewBasePathFs(afero.NewOsFs(), dir)
	fp := slices.Index(sample.Columns, "file_path")
	nr := slices.Index(sample.Columns, "auftrag_nr")
	for _, row := range rows {
		p := row[fp] // archiv/<year>/<nr>/<nr>_Auftrag.pdf
		if err := osfs.MkdirAll(path.Dir(p), 0o755); err != nil {
			return err
		}
		if err := afero.WriteFile(osfs, p, sample.PDF(row[nr]), 0o644); err != nil {
			return err
		}
	}
	return sample.CreateDB(ctx, dbPath, rows)
}

// sameRows counts the rows of a's auftraege that b holds identically.
func sameRows(ctx context.Context, a, b string) (int, error) {
	read := func(p string) (map[string]string, error) {
		db, err := store.OpenRead(ctx, p)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		m := map[string]string{}
		_, err = db.Scan(ctx, backup.Table, func(_, vals []string) error {
			m[vals[0]] = fmt.Sprintf("%q", vals)
			return nil
		})
		return m, err
	}
	ma, err := read(a)
	if err != nil {
		return 0, err
	}
	mb, err := read(b)
	if err != nil {
		return 0, err
	}
	n := 0
	for k, v := range ma {
		if mb[k] == v {
			n++
		}
	}
	return n, nil
}

// demoDamagedPDF changes one order's PDF as a ransomware or a slip would,
// shows that verify --pdfs names it, and puts the PDF back.
func demoDamagedPDF(ctx context.Context, rows [][]string, dir string, say func(string, ...any), verify func() (*backup.Report, error)) error {
	fp, dc := slices.Index(sample.Columns, "file_path"), slices.Index(sample.Columns, "data_complete")
	i := slices.IndexFunc(rows, func(r []string) bool { return r[dc] == "1" }) // incomplete rows only warn
	if i < 0 {
		return nil
	}
	p := filepath.Join(dir, filepath.FromSlash(rows[i][fp]))
	orig, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p, append(slices.Clip(orig), "verändert"...), 0o644); err != nil {
		return err
	}
	t := time.Now()
	r, verr := verify()
	if err := os.WriteFile(p, orig, 0o644); err != nil {
		return err
	}
	var pe *backup.PDFError
	if !errors.As(verr, &pe) {
		return fmt.Errorf("Probe: ein verändertes PDF wurde nicht erkannt (%v)", verr)
	}
	say("  Probe: %s verändert, verify --pdfs:", rows[i][fp])
	for _, pr := range r.Problems {
		say("    %s - %s", pr.Level, pr)
	}
	say("  %-62s %8s", "(erkannt; Original zurückgelegt)", since(t))
	return ctx.Err()
}
