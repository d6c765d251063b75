package backup

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"werkstatt-backup/codec"
	"werkstatt-backup/store"
)

// RestoreOptions are the flags of the restore command.
type RestoreOptions struct {
	Force       bool // replace a table that still has rows (a copy is kept first)
	SkipInvalid bool // restore from the valid backups even if some are invalid
	AllowShrink bool // with Force: accept a table with fewer rows than before
	DryRun      bool // validate and report, change nothing
	// At, if set, restores the table as the history's last generation at
	// or before it held it, instead of from the order folders.
	At time.Time
	// Generation, if set, restores the table as history generation
	// Generation held it (restore --generation N, --at #N).
	Generation uint64
}

// ErrNeedForce refuses to replace a table that still has rows without --force.
var ErrNeedForce = errors.New("Tabelle enthält Datensätze")

// ErrShrink refuses a restore that would leave fewer rows than the table
// has now, unless --allow-shrink.
var ErrShrink = errors.New("Restore würde Datensätze verlieren")

// Restore rebuilds auftraege from the archive. Everything is read and
// validated first. Anything that could not be read aborts whatever the
// flags (UnreadableError), an invalid backup unless SkipInvalid, an archive
// without any backup always, and a table that would shrink unless
// AllowShrink: each with the database untouched. The table is then
// dropped, created and filled in one transaction, so a failure leaves the
// old table as it was.
func (e *Engine) Restore(ctx context.Context, opts RestoreOptions) (_ *Report, err error) {
	e.init()
	defer boundMemory()()
	r := e.newReport("restore")
	r.Database, r.DryRun = e.DBPath, opts.DryRun
	e.Log.Info("Starte Wiederherstellung der Datenbank aus dem Archiv...")
	replaced := false
	defer func() {
		// Runs after the lock's release: a failure after the table was
		// replaced (the server died, the lock was lost) must not read as
		// if the database were unchanged.
		if err != nil && replaced {
			err = fmt.Errorf("%s; danach fehlgeschlagen: %w", replacedLine(r, e.DBPath), err)
		}
	}()
	lock, err := e.lockForReading(ctx, r, "restore")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	existing, extra, err := e.existingTable(ctx)
	if err != nil {
		return r, err
	}
	// refuse stops a real run; a dry run reports what would stop it.
	refuse := func(why error, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if !opts.DryRun {
			return fmt.Errorf("%s: %w", msg, why)
		}
		r.warnf("", 0, "%s", msg)
		return nil
	}
	if existing > 0 && !opts.Force {
		if err := refuse(ErrNeedForce, "Tabelle %s in %s enthält %d Datensätze; Restore ersetzt sie nur mit --force (vorher wird eine Kopie angelegt)", Table, e.DBPath, existing); err != nil {
			return r, err
		}
	}
	if len(extra) > 0 && !opts.Force {
		if err := refuse(ErrNeedForce, "Tabelle %s in %s hat Spalten, die nicht im Backup-Schema stehen: %s; ihr Inhalt ginge verloren, Restore nur mit --force", Table, e.DBPath, strings.Join(extra, ", ")); err != nil {
			return r, err
		}
	}

	var chosen []candidate
	if opts.At.IsZero() && opts.Generation == 0 {
		chosen, err = e.folderSource(ctx, r, opts)
	} else {
		chosen, err = e.historySource(ctx, r, opts)
	}
	if err != nil {
		return r, err
	}
	if existing > len(chosen) && !opts.AllowShrink {
		if err := refuse(ErrShrink, "Tabelle %s in %s hat %d Datensätze, das Archiv nur %d; %d gingen verloren (--allow-shrink erlaubt das)",
			Table, e.DBPath, existing, len(chosen), existing-len(chosen)); err != nil {
			return r, fmt.Errorf("Datenbank unverändert: %w", err)
		}
	}
	r.OK = 0
	if opts.DryRun {
		e.leftoverCopies(r, true)
		for _, c := range extra {
			r.warnf("", 0, "Spalte %s der Tabelle %s steht nicht im Backup-Schema: ihr Inhalt ginge beim Restore verloren", c, Table)
		}
		r.OK = len(chosen)
		return r, e.done(r)
	}

	e.leftoverCopies(r, false)
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
	for _, c := range extra {
		if r.BackupDB != "" {
			r.warnf("", 0, "Spalte %s der Tabelle %s steht nicht im Backup-Schema: ihr Inhalt ist nach dem Restore nur noch in %s", c, Table, r.BackupDB)
		} else {
			r.warnf("", 0, "Spalte %s der Tabelle %s steht nicht im Backup-Schema und fällt weg (die Tabelle war leer)", c, Table)
		}
	}
	n, err := db.Replace(ctx, tableDef(e.Schema.Codecs.Current()), e.counted(len(chosen), rowsOf(chosen)))
	if err != nil {
		return r, fmt.Errorf("Restore in %s fehlgeschlagen, alle Änderungen zurückgerollt: %w", e.DBPath, err)
	}
	r.OK, replaced = n, true
	if err := db.IntegrityCheck(ctx); err != nil {
		return r, fmt.Errorf("Integritätsprüfung nach dem Restore: %w", err)
	}
	return r, e.done(r)
}

// replacedLine says that the table was replaced, and from what.
func replacedLine(r *Report, dbPath string) string {
	if r.Generation != 0 {
		return fmt.Sprintf("Tabelle %s in %s ersetzt: %d Datensätze aus Generation %d vom %s", Table, dbPath, r.OK, r.Generation,
			r.GenerationTime.Local().Format("2006-01-02 15:04:05.000"))
	}
	return fmt.Sprintf("Tabelle %s in %s ersetzt: %d Datensätze aus dem Archiv", Table, dbPath, r.OK)
}

// folderSource reads and validates every backup in the order folders and
// picks one copy of each record: plain restore's rows.
func (e *Engine) folderSource(ctx context.Context, r *Report, opts RestoreOptions) ([]candidate, error) {
	files, err := e.scanArchive(ctx, r)
	if err != nil {
		return nil, err
	}
	if err := r.unreadableErr("Datenbank unverändert"); err != nil {
		return nil, err
	}
	if r.Folders.Seen == 0 {
		return nil, fmt.Errorf("Datenbank unverändert: %w", e.noBackupError())
	}
	if r.Errors > 0 && !opts.SkipInvalid {
		return nil, fmt.Errorf("Datenbank unverändert: %d Fehler im Archiv (--skip-invalid stellt nur die gültigen Sicherungen wieder her): %w", r.Errors, ErrValidation)
	}
	chosen := e.choose(r, files)
	if len(chosen) == 0 {
		return nil, fmt.Errorf("Datenbank unverändert: keine einzige gültige Sicherung im Archiv (%d ungültig): %w", r.Folders.Invalid, ErrNoBackup)
	}
	return chosen, nil
}

// done finishes the report; skipped invalid backups still count (exit 3).
func (e *Engine) done(r *Report) error {
	e.finish(r)
	if r.Errors > 0 {
		return fmt.Errorf("%d ungültige Sicherungen übersprungen: %w", r.Errors, ErrValidation)
	}
	return nil
}

// existingTable counts the rows restore would replace and names the
// table's columns that the backup schema does not have (a newer web app's):
// their content would be gone after the restore. A missing database file
// or table has neither. The database is opened read-only.
func (e *Engine) existingTable(ctx context.Context) (int, []string, error) {
	if _, err := os.Stat(e.DBPath); errors.Is(err, iofs.ErrNotExist) {
		return 0, nil, nil
	}
	db, err := e.Open(ctx, e.DBPath, false)
	if err != nil {
		return 0, nil, err
	}
	defer db.Close()
	n, err := db.Count(ctx, Table)
	if err != nil {
		return 0, nil, fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	cols, err := db.Columns(ctx, Table)
	if errors.Is(err, store.ErrNoTable) {
		return n, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	var extra []string
	known := codec.Names(e.Schema.Codecs.Current())
	for _, c := range cols {
		if !slices.Contains(known, c) {
			extra = append(extra, c)
		}
	}
	return n, extra, nil
}

// leftoverCopies removes what a restore of the same database killed while
// copying it left behind (werkstatt.db.bak-….tmp and its journal), naming
// each file; a dry run only names them. A finished copy is never touched.
func (e *Engine) leftoverCopies(r *Report, dryRun bool) {
	files, err := store.LeftoverCopies(e.DBPath)
	if err != nil {
		r.warnf("", 0, "Reste abgebrochener Restores nicht gesucht: %s", reason(err))
		return
	}
	for _, f := range files {
		if dryRun {
			r.warnf("", 0, "Rest eines abgebrochenen Restores: %s (der nächste Restore entfernt ihn)", f)
			continue
		}
		if err := os.Remove(f); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			r.warnf("", 0, "Rest eines abgebrochenen Restores %s nicht entfernt: %s", f, reason(err))
			continue
		}
		r.warnf("", 0, "Rest eines abgebrochenen Restores entfernt: %s", f)
	}
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
