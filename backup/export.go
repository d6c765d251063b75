package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"werkstatt-backup/codec"
	"werkstatt-backup/history"
	"werkstatt-backup/storage"
)

// ExportOptions are the flags of the export command.
type ExportOptions struct {
	Full   bool // rewrite backups that are already byte-identical
	DryRun bool // report what would be written, write nothing
	// AllowMassChange confirms an export that changes more backups than
	// Engine.MassChange allows.
	AllowMassChange bool
	// NewHistory lets export start a new history although the archive's
	// head marker names generations that are gone (export --new-history).
	NewHistory bool
}

// exportItem is one database row on its way into the archive. Export
// holds one for every row until the generation is written, so it keeps
// only what it needs (about 150 bytes; its data.csv waits in a rowStore).
type exportItem struct {
	// The row encoded as data.csv in the current version lies in rows at
	// ref (bytes reads it, values decodes it); sum is its SHA-256.
	rows *rowStore
	ref  rowRef
	sum  history.Hash
	id   rowID
	// folder: where its backup lies; prevFolder: where the newest
	// generation had it (inPrev), prevSame: with the same content.
	folder, prevFolder string
	// flagged: the row breaks a field rule or has no order folder of its
	// own; it is backed up all the same, and export exits 3.
	flagged, inPrev, prevSame bool
	// What export does to its backup (changes.go): the action and why.
	action, reason string
}

// rowID is what export keeps of a row's identity: what messages and the
// history name it by (the rest, file_path and dates, is in its bytes).
type rowID struct {
	RecordID  int64
	AuftragNr string
}

func (id rowID) ident() codec.Identity {
	return codec.Identity{RecordID: id.RecordID, AuftragNr: id.AuftragNr}
}

// change is what export does to the item's backup (none: zero).
func (it exportItem) change() Change {
	if it.action == "" {
		return Change{}
	}
	return Change{Action: it.action, Path: it.folder, AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID, Reason: it.reason}
}

// setChange keeps c (diagnose's, about this item's folder) in the item.
func (it *exportItem) setChange(c Change) { it.action, it.reason = c.Action, c.Reason }

// Export writes every row of auftraege, read in one snapshot, as data.csv +
// meta.json into its order's folder, or into NoFolder when it cannot have
// one. Field-rule violations and rows without an order folder are warnings
// that make the run exit 3; only a row that cannot be stored (NUL byte,
// invalid UTF-8, too large) is not backed up, reported as an error.
func (e *Engine) Export(ctx context.Context, opts ExportOptions) (_ *Report, err error) {
	e.init()
	defer boundMemory()()
	r := e.newReport("export")
	r.Database, r.DryRun = e.DBPath, opts.DryRun
	r.Changes = &ExportChanges{Items: []Change{}}
	e.Log.Info("Starte Export aller Aufträge...")

	lock, err := e.lock(ctx, "export")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)

	items, seen, rows, err := e.readRows(ctx, r)
	if err != nil {
		return r, err
	}
	defer rows.close()
	r.Records = seen.len()

	cur := e.Schema.Codecs.Current()
	hs := e.openHistory(lock)
	if err := e.historyIntact(ctx, r, hs, opts); err != nil {
		return r, err
	}
	prev, plan, err := e.massChangeGuard(ctx, r, hs, cur, items, seen, opts)
	if err != nil {
		return r, err
	}
	prevOf(items, prev)
	exportedAt := e.Now().Format("2006-01-02T15:04:05")
	batch := e.Arch.BatchSync() // commit all pairs together
	staged := make([]bool, len(items))
	folders := newFolderIndex(e.Arch)
	listed := e.listForExport(ctx, opts)
	readMeta := func(name string) ([]byte, error) { return e.readMeta(ctx, name) }
	var ioErrs int
	forEach(ctx, len(items), e.Workers, e.phase(PhaseWrite), func(i int) {
		it := items[i]
		if listed != nil && listed.unchanged(it, wantMeta(cur, it), readMeta) {
			r.count(&r.Unchanged, 1)
			r.count(&r.OK, 1)
			return
		}
		written, change, err := e.exportOne(ctx, r, cur, it, folders, exportedAt, opts, !batch, listed)
		items[i].setChange(change)
		it.setChange(change)
		switch {
		case err != nil:
			e.exportFailed(r, it, err)
			r.count(&ioErrs, 1)
		case written && batch && !opts.DryRun:
			staged[i] = true
		case written:
			e.exported(r, it)
		default:
			r.count(&r.Unchanged, 1)
			r.count(&r.OK, 1)
		}
	})
	if batch && ctx.Err() == nil {
		ioErrs += e.commitBatch(ctx, r, items, staged)
	}
	if err := ctx.Err(); err != nil {
		return r, err // interrupted: no summary line, the caller logs the abort
	}
	if listed == nil || listed.unplaced {
		e.removeStaleUnplaced(ctx, r, items, cur.Version(), opts.DryRun)
	}
	e.removeTempsOfRemoved(ctx, r, hs, prev, items, seen, listed, opts.DryRun)
	pdfErr := e.orderPDFs(ctx, r, items, opts, listed, folders)
	if err := ctx.Err(); err != nil {
		return r, err
	}
	flagged := 0
	for _, it := range items {
		if it.flagged {
			flagged++
		}
	}
	var histErr error
	if !opts.DryRun && historyOn {
		if plan == nil || r.failed.any() {
			plan = e.planRecords(ctx, cur, items, seen, &r.failed, prev, folders)
		}
		pdfs := pdfHashes(r)
		plan.setPDFs(pdfs)
		hs.RecordsPDFs(pdfs != nil)
		// The plan holds the bytes the history may lack; the rest are
		// garbage before the history loads and encodes its generation.
		items, prev, seen, listed = nil, nil, nil, nil
		histErr = e.recordHistory(ctx, r, hs, plan)
		if err := ctx.Err(); err != nil {
			return r, err
		}
	}
	e.finish(r)
	switch {
	case histErr != nil && ioErrs > 0:
		return r, fmt.Errorf("%d Aufträge konnten nicht gesichert werden; %w", ioErrs, histErr)
	case histErr != nil:
		return r, histErr
	case ioErrs > 0:
		return r, fmt.Errorf("%d Aufträge konnten nicht gesichert werden", ioErrs)
	case pdfErr != nil:
		return r, pdfErr
	case r.Errors > 0 || flagged > 0:
		return r, fmt.Errorf("%d Fehler, %d Datensätze mit Warnungen gesichert (Feldregeln oder kein eigener Ordner): %w", r.Errors, flagged, ErrValidation)
	}
	return r, nil
}

// commitBatch makes every staged temp file durable with one SyncAll,
// renames all staged pairs, and makes the renames durable with another
// (also after an interruption: what was renamed is made durable).
// It returns the number of records that failed.
func (e *Engine) commitBatch(ctx context.Context, r *Report, items []exportItem, staged []bool) int {
	// The staged rows by index: a copy of each would hold them twice.
	var todo []int32
	for i, ok := range staged {
		if ok {
			todo = append(todo, int32(i))
		}
	}
	if len(todo) == 0 {
		return 0
	}
	e.step(PhaseSync, 0, 1)
	if err := e.Arch.SyncAll(ctx); err != nil {
		for _, i := range todo {
			e.exportFailed(r, items[i], err)
		}
		return len(todo)
	}
	e.step(PhaseSync, 1, 1)
	var failed int
	chunk := e.renameChunk
	if chunk <= 0 {
		chunk = renameChunk
	}
	for start := 0; start < len(todo); start += chunk {
		part := todo[start:min(start+chunk, len(todo))]
		var progress func(done, total int)
		if p := e.phase(PhaseRename); p != nil {
			progress = func(done, _ int) { p(start+done, len(todo)) }
		}
		forEach(ctx, len(part), e.Workers, progress, func(i int) {
			it := &items[part[i]]
			if err := e.commitPair(ctx, it.folder, false); err != nil {
				e.exportFailed(r, *it, err)
				r.count(&failed, 1)
				return
			}
			e.exported(r, *it)
		})
		e.step(PhaseSync, 0, 1)
		if err := e.Arch.SyncAll(context.WithoutCancel(ctx)); err != nil {
			r.errorf("", 0, "Sync des Archivs nach dem Umbenennen: %s", reason(err))
			return failed + 1
		}
		if ctx.Err() != nil {
			break // interrupted: what was renamed is durable, the rest stays staged
		}
	}
	return failed
}

// renameChunk is how many staged pairs export renames before it makes
// those renames durable (SyncAll) and goes on. One sync after 300,000
// renames made the filesystem commit them in one piece, and a web app
// writing to a database on the same disk waited for it (up to half a
// second); a sync every few thousand keeps each commit small.
const renameChunk = 4096

func (e *Engine) exported(r *Report, it exportItem) {
	r.count(&r.Written, 1)
	r.count(&r.OK, 1)
	e.recordChange(r, it.change())
	e.Log.Debug(fmt.Sprintf("✓ Exportiert: %s → %s/%s", it.id.AuftragNr, it.folder, DataFile))
}

func (e *Engine) exportFailed(r *Report, it exportItem, err error) {
	r.failed.add(it.id.RecordID)
	r.errorf(path.Join(it.folder, DataFile), it.id.RecordID, "Fehler bei Auftrag %s: %s", it.id.AuftragNr, reason(err))
}

// readRows reads the table in one read transaction and returns every row
// that can be stored, each with its folder (SPEC 2.4, else NoFolder), and
// the record_ids of all rows it saw. Field-rule violations and rows without
// an order folder are reported as warnings and flagged; a table column
// outside the schema is an error, since its data is in no backup.
//
// The rows' data.csv bytes are in the returned rowStore, which the caller
// closes when it is done with the items.
func (e *Engine) readRows(ctx context.Context, r *Report) (_ []exportItem, _ *idSet, _ *rowStore, err error) {
	db, err := e.Open(ctx, e.DBPath, false)
	if err != nil {
		return nil, nil, nil, err
	}
	defer db.Close()
	cols, err := db.Columns(ctx, Table)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	cur := e.Schema.Codecs.Current()
	pick, err := columnMapping(cols, codec.Names(cur))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("Datenbank %s: %w", e.DBPath, err)
	}
	for _, c := range cols {
		if !slices.Contains(codec.Names(cur), c) {
			r.errorf("", 0, "Spalte %s der Tabelle %s gehört nicht zu Schema %s: ihre Werte sind in keiner Sicherung (alle Zeilen sind ohne sie gesichert)", c, Table, cur.Version())
		}
	}
	// The row count, read before the snapshot, only sizes the slice: one
	// allocation instead of a doubling whose last copy would briefly hold
	// the rows twice.
	n, _ := db.Count(ctx, Table)
	items := make([]exportItem, 0, n+n/64)
	seen := &idSet{ids: make([]int64, 0, n+n/64)}
	checked := false
	vals := make([]string, len(pick)) // reused: a row keeps only its encoded bytes
	rows := newRowStore(cur.Encode()) // data.csv without rows: its header line
	defer func() {
		if err != nil {
			rows.close()
		}
	}()
	_, err = db.Scan(ctx, Table, func(snapCols, row []string) error {
		if !checked {
			// The columns were read before the snapshot was taken: a web
			// app that changed the table in between would shift them.
			if !slices.Equal(snapCols, cols) {
				return fmt.Errorf("die Spalten der Tabelle %s haben sich während des Exports geändert (%s statt %s); Export erneut starten", Table, strings.Join(snapCols, ", "), strings.Join(cols, ", "))
			}
			checked = true
		}
		e.step(PhaseRead, len(seen.ids)+1, -1)
		for i, j := range pick {
			vals[i] = row[j]
		}
		id := cur.Identity(vals)
		seen.add(id.RecordID)
		errs, warns := codec.SplitProblems(cur.Validate(vals))
		if len(errs) > 0 {
			r.errorf("", id.RecordID, "Fehler bei Auftrag %s: nicht sicherbar: %s", orderLabel(id), joinErrs(errs))
			return nil
		}
		data := cur.Encode(vals)
		if len(data) > codec.MaxDataSize {
			r.errorf("", id.RecordID, "Fehler bei Auftrag %s: Datensatz größer als %d Bytes", orderLabel(id), codec.MaxDataSize)
			return nil
		}
		it := exportItem{rows: rows, ref: rows.add(data), sum: history.Sum(data), flagged: len(warns) > 0}
		if it.flagged {
			r.warnf("", id.RecordID, "Auftrag %s verletzt Feldregeln, wird trotzdem unverändert gesichert: %s", orderLabel(id), joinErrs(warns))
		}
		folder, err := Folder(id)
		if err != nil {
			folder, it.flagged = unplacedFolder(id.RecordID), true
			r.warnf("", id.RecordID, "Auftrag %s hat keinen eigenen Ordner (%s), gesichert in %s", orderLabel(id), err, folder)
		}
		it.folder = folder
		it.id = rowID{RecordID: id.RecordID, AuftragNr: id.AuftragNr}
		items = append(items, it)
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("Datenbank %s lesen: %w", e.DBPath, err)
	}
	rows.seal()
	seen.seal()
	settleCollisions(r, items)
	return items, seen, rows, nil
}

// values decodes the row back from its data.csv bytes (readRows keeps
// only those, not the values as well).
func (it exportItem) values(cur codec.Codec) ([]string, error) {
	data, err := it.bytes()
	if err != nil {
		return nil, err
	}
	rows, err := cur.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s von Auftrag %s neu lesen: %w", DataFile, orderLabel(it.id.ident()), err)
	}
	return rows[0], nil
}

// bytes returns the row's data.csv, in a new slice.
func (it exportItem) bytes() ([]byte, error) { return it.rows.bytes(it.ref) }

// size is the length of the row's data.csv.
func (it exportItem) size() int64 { return it.rows.size(it.ref) }

// columnMapping finds, for each schema column, its position among the
// table's columns; a missing column is an error naming it.
func columnMapping(table, schema []string) ([]int, error) {
	pick := make([]int, len(schema))
	var missing []string
	for i, name := range schema {
		pick[i] = slices.Index(table, name)
		if pick[i] < 0 {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("Tabelle %s fehlt die Spalte %s des Backup-Schemas", Table, strings.Join(missing, ", "))
	}
	return pick, nil
}

// exportOne writes one record's backup unless it is already byte-identical.
// It reports whether it wrote (a dry run: would write), and what that
// change is (changes.go; none for a --full rewrite of an identical backup).
// With sync false it only stages the pair; commitBatch renames it. With
// a listing of the archive (nil: none) the folder is not listed again
// and a data.csv the listing shows different is not read.
func (e *Engine) exportOne(ctx context.Context, r *Report, cur codec.Codec, it exportItem, folders *folderIndex, exportedAt string, opts ExportOptions, sync bool, listed *listedArchive) (bool, Change, error) {
	written, err := e.exportOneFile(ctx, r, cur, &it, folders, exportedAt, opts, sync, listed)
	return written, it.change(), err
}

func (e *Engine) exportOneFile(ctx context.Context, r *Report, cur codec.Codec, it *exportItem, folders *folderIndex, exportedAt string, opts ExportOptions, sync bool, listed *listedArchive) (bool, error) {
	if err := e.fenced(); err != nil {
		return false, err
	}
	data, err := it.bytes()
	if err != nil {
		return false, err
	}
	checksum := hex.EncodeToString(it.sum[:])

	if l := folders.linked(ctx, it.folder); l != "" {
		return false, fmt.Errorf("%s ist ein symbolischer Link; export schreibt nicht durch Links (durch einen echten Ordner ersetzen)", l)
	}
	entries, fromList := listed.entries(it.folder)
	absent := !fromList && folders.absent(ctx, it.folder)
	if !absent && !fromList {
		var err error
		entries, err = e.Arch.ReadDir(ctx, it.folder)
		if errors.Is(err, iofs.ErrNotExist) {
			entries = nil
		} else if err != nil {
			return false, err
		}
	}
	entries, err = e.lowerCaseNames(ctx, it.folder, entries, opts.DryRun)
	if err != nil {
		return false, err
	}
	have := make(map[string]os.FileInfo, len(entries))
	for _, fi := range entries {
		have[fi.Name()] = fi
	}
	if opts.DryRun {
		e.plannedTemps(ctx, r, *it, have)
	} else {
		temps := tempsIn(have)
		if err := e.settleTemps(ctx, it.folder, have, sync); err != nil {
			return false, err
		}
		e.settledTemps(r, *it, temps, have)
	}
	switch {
	case listed.dataDiffers(*it):
		it.setChange(e.diagnose(ctx, *it, have, checksum, cur.Version(), true))
	case e.upToDate(ctx, *it, have, data, checksum, cur.Version()):
		if !opts.Full {
			return false, nil
		}
	default:
		it.setChange(e.diagnose(ctx, *it, have, checksum, cur.Version(), false))
	}
	if opts.DryRun {
		return true, nil
	}
	if err := e.fenced(); err != nil {
		return false, err
	}
	switch {
	case e.Arch.Caps.ImplicitDirs:
		// A file is created without its folder: nothing to make or check.
	case absent:
		if err := folders.create(ctx, it.folder); err != nil {
			return false, err
		}
	case entries == nil:
		if err := e.Arch.MkdirAll(ctx, it.folder); err != nil {
			return false, err
		}
	}
	meta := codec.Meta{
		SchemaVersion: cur.Version(),
		Checksum:      checksum,
		ExportedAt:    exportedAt,
		AuftragNr:     it.id.AuftragNr,
		RecordID:      it.id.RecordID,
		FileSize:      int64(len(data)),
	}
	if !sync {
		return true, e.stagePair(ctx, it.folder, data, meta, false)
	}
	st := pairState{hasMeta: have[MetaFile] != nil, sameData: have[DataFile] != nil && listed.dataSame(*it)}
	return true, e.writePair(ctx, it.folder, data, meta, st)
}

// upToDate reports whether the folder already holds exactly this backup:
// data.csv byte-identical and a meta.json that describes it, current version.
func (e *Engine) upToDate(ctx context.Context, it exportItem, have map[string]os.FileInfo, data []byte, checksum, version string) bool {
	df, mf := have[DataFile], have[MetaFile]
	if df == nil || mf == nil || !df.Mode().IsRegular() || !mf.Mode().IsRegular() ||
		df.Size() != int64(len(data)) || mf.Size() > codec.MaxMetaSize {
		return false
	}
	raw, err := e.readLimited(ctx, path.Join(it.folder, MetaFile), codec.MaxMetaSize)
	if err != nil {
		return false
	}
	m, err := codec.DecodeMeta(raw)
	if err != nil || !metaDescribes(m, it, checksum, version) {
		return false
	}
	old, err := e.readLimited(ctx, path.Join(it.folder, DataFile), int64(len(data)))
	return err == nil && bytes.Equal(old, data)
}

// settleTemps deals with the temp files a stopped run left in folder. They
// are ours: only this tool writes these names, and only under the lock we
// hold. If meta.tmp.json describes data.csv, that run stopped between the
// two renames of commitPair and data.csv is already the new copy: the pair
// is rolled forward first, because removing meta.tmp.json would leave a
// data.csv that no marker describes until this run renames its own pair.
// Every other temp file is an unfinished stage and is removed.
func (e *Engine) settleTemps(ctx context.Context, folder string, have map[string]os.FileInfo, sync bool) error {
	if tmp := have[MetaTemp]; tmp != nil && have[DataFile] != nil && have[DataFile].Mode().IsRegular() {
		data, err := e.readLimited(ctx, path.Join(folder, DataFile), codec.MaxDataSize)
		if err == nil {
			sum := sha256.Sum256(data)
			if _, ok := e.tempMetaFor(ctx, folder, tmp, data, hex.EncodeToString(sum[:])); ok {
				if err := e.rollForward(ctx, folder, sync); err != nil {
					return err
				}
				have[MetaFile] = tmp
				delete(have, MetaTemp)
				e.Log.Info(fmt.Sprintf("Unterbrochenen Lauf abgeschlossen: %s/%s → %s", folder, MetaTemp, MetaFile))
			}
		}
	}
	for _, tmp := range []string{DataTemp, MetaTemp} {
		if have[tmp] == nil {
			continue
		}
		if err := e.fenced(); err != nil {
			return err
		}
		if err := e.Arch.Remove(ctx, path.Join(folder, tmp), storage.Always); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
		e.Log.Info(fmt.Sprintf("Temporäre Datei entfernt: %s/%s", folder, tmp))
	}
	return nil
}

// hashIs reports whether h is the store's content hash of it's data.csv
// (false when its bytes cannot be read: export then fails the row).
func (la *listedArchive) hashIs(it exportItem, h string) bool {
	data, err := it.bytes()
	return err == nil && la.hash(data) == h
}
