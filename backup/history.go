package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"sync"
	"time"

	"werkstatt-backup/codec"
	"werkstatt-backup/history"
	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
)

// HistoryDir is the folder at the archive's root that holds the history
// (generations and packs, see package history).
const HistoryDir = history.Dir

// openHistory opens the archive's history for a run holding lock. Every
// write of the history is fenced: once the lock is lost (taken over, or
// its lease in doubt) the history writes nothing more, like the backups.
// A reading run (nil lock) writes nothing.
//
// On a store with Object Lock the history retains what it writes for
// the lock period (historyLock).
func (e *Engine) openHistory(lock *lock.Lock) *history.Store {
	return history.Open(e.Arch, history.WithClock(e.Now), history.WithFence(e.fence(lock)),
		history.WithObjectLock(e.historyLock()))
}

// ErrHistoryLost marks an export refused because the archive's history
// lost its newest generations or vanished (exit 3).
var ErrHistoryLost = fmt.Errorf("Historie verloren: %w", ErrValidation)

// historyIntact refuses an export, before anything is written, when the
// history's head marker names a generation that is gone, or is damaged
// itself: the export would start a new history over the one the archive
// had. With
// --new-history it goes on (the new generation continues the numbering)
// and says so at WARNING.
func (e *Engine) historyIntact(ctx context.Context, r *Report, hs *history.Store, opts ExportOptions) error {
	if opts.DryRun || !historyOn {
		return nil
	}
	err := hs.CheckHead(ctx)
	var lost *history.LostError
	var fe *history.FileError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &fe) && fe.Op == "" && fe.Path == history.HeadFile && opts.NewHistory:
		hs.AllowNewHistory()
		r.warnf(history.HeadFile, 0, "Historie: Kopf-Marke beschädigt (%s); --new-history: die neue Generation setzt die Nummerierung fort", reason(fe.Err))
		return nil
	case errors.As(err, &fe) && fe.Op == "" && fe.Path == history.HeadFile:
		// Damaged (garbage, cut off), not unreadable: the history it
		// named cannot be checked, so a new generation might start a new
		// history over it.
		r.errorf(history.HeadFile, 0, "Historie: Kopf-Marke beschädigt (%s); nichts geschrieben. Historie prüfen (verify) oder bewusst neu beginnen mit: export --new-history", reason(fe.Err))
		return fmt.Errorf("%s beschädigt: %w", history.HeadFile, ErrHistoryLost)
	case errors.As(err, &lost) && opts.NewHistory:
		hs.AllowNewHistory()
		r.warnf(history.HeadFile, 0, "Historie: %s; --new-history: die neue Generation setzt die Nummerierung fort", lost)
		return nil
	case errors.As(err, &lost):
		r.errorf(history.HeadFile, 0, "Historie: %s; nichts geschrieben. Ältere Generationen zurückholen (verify nennt sie) oder bewusst neu beginnen mit: export --new-history", lost)
		return fmt.Errorf("%s: %w", lost, ErrHistoryLost)
	}
	r.warnf(history.HeadFile, 0, "Historie: Kopf-Marke nicht lesbar: %s", reason(err))
	return nil
}

// historyLock is the lock period: Engine.HistoryLock, else derived from
// the retention policy forget applies.
func (e *Engine) historyLock() time.Duration {
	if e.HistoryLock > 0 {
		return e.HistoryLock
	}
	p := e.Retention
	if p == (history.Retention{}) {
		p = history.DefaultRetention
	}
	return history.DefaultLockPeriod(p)
}

// fence returns the check made before every write of the history: the
// lock's own validity, as e.fenced checks it for the backups.
func (e *Engine) fence(lock *lock.Lock) func() error {
	return func() error { return fencedBy(lock) }
}

// failedIDs collects the record_ids whose backup export could not write.
type failedIDs struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (f *failedIDs) add(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ids == nil {
		f.ids = map[int64]bool{}
	}
	f.ids[id] = true
}

func (f *failedIDs) any() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ids) > 0
}

func (f *failedIDs) has(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ids[id]
}

// heldRecords is what a generation records after an export, as history
// records: every row read, with the bytes export encoded from the
// database snapshot, also when its backup could not be written or
// confirmed (so no generation misses a row the table had); a row export
// could not store (NUL byte, too large) with what its folder actually
// holds (a valid pair read back, the folder taken from the row or from
// the previous generation); a row whose folder holds no valid backup is
// left out, and said so.
//
// Only the bytes the history may not have yet are kept in memory: a row
// whose content the newest generation already records under its
// record_id is known to the history, and after an unchanged export
// nothing is held. Should the history ask for such a content all the same
// (its pack turned out missing, or the newest generation unreadable when
// it commits), the bytes are read back from the backup export just
// confirmed (readBack); Commit checks them against the record's hash.
type heldRecords struct {
	records []history.Record
	// The contents held: rows export read, by hash (ordered by sorted),
	// in their rowStore; backups read back, by hash.
	rows     *rowStore
	read     []heldRow
	body     map[history.Hash][]byte
	readBack func(folder string, id int64) ([]byte, error)
	warns    []Problem // reported when the records are committed
}

// heldRow is where the content with hash lies in the rowStore.
type heldRow struct {
	hash history.Hash
	ref  rowRef
}

func (h *heldRecords) warnf(p string, id int64, format string, args ...any) {
	h.warns = append(h.warns, Problem{Level: LevelWarning, Path: p, RecordID: id, Message: fmt.Sprintf(format, args...)})
}

// heldContent is a data.csv: a row export read (in rows at ref), or the
// bytes of a backup read back (body).
type heldContent struct {
	rows *rowStore
	ref  rowRef
	body []byte
}

// add records rec; a zero c: the history has its content already.
func (h *heldRecords) add(rec history.Record, c heldContent) {
	h.records = append(h.records, rec)
	switch {
	case c.rows != nil:
		h.rows = c.rows
		h.read = append(h.read, heldRow{rec.Hash, c.ref})
	case c.body != nil:
		if h.body == nil {
			h.body = make(map[history.Hash][]byte)
		}
		h.body[rec.Hash] = c.body
	}
}

// sorted makes the held rows ready to be looked up by content.
func (h *heldRecords) sorted() *heldRecords {
	slices.SortFunc(h.read, func(a, b heldRow) int { return bytes.Compare(a.hash[:], b.hash[:]) })
	return h
}

// content is the history.ContentFunc of h.
func (h *heldRecords) content(r history.Record) ([]byte, error) {
	if i, ok := slices.BinarySearchFunc(h.read, r.Hash, func(x heldRow, t history.Hash) int { return bytes.Compare(x.hash[:], t[:]) }); ok {
		return h.rows.bytes(h.read[i].ref)
	}
	if b, ok := h.body[r.Hash]; ok {
		return b, nil
	}
	if h.readBack != nil {
		if d, err := h.readBack(r.Folder, r.RecordID); err == nil {
			return d, nil
		} else {
			return nil, fmt.Errorf("Inhalt von record_id %d nicht im Speicher, aus %s nicht lesbar: %w", r.RecordID, r.Folder, err)
		}
	}
	return nil, fmt.Errorf("Inhalt von record_id %d (%s) nicht im Speicher", r.RecordID, r.Folder)
}

// planRecords computes what the archive holds after an export of items
// (seen: every record_id read; prev: the newest generation, nil if none).
// A record_id that is not positive has a backup (export keeps it, with a
// warning) but no history entry: the history keys records by it.
//
// The plan refers to the rows' bytes in their rowStore, which must stay
// open until the history is written.
func (e *Engine) planRecords(ctx context.Context, cur codec.Codec, items []exportItem, seen *idSet, failed *failedIDs, prev *history.Snapshot, folders *folderIndex) *heldRecords {
	h := &heldRecords{}
	h.readBack = func(folder string, id int64) ([]byte, error) {
		if l := folders.linked(ctx, folder); l != "" {
			return nil, fmt.Errorf("%s ist ein symbolischer Link", l)
		}
		data, _, err := e.readPair(ctx, folder, id)
		return data, err
	}
	inItems := &idSet{}
	for i := range items {
		it := &items[i]
		inItems.add(it.id.RecordID)
		switch {
		case it.id.RecordID <= 0:
			h.warnf(path.Join(it.folder, DataFile), it.id.RecordID, "Auftrag %s: record_id %d ist nicht positiv, die Sicherung steht in keiner Generation der Historie", orderLabel(it.id.ident()), it.id.RecordID)
			continue
		case failed != nil && failed.has(it.id.RecordID):
			// Its new backup could not be confirmed (the write failed, the
			// store went away mid-pair): the generation takes the row from
			// the database snapshot this run read, never leaves it out.
		}
		known := false
		if prev != nil && (failed == nil || !failed.has(it.id.RecordID)) {
			en, ok := prev.Entry(it.id.RecordID)
			known = ok && en.Hash == it.sum // the history has it; its backup is confirmed
		}
		var data heldContent
		if !known {
			data = heldContent{rows: it.rows, ref: it.ref}
		}
		size := it.size()
		h.add(history.Record{
			RecordID: it.id.RecordID, AuftragNr: it.id.AuftragNr, Folder: it.folder,
			Hash: it.sum, Size: size, Schema: cur.Version(),
		}, data)
	}
	if prev == nil {
		return h.sorted()
	}
	inItems.seal()
	// Rows read but not storable (NUL byte, too large) keep whatever
	// backup their folder still holds; export did not touch it.
	for _, en := range prev.Entries {
		if seen.has(en.RecordID) && !inItems.has(en.RecordID) {
			e.addHeld(ctx, h, folders, en.Folder, en.RecordID)
		}
	}
	return h.sorted()
}

// addHeld records the valid backup of id that folder holds, if any.
// Nothing is read through a symbolic link (export writes through none).
func (e *Engine) addHeld(ctx context.Context, h *heldRecords, folders *folderIndex, folder string, id int64) {
	var (
		data []byte
		m    codec.Meta
		err  error
	)
	if l := folders.linked(ctx, folder); l != "" {
		err = fmt.Errorf("%s ist ein symbolischer Link", l)
	} else {
		data, m, err = e.readPair(ctx, folder, id)
	}
	if err == nil {
		var rec history.Record
		if rec, err = history.RecordOf(folder, m); err == nil {
			h.add(rec, heldContent{body: data})
			return
		}
	}
	h.warnf(path.Join(folder, DataFile), id, "keine gültige Sicherung im Archiv (%s): diese Generation der Historie enthält den Datensatz nicht", reason(err))
}

// readPair reads folder's data.csv and meta.json and checks that they
// belong together and to record id.
func (e *Engine) readPair(ctx context.Context, folder string, id int64) ([]byte, codec.Meta, error) {
	raw, err := e.readLimited(ctx, path.Join(folder, MetaFile), codec.MaxMetaSize)
	if err != nil {
		return nil, codec.Meta{}, err
	}
	m, err := codec.DecodeMeta(raw)
	if err != nil {
		return nil, codec.Meta{}, fmt.Errorf("%s: %w", MetaFile, err)
	}
	data, err := e.readLimited(ctx, path.Join(folder, DataFile), codec.MaxDataSize)
	if err != nil {
		return nil, codec.Meta{}, err
	}
	sum := sha256.Sum256(data)
	switch {
	case m.RecordID != id:
		return nil, codec.Meta{}, fmt.Errorf("%s gehört zu record_id %d", MetaFile, m.RecordID)
	case m.Checksum != hex.EncodeToString(sum[:]) || m.FileSize != int64(len(data)):
		return nil, codec.Meta{}, fmt.Errorf("%s passt nicht zu %s", DataFile, MetaFile)
	}
	return data, m, nil
}

// recordHistory commits held as the archive's new generation. A failure
// is an ERROR of the run; the backups already written stay.
func (e *Engine) recordHistory(ctx context.Context, r *Report, hs *history.Store, held *heldRecords) error {
	for _, p := range held.warns {
		r.warnf(p.Path, p.RecordID, "%s", p.Message)
	}
	res, err := hs.Commit(ctx, held.records, held.content)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.errorf(HistoryDir, 0, "Historie nicht geschrieben (die Sicherungen der Aufträge sind geschrieben): %s", reason(err))
		return fmt.Errorf("Historie nicht geschrieben: %w", err)
	}
	for _, p := range res.Repaired {
		r.warnf(p.Path, 0, "Historie: Pack %s (%s); %d Inhalte aus der Datenbank in Generation %d neu gespeichert, ältere Generationen, die es brauchen, bleiben beschädigt (verify nennt sie)",
			path.Base(p.Path), p.Reason, p.Contents, res.Info.Seq)
	}
	if res.PrevDamaged != nil {
		// An ERROR (exit 3), not a WARNING: the generations before may be
		// lost, and a nightly job that checks only the exit code must see it.
		r.errorf(HistoryDir, 0, "letzte Generation der Historie nicht lesbar (%s); Generation %d vollständig neu geschrieben, verify nennt den Schaden", reason(res.PrevDamaged), res.Info.Seq)
	}
	for _, a := range hs.Attacked() {
		r.errorf(a.Path, 0, "Historie: %s; gelesen aus dieser Version (history repair macht sie wieder aktuell)", a)
	}
	r.Generation = res.Info.Seq
	e.Log.Info(fmt.Sprintf("Historie: Generation %d mit %d Datensätzen (%d neu, %d geändert, %d entfernt)",
		res.Info.Seq, res.Info.Records, res.Info.Added, res.Info.Changed, res.Info.Removed))
	if res.Unlocked != nil {
		r.errorf(HistoryDir, 0, "Historie: Generation %d geschrieben, aber nicht für %s gesperrt (Object Lock): %s", res.Info.Seq, days(e.historyLock()), reason(res.Unlocked))
		return fmt.Errorf("Historie nicht gesperrt: %w", res.Unlocked)
	}
	return nil
}

// RepairHistory makes every history file whose current version is missing
// or does not prove itself current again from the newest older version
// that does (history repair, on a store that keeps versions: an S3 bucket
// with versioning or Object Lock), then checks the history like verify.
// It takes the archive lock.
func (e *Engine) RepairHistory(ctx context.Context) (_ *Report, err error) {
	e.init()
	r := e.newReport("history-repair")
	e.Log.Info("Starte Reparatur der Historie aus den Versionen des Speichers...")
	lock, err := e.lock(ctx, "history repair")
	if err != nil {
		return r, err
	}
	defer e.unlock(lock, r, &err)
	hs := e.openHistory(lock)
	done, err := hs.RestoreVersions(ctx)
	for _, a := range done {
		e.Log.Info(fmt.Sprintf("Historie: %s wieder aus Version %s", a.Path, a.Version))
		r.count(&r.OK, 1)
	}
	if err != nil {
		if errors.Is(err, storage.ErrUnsupported) {
			r.errorf(HistoryDir, 0, "%s; history repair braucht einen Speicher mit Versionen (S3 mit Versionierung oder Object Lock)", reason(err))
			return r, fmt.Errorf("history repair: %w", err)
		}
		return r, e.historyError(r, "history repair", err)
	}
	if err := e.checkHistory(ctx, r); err != nil {
		return r, err
	}
	e.finish(r)
	if r.Errors > 0 {
		return r, fmt.Errorf("Historie nach der Reparatur noch beschädigt: %w", ErrValidation)
	}
	return r, nil
}

// days renders a lock period for messages: "56 Tage", or the duration
// when it is no whole number of days.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		if d == 24*time.Hour {
			return "1 Tag"
		}
		return fmt.Sprintf("%d Tage", d/(24*time.Hour))
	}
	return d.String()
}

// checkHistoryLock is verify's check of the Object Lock: a WARNING for
// every history file retained for less than its generations need, and
// one line saying until when the newest generation is immutable.
func (e *Engine) checkHistoryLock(ctx context.Context, r *Report, hs *history.Store) error {
	st, err := hs.CheckLock(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.unreadablef(HistoryDir, 0, "Historie: Object Lock nicht lesbar: %s", reason(err))
		return nil
	}
	if st == nil {
		return nil
	}
	for _, s := range st.Short {
		r.warnf(s.Path, 0, "Historie: Object Lock kürzer als konfiguriert (history_lock %s): %s", days(st.Period), s)
	}
	if st.Head == 0 {
		return nil
	}
	r.HistoryLockedUntil = st.HeadUntil
	if st.HeadUntil.IsZero() {
		e.Log.Info(fmt.Sprintf("Historie: Generation %d ist nicht gesperrt (Object Lock)", st.Head))
		return nil
	}
	e.Log.Info(fmt.Sprintf("Historie unveränderbar (Object Lock): Generation %d und alles, was sie braucht, bis %s",
		st.Head, st.HeadUntil.Local().Format(time.DateTime)))
	return nil
}
