package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"slices"

	archfs "werkstatt-backup/fs"
)

// VerifyOptions are the flags of the verify command.
type VerifyOptions struct {
	// WithDB also compares the archive with the database at Engine.DBPath:
	// records missing from the archive, stale backups, orphaned backups.
	WithDB bool
}

// Verify checks every backup in the archive (SPEC 3) and, with WithDB, the
// archive against the database. It returns an error wrapping ErrValidation
// when a backup cannot be trusted; duplicates are warnings only.
func (e *Engine) Verify(ctx context.Context, opts VerifyOptions) (_ *Report, err error) {
	e.init()
	defer boundMemory()()
	r := e.newReport("verify")
	e.Log.Info("Starte Prüfung aller Sicherungen...")
	lock, err := e.lock(ctx, "verify")
	if errors.Is(err, iofs.ErrPermission) {
		// A read-only archive (a snapshot, a read-only share) can still be
		// checked; nobody can be writing to it through this tool either.
		r.warnf(archfs.LockFileName, 0, "Archiv ist schreibgeschützt, Prüfung ohne Lock: %s", reason(err))
		lock, err = nil, nil
	}
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	files, err := e.scanArchive(ctx, r)
	if err != nil {
		return r, err
	}
	chosen := e.choose(r, files)
	if opts.WithDB {
		r.Database = e.DBPath
		if err := e.compareWithDB(ctx, r, chosen); err != nil {
			return r, err
		}
	}
	e.finish(r)
	if r.Errors > 0 {
		return r, fmt.Errorf("%d Fehler bei der Prüfung: %w", r.Errors, ErrValidation)
	}
	return r, nil
}

// compareWithDB reports rows without a backup (missing), backups whose
// content differs from their row (stale) and backups of records the database
// no longer has (orphaned), like rclone check does for files.
func (e *Engine) compareWithDB(ctx context.Context, r *Report, chosen []candidate) error {
	items, seen, err := e.readRows(ctx, r)
	if err != nil {
		return err
	}
	backups := make(map[int64]candidate, len(chosen))
	for _, c := range chosen {
		backups[c.id.RecordID] = c
	}
	for _, it := range items {
		c, ok := backups[it.id.RecordID]
		switch {
		case !ok:
			r.errorf("", it.id.RecordID, "Auftrag %s fehlt im Archiv (erwartet in %s)", it.id.AuftragNr, it.folder)
		case !slices.Equal(c.vals(), it.vals):
			r.errorf(c.file.dataPath(), it.id.RecordID, "Sicherung veraltet: weicht vom Datensatz in der Datenbank ab")
		}
	}
	for _, c := range chosen {
		if !seen[c.id.RecordID] {
			r.errorf(c.file.dataPath(), c.id.RecordID, "verwaist: Datensatz ist nicht (mehr) in der Datenbank")
		}
	}
	return nil
}
