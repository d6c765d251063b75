package backup

import (
	"context"
	"errors"
	"fmt"

	"werkstatt-backup/history"
)

// VerifyOptions are the flags of the verify command.
type VerifyOptions struct {
	// WithDB also compares the archive with the database at Engine.DBPath:
	// records missing from the archive, stale backups, orphaned backups.
	WithDB bool
	// PDFs reads every order's PDF and compares it with its hash; without
	// it the rotating share of Engine.PDFCheck is read (verify_pdfs.go).
	PDFs bool
}

// Verify checks every backup in the archive (SPEC 3) and, with WithDB, the
// archive against the database. It returns an error wrapping ErrValidation
// when a backup cannot be trusted; duplicates are warnings only.
func (e *Engine) Verify(ctx context.Context, opts VerifyOptions) (_ *Report, err error) {
	e.init()
	defer boundMemory()()
	r := e.newReport("verify")
	e.Log.Info("Starte Prüfung aller Sicherungen...")
	lock, err := e.lockForReading(ctx, r, "verify")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	// The history is checked before the archive is read and reported
	// after it, as ever: the peak is then the larger of the two, not
	// their sum (at 100,000 orders some 30 MB less).
	hc := e.checkHistoryFirst(ctx)
	files, err := e.scanArchive(ctx, r)
	if err != nil {
		return r, err
	}
	if r.Folders.Seen == 0 {
		return r, e.noBackupError()
	}
	chosen := e.choose(r, files)
	if err := e.historyChecked(ctx, r, hc); err != nil {
		return r, err
	}
	if opts.WithDB {
		r.Database = e.DBPath
		if err := e.compareWithDB(ctx, r, chosen); err != nil {
			return r, err
		}
	}
	if err := e.verifyPDFs(ctx, r, chosen, opts); err != nil {
		return r, err
	}
	e.finish(r)
	// What could not be read could not be checked: not "damaged" (3) but
	// "could not check" (1).
	if err := r.unreadableErr("Prüfung unvollständig, nicht alles konnte geprüft werden"); err != nil {
		return r, err
	}
	if err := r.PDFs.err(); err != nil {
		return r, err
	}
	if r.Errors > 0 {
		return r, fmt.Errorf("%d Fehler bei der Prüfung: %w", r.Errors, ErrValidation)
	}
	return r, nil
}

// compareWithDB reports rows without a backup (missing), backups whose
// content differs from their row (stale) and backups of records the database
// no longer has (orphaned), like rclone check does for files.
func (e *Engine) compareWithDB(ctx context.Context, r *Report, chosen []candidate) error {
	items, seen, rows, err := e.readRows(ctx, r)
	if err != nil {
		return err
	}
	defer rows.close()
	backups := make(map[int64]candidate, len(chosen))
	for _, c := range chosen {
		backups[c.rid] = c
	}
	cur := e.Schema.Codecs.Current()
	for _, it := range items {
		c, ok := backups[it.id.RecordID]
		switch {
		case !ok:
			if u := r.unreadableCovering(it.folder); u != "" {
				// Its backup may well be there: the ERROR line of u says
				// why it could not be read, and the run exits 1 for it.
				r.warnf("", it.id.RecordID, "Auftrag %s nicht mit dem Archiv verglichen: %s war nicht lesbar (erwartet in %s)", it.id.AuftragNr, u, it.folder)
				continue
			}
			r.errorf("", it.id.RecordID, "Auftrag %s fehlt im Archiv (erwartet in %s)", it.id.AuftragNr, it.folder)
		case history.Sum(cur.Encode(c.vals())) != it.sum:
			// The row is kept as the SHA-256 of its data.csv bytes; equal
			// bytes are equal values (the encoding is one-to-one).
			r.errorf(c.file.dataPath(), it.id.RecordID, "Sicherung veraltet: weicht vom Datensatz in der Datenbank ab")
		}
	}
	for _, c := range chosen {
		if !seen.has(c.rid) {
			r.errorf(c.file.dataPath(), c.rid, "verwaist: Datensatz ist nicht (mehr) in der Datenbank")
		}
	}
	return nil
}

// ErrNoBackup: the archive holds no backup at all (a wrong --archiv, an
// empty or unmounted folder). Verify and restore refuse it (exit 1).
var ErrNoBackup = errors.New("keine Sicherung im Archiv")

func (e *Engine) noBackupError() error {
	name := e.Archive
	if name == "" {
		name = "."
	}
	return fmt.Errorf("Archiv %s: kein einziger Auftragsordner mit data.csv/meta.json gefunden (falscher Pfad oder leeres Archiv?): %w", name, ErrNoBackup)
}
