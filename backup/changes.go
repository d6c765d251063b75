package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"

	"werkstatt-backup/codec"
	"werkstatt-backup/history"
)

// What export did to a backup (a dry run: would do), and why. Every
// backup it writes is new (the record had none), changed (its row
// changed in the database) or repaired: its backup in the archive was
// deleted, edited or damaged while the row stayed the same. A repair is a
// WARNING naming the order and what was wrong: somebody or something
// touched the archive. Removed are leftovers: temp files of a stopped run,
// old copies in NoFolder of records that have their own folder again.
//
// Telling a deleted backup from a new record and an edited backup from a
// changed row needs to know what the last export wrote: the newest
// generation of the history, which the mass-change guard reads anyway.
// Without it a missing backup counts as new, and a data.csv that matches
// its meta.json as changed; a data.csv that does not match its meta.json
// (or a missing or damaged meta.json) is a repair either way.

// Actions of Change.
const (
	ChangeNew     = "neu"
	ChangeChanged = "geändert"
	ChangeRepair  = "repariert"
	ChangeRemove  = "entfernt"
)

// Change is one backup export wrote, repaired or removed.
type Change struct {
	Action    string `json:"action"` // neu, geändert, repariert, entfernt
	Path      string `json:"path"`   // the order's folder, or the file or folder removed
	AuftragNr string `json:"auftrag_nr,omitempty"`
	RecordID  int64  `json:"record_id,omitempty"`
	Reason    string `json:"reason,omitempty"` // a repair: what was wrong; a removal: what it was

	own bool // a repair of the tool's own stopped run: said at INFO, not WARNING
}

// ExportChanges counts what an export wrote, repaired and removed (a dry
// run: would). Items lists, for a dry run, every change; for a real run
// the repairs and removals (the new and changed are only counted).
type ExportChanges struct {
	New      int      `json:"new"`
	Changed  int      `json:"changed"`
	Repaired int      `json:"repaired"`
	Removed  int      `json:"removed"`
	Items    []Change `json:"items"`
}

// String renders a change as one line: "repariert 2024/076329 (Auftrag
// 076329): data.csv verändert …".
func (c Change) String() string {
	s := c.Action + " " + c.Path
	if c.AuftragNr != "" {
		s += " (Auftrag " + c.AuftragNr + ")"
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

// Planned words a change of a dry run: "würde reparieren 2024/…".
func (c Change) Planned() string { return "würde " + c.Todo() }

// Todo words a change to be made: "reparieren 2024/076329 (Auftrag
// 076329): data.csv verändert …".
func (c Change) Todo() string {
	verb := map[string]string{ChangeNew: "neu schreiben", ChangeChanged: "ändern", ChangeRepair: "reparieren", ChangeRemove: "entfernen"}[c.Action]
	s := verb + " " + c.Path
	if c.AuftragNr != "" {
		s += " (Auftrag " + c.AuftragNr + ")"
	}
	if c.Reason != "" {
		s += ": " + c.Reason
	}
	return s
}

// recordChange counts c in r and says it: a repair of a real run at
// WARNING, everything of a dry run at DEBUG (the list is in the report).
func (e *Engine) recordChange(r *Report, c Change) {
	if c.Action == "" {
		return
	}
	r.mu.Lock()
	if r.Changes == nil {
		r.Changes = &ExportChanges{Items: []Change{}}
	}
	ch := r.Changes
	switch c.Action {
	case ChangeNew:
		ch.New++
	case ChangeChanged:
		ch.Changed++
	case ChangeRepair:
		ch.Repaired++
	case ChangeRemove:
		ch.Removed++
	}
	if r.DryRun || c.Action == ChangeRepair || c.Action == ChangeRemove {
		ch.Items = append(ch.Items, c)
	}
	r.mu.Unlock()
	switch {
	case r.DryRun:
		e.Log.Debug("Probelauf: " + c.Planned())
	case c.Action == ChangeRepair && c.own:
		e.Log.Info("Sicherung repariert: " + c.String())
	case c.Action == ChangeRepair:
		r.warnf(c.Path, c.RecordID, "Sicherung von Auftrag %s repariert: %s", orderLabel(codec.Identity{AuftragNr: c.AuftragNr, RecordID: c.RecordID}), c.Reason)
	}
}

// prevOf notes, for every item, what the newest generation holds of its
// record (nothing when prev is nil).
func prevOf(items []exportItem, prev *history.Snapshot) {
	if prev == nil {
		return
	}
	for i := range items {
		if en, ok := prev.Entry(items[i].id.RecordID); ok {
			items[i].inPrev, items[i].prevSame, items[i].prevFolder = true, en.Hash == items[i].sum, en.Folder
		}
	}
}

// diagnose says why the backup in it's folder (have: its entries) is not
// the one export writes: new, changed, or a repair and what was wrong.
// It reads meta.json, and data.csv when that is needed to tell an edited
// or damaged data.csv from a changed row (never one larger than a backup
// can be). listed: an object store's listing showed data.csv with other
// content; then nothing is read, and only the newest generation tells a
// repair from a changed row.
func (e *Engine) diagnose(ctx context.Context, it exportItem, have map[string]os.FileInfo, checksum, version string, listed bool) Change {
	c := Change{Path: it.folder, AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID}
	repair := func(format string, args ...any) Change {
		c.Action, c.Reason = ChangeRepair, fmt.Sprintf(format, args...)
		return c
	}
	changed := func(format string, args ...any) Change {
		c.Action, c.Reason = ChangeChanged, fmt.Sprintf(format, args...)
		return c
	}
	// rowSame: the row is what the last export wrote, so any difference
	// in the folder was made in the archive.
	rowSame := it.inPrev && it.prevSame
	df, mf := have[DataFile], have[MetaFile]
	switch {
	case df == nil && mf == nil && it.inPrev && it.prevFolder != it.folder:
		return changed("Ordner %s → %s", it.prevFolder, it.folder)
	case df == nil && mf == nil && it.inPrev:
		return repair("data.csv und meta.json fehlten (Sicherung gelöscht)")
	case df == nil && mf == nil:
		c.Action = ChangeNew
		return c
	case df == nil:
		return repair("data.csv fehlte (gelöscht), meta.json war da")
	case mf == nil && it.inPrev:
		return repair("meta.json fehlte (gelöscht)")
	case mf == nil:
		return repair("meta.json fehlte (erste Sicherung unterbrochen, oder gelöscht)")
	case !df.Mode().IsRegular():
		return repair("data.csv war keine normale Datei (%s)", df.Mode().Type())
	case !mf.Mode().IsRegular():
		return repair("meta.json war keine normale Datei (%s)", mf.Mode().Type())
	}
	if listed {
		// The listing showed data.csv with other content than export
		// writes; it is not read (an object store's request each).
		if rowSame {
			return repair("data.csv verändert oder beschädigt (Inhalt laut Auflistung anders, der Datensatz ist seit der letzten Generation unverändert)")
		}
		c.Action = ChangeChanged
		return c
	}
	raw, err := e.readLimited(ctx, path.Join(it.folder, MetaFile), codec.MaxMetaSize)
	if err != nil {
		return repair("meta.json %s", readReason(err))
	}
	m, err := codec.DecodeMeta(raw)
	switch {
	case err != nil:
		return repair("meta.json beschädigt: %s", err)
	case m.RecordID != it.id.RecordID || m.AuftragNr != it.id.AuftragNr:
		return repair("meta.json gehörte zu record_id %d/Auftrag %s", m.RecordID, m.AuftragNr)
	case m.Checksum == checksum && m.FileSize != it.size():
		return repair("meta.json: file_size %d statt %d", m.FileSize, it.size())
	case m.Checksum == checksum && !exportedAtValid(m.ExportedAt):
		return repair("meta.json: exported_at %q ungültig", m.ExportedAt)
	case m.Checksum == checksum && m.SchemaVersion != version:
		return changed("Schema-Version %s → %s", m.SchemaVersion, version)
	case m.Checksum == checksum:
		// meta.json describes the row as it is: data.csv does not.
		return repair("data.csv verändert oder beschädigt (passt nicht zu meta.json)")
	case df.Size() != m.FileSize:
		return repair("data.csv verändert oder beschädigt (%d Bytes, laut meta.json %d)", df.Size(), m.FileSize)
	case df.Size() > codec.MaxDataSize:
		return repair("data.csv %s", (&tooLargeError{codec.MaxDataSize}).Error())
	}
	data, err := e.readLimited(ctx, path.Join(it.folder, DataFile), codec.MaxDataSize)
	if err != nil {
		return repair("data.csv %s", readReason(err))
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != m.Checksum {
		return repair("data.csv verändert oder beschädigt (Prüfsumme passt nicht zu meta.json)")
	}
	if rowSame {
		return repair("Sicherung bearbeitet oder durch eine alte ersetzt (data.csv und meta.json passen zueinander, aber nicht zur Datenbank, deren Datensatz seit der letzten Generation unverändert ist)")
	}
	if m.SchemaVersion != version {
		return changed("Schema-Version %s → %s", m.SchemaVersion, version)
	}
	c.Action = ChangeChanged
	return c
}

// plannedTemps lists, for a dry run, what the next real run does with
// the temp files a stopped run left in folder: finish the pair (meta.tmp.json
// describes data.csv) or remove them.
func (e *Engine) plannedTemps(ctx context.Context, r *Report, it exportItem, have map[string]os.FileInfo) {
	rolled := false
	if tmp := have[MetaTemp]; tmp != nil && have[DataFile] != nil && have[DataFile].Mode().IsRegular() {
		if data, err := e.readLimited(ctx, path.Join(it.folder, DataFile), codec.MaxDataSize); err == nil {
			sum := sha256.Sum256(data)
			_, rolled = e.tempMetaFor(ctx, it.folder, tmp, data, hex.EncodeToString(sum[:]))
		}
	}
	if rolled {
		e.recordChange(r, Change{Action: ChangeRepair, Path: it.folder, AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID,
			Reason: "unterbrochener Lauf: meta.tmp.json wird zu meta.json"})
	}
	for _, name := range []string{DataTemp, MetaTemp} {
		if have[name] != nil && (name != MetaTemp || !rolled) {
			e.recordChange(r, Change{Action: ChangeRemove, Path: path.Join(it.folder, name), AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID,
				Reason: "temporäre Datei eines abgebrochenen Laufs"})
		}
	}
}

// tempsIn names the temp files among a folder's entries.
func tempsIn(have map[string]os.FileInfo) []string {
	var out []string
	for _, name := range []string{DataTemp, MetaTemp} {
		if have[name] != nil {
			out = append(out, name)
		}
	}
	return out
}

// settledTemps records what settleTemps did with the temp files found
// (temps): a meta.tmp.json that became meta.json finished the pair of a
// stopped run (counted as a repair, said at INFO by settleTemps: the
// tool's own interrupted run, nobody touched the archive), every other
// one was removed.
func (e *Engine) settledTemps(r *Report, it exportItem, temps []string, have map[string]os.FileInfo) {
	for _, name := range temps {
		c := Change{Action: ChangeRemove, Path: path.Join(it.folder, name), AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID,
			Reason: "temporäre Datei eines abgebrochenen Laufs"}
		if name == MetaTemp && have[MetaTemp] == nil {
			c = Change{Action: ChangeRepair, Path: it.folder, AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID,
				Reason: "unterbrochener Lauf: meta.tmp.json wurde zu meta.json", own: true}
		}
		e.recordChange(r, c)
	}
}

// exportSummary is export's summary line. A finished run's is the seed's
// "Export abgeschlossen: N erfolgreich, M Fehler", with the repairs added
// when there were any; a dry run's says "Probelauf" and what it would do,
// never "Export abgeschlossen", so that no grep counts it as a backup.
func (r *Report) exportSummary() string {
	ch := r.Changes
	if ch == nil {
		ch = &ExportChanges{}
	}
	if r.DryRun {
		return fmt.Sprintf("Export-Probelauf beendet, nichts geschrieben: %d Aufträge, würde %d neu schreiben, %d ändern, %d reparieren, %d entfernen; %d unverändert, %d Fehler",
			r.Records, ch.New, ch.Changed, ch.Repaired, ch.Removed, r.Unchanged, r.Errors)
	}
	line := fmt.Sprintf("Export abgeschlossen: %d erfolgreich, %d Fehler", r.OK, r.Errors)
	switch {
	case ch.Repaired == 1:
		line += ", 1 Sicherung repariert"
	case ch.Repaired > 1:
		line += fmt.Sprintf(", %d Sicherungen repariert", ch.Repaired)
	}
	return line
}
