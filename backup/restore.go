package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"iter"
	"os"
	"strconv"

	"werkstatt-backup/codec"
	"werkstatt-backup/store"
)

// RestoreOptions are the flags of the restore command.
type RestoreOptions struct {
	Force       bool // replace a table that still has rows (a copy is kept first)
	SkipInvalid bool // restore from the valid backups even if some are invalid
	DryRun      bool // validate and report, change nothing
}

// ErrNeedForce refuses to replace a table that still has rows without --force.
var ErrNeedForce = errors.New("Tabelle enthält Datensätze")

// Restore rebuilds auftraege from the archive. Everything is validated
// first; an invalid backup aborts with the database untouched unless
// SkipInvalid. The table is then dropped, created and filled in one
// transaction, so a failure leaves the old table as it was.
func (e *Engine) Restore(ctx context.Context, opts RestoreOptions) (_ *Report, err error) {
	e.init()
	defer boundMemory()()
	r := e.newReport("restore")
	r.Database, r.DryRun = e.DBPath, opts.DryRun
	e.Log.Info("Starte Wiederherstellung der Datenbank aus dem Archiv...")
	lock, err := e.lock(ctx, "restore")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	existing, err := e.existingRows(ctx)
	if err != nil {
		return r, err
	}
	if existing > 0 && !opts.Force {
		msg := fmt.Sprintf("Tabelle %s in %s enthält %d Datensätze; Restore ersetzt sie nur mit --force (vorher wird eine Kopie angelegt)", Table, e.DBPath, existing)
		if !opts.DryRun {
			return r, fmt.Errorf("%s: %w", msg, ErrNeedForce)
		}
		r.warnf("", 0, "%s", msg)
	}

	files, err := e.scanArchive(ctx, r)
	if err != nil {
		return r, err
	}
	if r.Errors > 0 && !opts.SkipInvalid {
		return r, fmt.Errorf("Datenbank unverändert: %d Fehler im Archiv (--skip-invalid stellt nur die gültigen Sicherungen wieder her): %w", r.Errors, ErrValidation)
	}
	chosen := e.choose(r, files)
	r.OK = 0
	if opts.DryRun {
		r.OK = len(chosen)
		return r, e.done(r)
	}

	db, err := e.Open(ctx, e.DBPath, true)
	if err != nil {
		return r, err
	}
	defer db.Close()
	if existing > 0 {
		if r.BackupDB, err = e.keepCopy(ctx, db); err != nil {
			return r, err
		}
	}
	n, err := db.Replace(ctx, tableDef(e.Schema.Codecs.Current()), e.counted(len(chosen), rowsOf(chosen)))
	if err != nil {
		return r, fmt.Errorf("Restore in %s fehlgeschlagen, alle Änderungen zurückgerollt: %w", e.DBPath, err)
	}
	r.OK = n
	if err := db.IntegrityCheck(ctx); err != nil {
		return r, fmt.Errorf("Integritätsprüfung nach dem Restore: %w", err)
	}
	return r, e.done(r)
}

// done finishes the report; skipped invalid backups still count (exit 3).
func (e *Engine) done(r *Report) error {
	e.finish(r)
	if r.Errors > 0 {
		return fmt.Errorf("%d ungültige Sicherungen übersprungen: %w", r.Errors, ErrValidation)
	}
	return nil
}

// existingRows counts the rows restore would replace; a missing database
// file or table has none. The database is opened read-only.
func (e *Engine) existingRows(ctx context.Context) (int, error) {
	if _, err := os.Stat(e.DBPath); errors.Is(err, iofs.ErrNotExist) {
		return 0, nil
	}
	db, err := e.Open(ctx, e.DBPath, false)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	n, err := db.Count(ctx, Table)
	if err != nil {
		return 0, fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	return n, nil
}

// keepCopy writes werkstatt.db.bak-YYYYMMDD-HHMMSS beside the database.
func (e *Engine) keepCopy(ctx context.Context, db Database) (string, error) {
	base := e.DBPath + ".bak-" + e.Now().Format("20060102-150405")
	dest := base
	for i := 2; ; i++ {
		if _, err := os.Stat(dest); errors.Is(err, iofs.ErrNotExist) {
			break
		}
		dest = base + "-" + strconv.Itoa(i)
	}
	if err := db.BackupTo(ctx, dest); err != nil {
		return "", fmt.Errorf("Sicherungskopie %s anlegen: %w", dest, err)
	}
	e.Log.Info("Sicherungskopie der alten Datenbank: " + dest)
	return dest, nil
}

// tableDef is the table layout of a schema version.
func tableDef(c codec.Codec) store.TableDef {
	def := store.TableDef{Name: Table}
	for _, col := range c.Columns() {
		def.Columns = append(def.Columns, store.ColumnDef{
			Name: col.Name, Type: col.Type, NotNull: col.NotNull, PrimaryKey: col.PrimaryKey,
		})
	}
	return def
}

func rowsOf(chosen []candidate) iter.Seq2[[]string, error] {
	return func(yield func([]string, error) bool) {
		for _, c := range chosen {
			if !yield(c.vals(), nil) {
				return
			}
		}
	}
}
