package main

import (
	"context"
	"path/filepath"
	"strings"

	"werkstatt-backup/backup"
	"werkstatt-backup/config"
	"werkstatt-backup/pdf"
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
