package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"werkstatt-backup/store"
)

// A single-order restore (restore --auftrag NR) puts one order's row back
// into the live database: from its backup in the order folders (the copy
// a whole restore would take) or from a generation of the history (--at).
// It writes that one row in one transaction (UPDATE, or INSERT when the
// row is gone); no other row and no other table is written, so it needs
// no --force and keeps no copy of the whole database. Instead, the row as
// it was is written to the log, to --json and, before anything is
// committed, into a small undo file beside the database:
//
//	werkstatt.db.auftrag-076329-20261207-221500.json
//
// restore --undo FILE puts that row back (or deletes a row the restore
// inserted), only while the row is still as the restore left it (else
// --force), and keeps an undo file of its own, so it can be undone too.

// OrderOptions are the flags of restore --auftrag.
type OrderOptions struct {
	AuftragNr string
	// At, if set: the order as the history's last generation at or
	// before it held it, instead of its backup in the order folders.
	At time.Time
	// Generation, if not 0: the order as generation Generation held it
	// (restore --generation N, --at #N).
	Generation  uint64
	DryRun      bool // show old and new fields side by side, change nothing
	SkipInvalid bool // take a valid copy even if another copy is invalid
}

// fromFolders reports whether the order comes from its backup in the
// order folders (no --at, no --generation).
func (o OrderOptions) fromFolders() bool { return o.At.IsZero() && o.Generation == 0 }

// UndoOptions are the flags of restore --undo.
type UndoOptions struct {
	File   string // the undo file a single-order restore wrote
	DryRun bool
	Force  bool // undo even if the row has changed since
}

// Errors of a single-order restore (each wrapped with the details).
var (
	// ErrOrderNotFound: the archive (or the generation) holds no backup
	// of the order (exit 1).
	ErrOrderNotFound = errors.New("Auftrag nicht im Archiv")
	// ErrOrderConflict: the database holds the order under another
	// record_id, or the record_id under another order (exit 1).
	ErrOrderConflict = errors.New("Datensatz passt nicht zur Datenbank")
	// ErrRowChanged: the row has changed since the restore an undo file
	// describes (exit 1; --force undoes all the same).
	ErrRowChanged = errors.New("Zeile seit dem Einzel-Restore geändert")
	// ErrUndoFile: the undo file cannot be read or belongs elsewhere (exit 1).
	ErrUndoFile = errors.New("Rückgängig-Datei unbrauchbar")
)

// Actions of a single-order restore, as OrderRestore.Action names them.
const (
	OrderReplaced  = "ersetzt"
	OrderInserted  = "eingefügt"
	OrderDeleted   = "gelöscht"
	OrderUnchanged = "unverändert"
)

// OrderRestore is what restore --auftrag or --undo did (a dry run: would
// do) with one row; --json prints it as the report's "order".
type OrderRestore struct {
	AuftragNr string `json:"auftrag_nr"`
	// Requested is the number as given, when it matched only with
	// leading zeros (076329 for 76329).
	Requested string        `json:"requested,omitempty"`
	RecordID  int64         `json:"record_id"`
	Source    string        `json:"source"` // the backup file, generation or undo file
	Action    string        `json:"action"` // ersetzt, eingefügt, gelöscht, unverändert
	Fields    []FieldChange `json:"fields"` // old and new, side by side
	Old       *store.Row    `json:"old"`    // the row before, exactly as stored (null: none)
	UndoFile  string        `json:"undo_file,omitempty"`
	Note      string        `json:"note,omitempty"`
}

// FieldChange is one column before and after, as a backup writes values.
type FieldChange struct {
	Column  string `json:"column"`
	Old     string `json:"old"`
	New     string `json:"new"`
	Changed bool   `json:"changed"`
}

// rowDB is what a single-order restore needs of the database beyond
// Database; *store.DB has it.
type rowDB interface {
	ReplaceRow(ctx context.Context, c store.RowChange) (old, after *store.Row, err error)
	ReadRow(ctx context.Context, table, key string, id int64) (*store.Row, error)
	KeysWhere(ctx context.Context, table, key, column, value string) ([]int64, error)
}

// keyColumn is the primary key of auftraege; nrColumn its order number.
const (
	keyColumn = "record_id"
	nrColumn  = "auftrag_nr"
)

// RestoreOrder puts one order's row back into the live database (see
// above). Unknown order, conflicts with the database and invalid backups
// leave the database unchanged.
func (e *Engine) RestoreOrder(ctx context.Context, opts OrderOptions) (_ *Report, err error) {
	e.init()
	r := e.newReport("restore")
	r.Database, r.DryRun = e.DBPath, opts.DryRun
	nr := strings.TrimSpace(opts.AuftragNr)
	e.Log.Info(fmt.Sprintf("Starte Einzel-Restore von Auftrag %s...", nr))
	lock, err := e.lockForReading(ctx, r, "restore")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	c, source, err := e.orderSource(ctx, r, nr, opts)
	if err != nil {
		return r, err
	}
	def := tableDef(e.Schema.Codecs.Current())
	vals := c.vals()
	want := &store.Row{}
	for i, col := range def.Columns {
		v, err := store.ValueFor(col, vals[i])
		if err != nil {
			return r, fmt.Errorf("Datenbank unverändert: %s: %w", source, err)
		}
		want.Columns = append(want.Columns, col.Name)
		want.Values = append(want.Values, v)
	}
	if c.id().AuftragNr != nr {
		r.Order.Requested = nr
	}
	r.Order.AuftragNr, r.Order.RecordID, r.Order.Source = c.id().AuftragNr, c.rid, source
	check := func(old *store.Row, lookup func(column, value string) ([]int64, error)) error {
		if old != nil {
			if v, _ := old.Get(nrColumn); v.String() != c.id().AuftragNr {
				return fmt.Errorf("Datenbank unverändert: record_id %d ist in der Datenbank Auftrag %s, die Sicherung (%s) ist Auftrag %s; nichts überschrieben: %w",
					c.rid, v.String(), source, c.id().AuftragNr, ErrOrderConflict)
			}
		}
		keys, err := lookup(nrColumn, c.id().AuftragNr)
		if err != nil {
			return err
		}
		if others := slices.DeleteFunc(keys, func(k int64) bool { return k == c.rid }); len(others) > 0 {
			return fmt.Errorf("Datenbank unverändert: Auftrag %s steht in der Datenbank unter record_id %s, die Sicherung (%s) hat record_id %d; ein Einfügen ergäbe den Auftrag doppelt: %w",
				c.id().AuftragNr, joinIDs(others), source, c.rid, ErrOrderConflict)
		}
		return nil
	}
	err = e.applyRow(ctx, r, rowPlan{id: c.rid, nr: c.id().AuftragNr, source: source, want: want, check: check}, opts.DryRun)
	return r, err
}

// orderSource finds the backup of order nr that a restore takes: the
// newest copy (as restore chooses among copies of a record) in the order
// folders, or the order's entry in the generation of opts.At. Problems of
// other orders' backups do not concern it and are not reported; anything
// that could not be read does (it might hide a newer copy) and aborts.
// It sets r.Order with the note of a zero-padded match.
func (e *Engine) orderSource(ctx context.Context, r *Report, nr string, opts OrderOptions) (candidate, string, error) {
	scratch := newReport("restore", slog.New(slog.DiscardHandler), e.Now())
	r.Order = &OrderRestore{AuftragNr: nr, Fields: []FieldChange{}}
	var (
		all   []candidate
		files []*backupFile
		where string
	)
	if opts.fromFolders() {
		var err error
		files, err = e.scanArchive(ctx, scratch)
		if err != nil {
			return candidate{}, "", err
		}
		if err := scratch.unreadableErr("Datenbank unverändert"); err != nil {
			for _, p := range scratch.Problems {
				if slices.Contains(scratch.unreadable, p.Path) {
					r.add(p)
				}
			}
			return candidate{}, "", err
		}
		for _, f := range files {
			if !f.valid {
				continue
			}
			for i := range f.rows {
				all = append(all, newCandidate(e.Schema.Codecs.Current(), f, i))
			}
		}
		where = "im Archiv " + e.Archive
	} else {
		var err error
		all, err = e.historySource(ctx, scratch, RestoreOptions{At: opts.At, Generation: opts.Generation})
		r.Generation = scratch.Generation
		if err != nil {
			for _, p := range scratch.Problems {
				r.add(p)
			}
			return candidate{}, "", err
		}
		where = fmt.Sprintf("in Generation %d der Historie", r.Generation)
	}
	match := matchOrder(all, nr, func(c candidate) string { return c.id().AuftragNr })
	if len(match) == 0 {
		match = matchOrder(all, nr, func(c candidate) string { return padded(c.id().AuftragNr, nr) })
		forms := map[string]bool{}
		for _, c := range match {
			forms[c.id().AuftragNr] = true
		}
		if len(forms) > 1 {
			return candidate{}, "", fmt.Errorf("Datenbank unverändert: Auftragsnummer %s ist mehrdeutig, gesichert sind %s; bitte genau so angeben, wie die Tabelle sie speichert: %w",
				nr, strings.Join(sortedKeys(forms), ", "), ErrOrderNotFound)
		}
		if len(match) > 0 {
			r.Order.Note = fmt.Sprintf("Auftragsnummer %s so nicht gesichert; genommen: %s (mit führenden Nullen, wie die Tabelle sie speichert)", nr, match[0].id().AuftragNr)
			e.Log.Info(r.Order.Note)
		}
	}
	// Invalid backups of the order: its own folder, or a meta.json that
	// names it.
	var bad []*backupFile
	for _, f := range files {
		if f.valid || f.unread {
			continue
		}
		if path.Base(f.dir) == nr || f.meta.AuftragNr == nr || (len(match) > 0 && (path.Base(f.dir) == match[0].id().AuftragNr || f.meta.AuftragNr == match[0].id().AuftragNr)) {
			bad = append(bad, f)
		}
	}
	for _, p := range scratch.Problems {
		for _, f := range bad {
			if p.Path == f.dir || strings.HasPrefix(p.Path, f.dir+"/") {
				r.add(p)
				break
			}
		}
	}
	switch {
	case len(match) == 0 && len(bad) > 0:
		return candidate{}, "", fmt.Errorf("Datenbank unverändert: die Sicherung von Auftrag %s ist ungültig (%s), keine gültige Kopie %s: %w", nr, bad[0].dataPath(), where, ErrValidation)
	case len(match) == 0:
		hint := ""
		if opts.fromFolders() {
			hint = "; ältere Fassungen zeigt history --auftrag " + nr
		}
		return candidate{}, "", fmt.Errorf("Datenbank unverändert: keine Sicherung von Auftrag %s %s%s: %w", nr, where, hint, ErrOrderNotFound)
	case len(bad) > 0 && !opts.SkipInvalid:
		return candidate{}, "", fmt.Errorf("Datenbank unverändert: eine Sicherung von Auftrag %s ist ungültig (%s); --skip-invalid nimmt die gültige Kopie: %w", nr, bad[0].dataPath(), ErrValidation)
	}
	slices.SortFunc(match, func(a, b candidate) int { c, _ := preference(a, b); return c })
	c := match[0]
	if len(match) > 1 {
		_, why := preference(match[0], match[1])
		paths := make([]string, len(match))
		for i, m := range match {
			paths[i] = fmt.Sprintf("%s (record_id %d)", m.file.dataPath(), m.rid)
		}
		r.warnf("", c.rid, "Auftrag %s mehrfach gesichert: %s; genommen: %s (%s)", c.id().AuftragNr, strings.Join(paths, ", "), c.file.dataPath(), why)
	}
	for _, p := range scratch.Problems {
		if p.RecordID == c.rid && p.Level == LevelWarning && !strings.Contains(p.Message, "mehrfach gesichert") {
			r.add(p)
		}
	}
	source := c.file.dataPath()
	if !opts.fromFolders() {
		source = fmt.Sprintf("%s, Generation %d", path.Join(HistoryDir, c.file.dir, DataFile), r.Generation)
	}
	r.Records = 1
	return c, source, nil
}

// matchOrder returns the candidates whose key(c) is nr.
func matchOrder(all []candidate, nr string, key func(candidate) string) []candidate {
	var out []candidate
	for _, c := range all {
		if key(c) == nr {
			out = append(out, c)
		}
	}
	return out
}

var digits = regexp.MustCompile(`^[0-9]+$`)

// padded returns nr when stored is nr with leading zeros (076329 for
// 76329) or nr with leading zeros is stored, else "".
func padded(stored, nr string) string {
	if digits.MatchString(stored) && digits.MatchString(nr) && strings.TrimLeft(stored, "0") == strings.TrimLeft(nr, "0") {
		return nr
	}
	return ""
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// rowPlan is one row to write: want (nil: delete) under key id.
type rowPlan struct {
	id     int64
	nr     string
	source string
	want   *store.Row
	check  func(old *store.Row, lookup func(column, value string) ([]int64, error)) error
}

// errUnchanged stops the transaction of a row that is already as wanted.
var errUnchanged = errors.New("unverändert")

// applyRow writes p in one transaction, keeps the old row in an undo file
// (written before the commit) and fills r.Order. A dry run reads the row
// and runs the checks without writing anything.
func (e *Engine) applyRow(ctx context.Context, r *Report, p rowPlan, dryRun bool) error {
	if _, err := os.Stat(e.DBPath); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("Datenbank %s nicht gefunden; einen einzelnen Auftrag stellt restore nur in eine vorhandene Datenbank zurück (die ganze Tabelle: restore ohne --auftrag): %w", e.DBPath, ErrOrderConflict)
		}
		return fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	db, err := e.Open(ctx, e.DBPath, !dryRun)
	if err != nil {
		return err
	}
	defer db.Close()
	rdb, ok := db.(rowDB)
	if !ok {
		return fmt.Errorf("Datenbank %s: kann keine einzelne Zeile ersetzen", e.DBPath)
	}
	cols, err := db.Columns(ctx, Table)
	if errors.Is(err, store.ErrNoTable) {
		return fmt.Errorf("Datenbank %s hat keine Tabelle %s; einen einzelnen Auftrag stellt restore nur in eine vorhandene Tabelle zurück (die ganze Tabelle: restore ohne --auftrag): %w", e.DBPath, Table, ErrOrderConflict)
	}
	if err != nil {
		return fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	if p.want != nil {
		for _, c := range p.want.Columns {
			if !slices.Contains(cols, c) {
				return fmt.Errorf("Datenbank unverändert: Tabelle %s in %s hat keine Spalte %s: %w", Table, e.DBPath, c, ErrOrderConflict)
			}
		}
	}
	var undo string
	checked := func(old *store.Row, lookup func(column, value string) ([]int64, error)) error {
		if p.check != nil {
			if err := p.check(old, lookup); err != nil {
				return err
			}
		}
		r.Order.Old = old
		r.Order.Fields, r.Order.Action = fieldChanges(old, p.want)
		if r.Order.Action == OrderUnchanged || dryRun {
			return errUnchanged
		}
		var err error
		undo, err = e.writeUndo(old, p)
		return err
	}
	var after *store.Row
	if dryRun {
		old, err := rdb.ReadRow(ctx, Table, keyColumn, p.id)
		if err != nil {
			return err
		}
		lookup := func(column, value string) ([]int64, error) {
			return rdb.KeysWhere(ctx, Table, keyColumn, column, value)
		}
		err = checked(old, lookup)
		if err != nil && !errors.Is(err, errUnchanged) {
			return err
		}
	} else {
		_, after, err = rdb.ReplaceRow(ctx, store.RowChange{Table: Table, Key: keyColumn, ID: p.id, New: p.want, Check: checked})
		switch {
		case errors.Is(err, errUnchanged):
		case err != nil && undo != "":
			os.Remove(undo) // the change was rolled back: nothing to undo
			return fmt.Errorf("Datenbank unverändert (zurückgerollt): %w", err)
		case err != nil:
			return err
		}
	}
	e.Log.Info(fmt.Sprintf("Einzel-Restore Auftrag %s (record_id %d) aus %s: alte Zeile: %s", p.nr, p.id, p.source, rowText(r.Order.Old)))
	if r.Order.Action == OrderUnchanged {
		e.Log.Info(fmt.Sprintf("Auftrag %s (record_id %d) steht in der Datenbank schon so wie in %s; nichts geändert", p.nr, p.id, p.source))
		r.OK = 0
		e.finish(r)
		return nil
	}
	if dryRun {
		e.finish(r)
		return nil
	}
	r.OK = 1
	r.Order.UndoFile = undo
	if changed := triggerChanges(p.want, after); len(changed) > 0 {
		r.warnf("", p.id, "Auftrag %s: die Datenbank hat beim Schreiben %s selbst geändert (Trigger); die Zeile steht jetzt so in der Datenbank", p.nr, strings.Join(changed, ", "))
		if err := e.rewriteUndo(undo, after); err != nil {
			r.warnf(undo, p.id, "Rückgängig-Datei nicht nachgeführt (--undo braucht dann --force): %s", reason(err))
		}
	}
	e.Log.Info(fmt.Sprintf("Auftrag %s (record_id %d) %s; rückgängig mit: restore --undo %s", p.nr, p.id, r.Order.Action, undo))
	e.finish(r)
	return nil
}

// fieldChanges lists every column of old (all the table's) and want side
// by side; columns want does not name keep their value. It returns what
// writing want means: insert, replace, delete or nothing.
func fieldChanges(old, want *store.Row) ([]FieldChange, string) {
	var cols []string
	switch {
	case old != nil:
		cols = old.Columns
	case want != nil:
		cols = want.Columns
	}
	out := make([]FieldChange, 0, len(cols))
	changed := false
	for _, c := range cols {
		f := FieldChange{Column: c}
		ov, _ := old.Get(c)
		nv, inNew := want.Get(c)
		f.Old = ov.String()
		f.New = f.Old
		switch {
		case want == nil:
			f.New = ""
		case inNew:
			f.New = nv.String()
		}
		f.Changed = f.Old != f.New
		changed = changed || f.Changed
		out = append(out, f)
	}
	switch {
	case old == nil && want == nil:
		return out, OrderUnchanged
	case old == nil:
		return out, OrderInserted
	case want == nil:
		return out, OrderDeleted
	case !changed:
		return out, OrderUnchanged
	}
	return out, OrderReplaced
}

// triggerChanges names the columns whose value after the write is not
// what was written (a trigger of the web app's).
func triggerChanges(want, after *store.Row) []string {
	if want == nil || after == nil {
		return nil
	}
	var out []string
	for i, c := range want.Columns {
		if v, _ := after.Get(c); v.String() != want.Values[i].String() {
			out = append(out, c)
		}
	}
	return out
}

// rowText renders a row for the log: col="value", ….
func rowText(row *store.Row) string {
	if row == nil {
		return "keine (der Datensatz fehlte in der Tabelle)"
	}
	parts := make([]string, len(row.Columns))
	for i, c := range row.Columns {
		v := row.Values[i]
		if v.Kind == store.KindNull {
			parts[i] = c + "=NULL"
			continue
		}
		parts[i] = c + "=" + strconv.Quote(v.String())
	}
	return strings.Join(parts, ", ")
}

// undoFormat marks an undo file of a single-order restore.
const undoFormat = "werkstatt-backup/einzel-restore"

// undoFile is the content of an undo file.
type undoFile struct {
	Format    string     `json:"format"`
	Version   int        `json:"version"`
	Database  string     `json:"database"` // absolute path
	Table     string     `json:"table"`
	Key       string     `json:"key"`
	RecordID  int64      `json:"record_id"`
	AuftragNr string     `json:"auftrag_nr"`
	Time      string     `json:"time"`
	Source    string     `json:"source"`
	Old       *store.Row `json:"old"` // the row before (null: there was none; undo deletes it)
	New       *store.Row `json:"new"` // the row as the restore left it (null: deleted)
}

var unsafeName = regexp.MustCompile(`[^0-9A-Za-z_-]`)

// writeUndo writes the undo file of p beside the database, durably, and
// returns its path: <db>.auftrag-<NR>-<JJJJMMTT-HHMMSS>.json (-2, -3, …
// when that name is taken).
func (e *Engine) writeUndo(old *store.Row, p rowPlan) (string, error) {
	abs, err := filepath.Abs(e.DBPath)
	if err != nil {
		return "", fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	now := e.Now()
	u := undoFile{Format: undoFormat, Version: 1, Database: abs, Table: Table, Key: keyColumn, RecordID: p.id,
		AuftragNr: p.nr, Time: now.Format(time.RFC3339), Source: p.source, Old: old, New: p.want}
	raw, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return "", err
	}
	nr := unsafeName.ReplaceAllString(p.nr, "_")
	if nr == "" {
		nr = "id" + strconv.FormatInt(p.id, 10)
	}
	base := fmt.Sprintf("%s.auftrag-%s-%s", e.DBPath, nr, now.Format("20060102-150405"))
	name := base + ".json"
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, iofs.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s-%d.json", base, i)
	}
	if err := writeLocal(name, append(raw, '\n')); err != nil {
		return "", fmt.Errorf("Rückgängig-Datei %s schreiben (Datenbank unverändert): %w", name, err)
	}
	return name, nil
}

// writeLocal writes a file beside the database durably and in one step:
// a temp file in the same folder (mode 0600), written, synced, closed and
// renamed over name, then the folder synced. It is a local file, not the
// archive's. On failure the temp file is removed; the error names the
// file and the step.
func writeLocal(name string, data []byte) error {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("%s anlegen: %w", name, err)
	}
	tmp := f.Name()
	fail := func(step string, err error) error {
		_ = os.Remove(tmp)
		return fmt.Errorf("%s %s: %w", tmp, step, err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return fail("schreiben", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fail("Sync", err)
	}
	if err := f.Close(); err != nil {
		return fail("schließen", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return fail("nach "+name+" umbenennen", err)
	}
	return syncLocalDir(dir)
}

// syncLocalDir makes a local folder's entries (a rename into it)
// durable; EINVAL, ENOTSUP and EBADF are ignored, as not every
// filesystem can sync a folder.
func syncLocalDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("Verzeichnis %s öffnen: %w", dir, err)
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EBADF) {
		err = nil
	}
	if cerr := d.Close(); err == nil && cerr != nil {
		return fmt.Errorf("Verzeichnis %s schließen: %w", dir, cerr)
	}
	if err != nil {
		return fmt.Errorf("Verzeichnis %s Sync: %w", dir, err)
	}
	return nil
}

// rewriteUndo records after as the row the restore left (a trigger
// changed it while it was written).
func (e *Engine) rewriteUndo(name string, after *store.Row) error {
	u, err := readUndo(name)
	if err != nil {
		return err
	}
	u.New = after
	raw, err := json.MarshalIndent(u, "", "  ")
	if err != nil {
		return err
	}
	return writeLocal(name, append(raw, '\n'))
}

// readUndo reads and checks an undo file.
func readUndo(name string) (undoFile, error) {
	var u undoFile
	raw, err := os.ReadFile(name)
	if err != nil {
		return u, fmt.Errorf("Rückgängig-Datei %s: %w", name, err)
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		return u, fmt.Errorf("Rückgängig-Datei %s: kein gültiges JSON: %v: %w", name, err, ErrUndoFile)
	}
	switch {
	case u.Format != undoFormat:
		return u, fmt.Errorf("Rückgängig-Datei %s: format %q statt %q, keine Datei eines Einzel-Restores: %w", name, u.Format, undoFormat, ErrUndoFile)
	case u.Version != 1:
		return u, fmt.Errorf("Rückgängig-Datei %s: version %d unbekannt (dieses Programm kennt 1): %w", name, u.Version, ErrUndoFile)
	case u.Table != Table || u.Key != keyColumn:
		return u, fmt.Errorf("Rückgängig-Datei %s: table %q/key %q statt %s/%s: %w", name, u.Table, u.Key, Table, keyColumn, ErrUndoFile)
	case u.Old != nil && !rowHasKey(u.Old, u.RecordID), u.New != nil && !rowHasKey(u.New, u.RecordID):
		return u, fmt.Errorf("Rückgängig-Datei %s: old/new gehören nicht zu record_id %d: %w", name, u.RecordID, ErrUndoFile)
	}
	return u, nil
}

func rowHasKey(row *store.Row, id int64) bool {
	v, ok := row.Get(keyColumn)
	return ok && v.String() == strconv.FormatInt(id, 10)
}

// UndoOrder undoes a single-order restore from its undo file: the row
// goes back to what it was (a row the restore inserted is deleted), in one
// transaction, only while it is still as the restore left it (else
// ErrRowChanged, unless Force). It keeps an undo file of its own.
func (e *Engine) UndoOrder(ctx context.Context, opts UndoOptions) (*Report, error) {
	e.init()
	r := e.newReport("restore")
	r.Database, r.DryRun = e.DBPath, opts.DryRun
	e.Log.Info("Starte Rückgängig-Machen eines Einzel-Restores: " + opts.File)
	u, err := readUndo(opts.File)
	if err != nil {
		return r, err
	}
	if !sameFile(u.Database, e.DBPath) {
		return r, fmt.Errorf("Rückgängig-Datei %s gehört zur Datenbank %s, nicht zu %s (mit --db %s aufrufen): %w", opts.File, u.Database, e.DBPath, u.Database, ErrUndoFile)
	}
	r.Records = 1
	r.Order = &OrderRestore{AuftragNr: u.AuftragNr, RecordID: u.RecordID, Source: opts.File, Fields: []FieldChange{}}
	check := func(cur *store.Row, _ func(column, value string) ([]int64, error)) error {
		if sameRow(cur, u.New) {
			return nil
		}
		if !opts.Force {
			return fmt.Errorf("Datenbank unverändert: Auftrag %s (record_id %d) wurde nach dem Einzel-Restore vom %s geändert (jetzt: %s); --force macht ihn trotzdem rückgängig: %w",
				u.AuftragNr, u.RecordID, u.Time, rowText(cur), ErrRowChanged)
		}
		r.warnf("", u.RecordID, "Auftrag %s wurde nach dem Einzel-Restore geändert; mit --force trotzdem rückgängig gemacht (die jetzige Zeile steht in der neuen Rückgängig-Datei)", u.AuftragNr)
		return nil
	}
	err = e.applyRow(ctx, r, rowPlan{id: u.RecordID, nr: u.AuftragNr, source: "Rückgängig-Datei " + opts.File, want: u.Old, check: check}, opts.DryRun)
	return r, err
}

// sameRow reports whether cur holds what want holds (nil: no row), each
// column compared as a backup writes it.
func sameRow(cur, want *store.Row) bool {
	if cur == nil || want == nil {
		return cur == nil && want == nil
	}
	for i, c := range want.Columns {
		if v, ok := cur.Get(c); !ok || v.String() != want.Values[i].String() {
			return false
		}
	}
	return true
}

// sameFile reports whether a and b name the same file.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	aa, _ := filepath.Abs(a)
	ab, _ := filepath.Abs(b)
	return aa == ab
}

// orderSummary is the summary line of a single-order restore or undo. A
// dry run's says "Probelauf", never "Restore abgeschlossen", so that no
// monitoring counts it as a restore.
func (r *Report) orderSummary() string {
	o := r.Order
	if r.DryRun {
		what := "bliebe unverändert"
		switch o.Action {
		case OrderReplaced:
			what = "würde ersetzt"
		case OrderInserted:
			what = "würde eingefügt"
		case OrderDeleted:
			what = "würde gelöscht"
		}
		return fmt.Sprintf("Restore-Probelauf beendet, nichts geändert: Auftrag %s (record_id %d) %s, aus %s, %d Fehler", o.AuftragNr, o.RecordID, what, o.Source, r.Errors)
	}
	line := fmt.Sprintf("Restore abgeschlossen: %d Datensätze wiederhergestellt, %d Fehler (Auftrag %s, record_id %d %s, aus %s", r.OK, r.Errors, o.AuftragNr, o.RecordID, o.Action, o.Source)
	if o.UndoFile != "" {
		line += "; rückgängig: restore --undo " + o.UndoFile
	}
	return line + ")"
}
