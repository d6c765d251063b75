package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/history"
	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
)

// usePDFs sets the engine's PDF settings from cfg: the share verify reads
// (pdf_check) and, when pdfs names a place other than the archive, that
// tree, opened read-only through the backend registry. done closes it.
func usePDFs(ctx context.Context, cfg config.Config, e *backup.Engine) (done func(), err error) {
	done = func() {}
	pol, err := pdf.ParsePolicy(cfg.PDFCheck)
	if err != nil {
		return done, cfg.KeyError("pdf_check", err.Error())
	}
	e.PDFCheck = pol
	e.PDFRoot = localRoot(cfg.Archiv)
	e.PDFPlace, e.SamePlace = cfg.Archiv, samePlace
	if cfg.PDFs != "" {
		e.PDFPlace = cfg.PDFs
	}
	e.OpenPlace = func(ctx context.Context, loc string) (*storage.Archive, error) {
		arch, _, err := openArchive(ctx, config.Config{Archiv: loc, Backend: cfg.Backend}, true)
		return arch, err
	}
	if cfg.PDFs == "" || samePlace(cfg.PDFs, cfg.Archiv) {
		return done, nil
	}
	tree, _, err := openArchive(ctx, config.Config{Archiv: cfg.PDFs, Backend: cfg.Backend}, false)
	if err != nil {
		return done, cfg.KeyError("pdfs", message(err))
	}
	e.PDFs, e.PDFRoot = tree, localRoot(cfg.PDFs)
	return func() { tree.Close() }, nil
}

// localRoot is a local folder's absolute path as an application may have
// written it into file_path; "" for a URL.
func localRoot(loc string) string {
	if strings.Contains(loc, "://") {
		if rest, ok := strings.CutPrefix(loc, "file://"); ok {
			return rest
		}
		return ""
	}
	abs, err := filepath.Abs(loc)
	if err != nil {
		return ""
	}
	return abs
}

// samePlace reports whether two locations name the same place (a local
// folder by its absolute path, a URL as written).
func samePlace(a, b string) bool {
	if la, lb := localRoot(a), localRoot(b); la != "" || lb != "" {
		return la == lb
	}
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}

// addRestorePDFFlags adds restore's --pdfs ZIEL, and --auftrag unless the
// command has it already (restore --auftrag of a single order).
func addRestorePDFFlags(cmd *cobra.Command) {
	cmd.Flags().String("pdfs", "", "statt der Tabelle die PDFs der Aufträge als Baum <JJJJ>/<auftrag_nr>/<Datei> in `ZIEL` (Ordner oder URL) wiederherstellen, jedes gegen seinen Hash geprüft")
	if cmd.Flags().Lookup("auftrag") == nil {
		cmd.Flags().String("auftrag", "", "nur den Auftrag `NR`")
	}
}

// restorePDFs runs restore --pdfs ZIEL [--at ZEIT] [--auftrag NR] [--force].
func (a *app) restorePDFs(cmd *cobra.Command) error {
	flags := cmd.Flags()
	target, _ := flags.GetString("pdfs")
	if strings.TrimSpace(target) == "" {
		return usageError{fmt.Errorf("--pdfs braucht ein ZIEL (Ordner oder URL)")}
	}
	opts := backup.PDFRestoreOptions{TargetName: storage.Redact(target)}
	if f := flags.Lookup("auftrag"); f != nil {
		opts.Auftrag = strings.TrimSpace(f.Value.String())
	}
	if f := flags.Lookup("at"); f != nil && f.Changed {
		t, seq, err := history.ParseAt(f.Value.String(), nil)
		if err != nil {
			return usageError{fmt.Errorf("--at: %w", err)}
		}
		opts.At, opts.Generation = t, seq
	}
	if f := flags.Lookup("generation"); f != nil && f.Changed {
		n, err := flags.GetUint64("generation")
		if err != nil || n == 0 {
			return usageError{errors.New("--generation: 0 ist keine Generation (history zeigt die Nummern)")}
		}
		if opts.At.IsZero() && opts.Generation == 0 {
			opts.Generation = n
		} else {
			return usageError{errors.New("--at und --generation schließen sich aus")}
		}
	}
	force := false
	if f := flags.Lookup("force"); f != nil {
		force = f.Value.String() == "true"
	}
	return a.runJob(cmd, "restore", func(ctx context.Context, e *backup.Engine) (*backup.Report, error) {
		if e.SamePlace != nil && e.SamePlace(target, e.PDFPlace) && !force {
			return nil, usageError{fmt.Errorf("--pdfs %s ist der PDF-Baum selbst (pdfs bzw. archiv der Konfiguration): dorthin nur mit --force, lieber in einen neuen Ordner wiederherstellen und prüfen", opts.TargetName)}
		}
		arch, err := e.OpenPlace(ctx, target)
		if err != nil {
			return nil, err
		}
		defer arch.Close()
		opts.Target = arch
		return e.RestorePDFs(ctx, opts)
	})
}
