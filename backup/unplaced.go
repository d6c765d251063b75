package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strconv"

	"werkstatt-backup/codec"
	"werkstatt-backup/storage"
)

// NoFolder holds the backups of records that cannot have their own order
// folder (SPEC 2.4): no usable auftrag_nr, no year, or a second record for
// the same folder. Each is in NoFolder/<record_id>/, a name no order folder
// (<JJJJ>/<auftrag_nr>) can have. Verify and restore find them like every
// other backup; export reports each with its reason and exits 3.
const NoFolder = "_ohne_ordner"

// unplacedFolder is the folder of a record without its own order folder.
// The decimal record_id is a safe folder name also when it is 0 or negative
// ("-5"): no separator, never "." or "..".
func unplacedFolder(id int64) string {
	return NoFolder + "/" + strconv.FormatInt(id, 10)
}

// orderLabel names a record's order for a message, also when auftrag_nr is
// empty, and record_id 0, which a Problem does not show by itself.
func orderLabel(id codec.Identity) string {
	s := id.AuftragNr
	if s == "" {
		s = "ohne Auftragsnummer"
	}
	if id.RecordID == 0 {
		s += " (record_id 0)"
	}
	return s
}

// settleCollisions gives every order folder to one record: when several
// records map to the same folder, the lowest record_id keeps it (the one the
// folder most likely already belongs to) and the others are backed up in
// NoFolder, each reported. No record is left without a backup.
func settleCollisions(r *Report, items []exportItem) {
	byFolder := make(map[string][]int64, len(items))
	for _, it := range items {
		byFolder[it.folder] = append(byFolder[it.folder], it.id.RecordID)
	}
	for i := range items {
		it := &items[i]
		ids := byFolder[it.folder]
		if len(ids) == 1 || it.id.RecordID == slices.Min(ids) {
			continue
		}
		owner := slices.Min(ids)
		shared := it.folder
		it.folder, it.flagged = unplacedFolder(it.id.RecordID), true
		r.warnf("", it.id.RecordID, "Auftrag %s: Ordner %s gehört zu mehreren Datensätzen (record_id %s); record_id %d behält ihn, dieser Datensatz ist in %s gesichert",
			orderLabel(it.id), shared, joinIDs(ids), owner, it.folder)
	}
}

// removeStaleUnplaced removes NoFolder/<record_id>/ of every record that has
// its own order folder again, once that folder holds exactly the record's
// current backup: only then is the copy in NoFolder an old one that a
// restore must not see. Folders of records the database no longer has stay
// (verify --db names them as orphaned, like any other backup).
//
// A dry run removes nothing and lists every such folder: the run would
// write the record's own folder and then remove the old copy.
func (e *Engine) removeStaleUnplaced(ctx context.Context, r *Report, items []exportItem, version string, dryRun bool) {
	entries, err := e.Arch.ReadDir(ctx, NoFolder)
	if errors.Is(err, iofs.ErrNotExist) {
		return
	}
	if err != nil {
		r.warnf(NoFolder, 0, "Ordner nicht lesbar, alte Sicherungen darin bleiben liegen: %s", reason(err))
		return
	}
	placed := make(map[string]*exportItem, len(items))
	for i := range items {
		if path.Dir(items[i].folder) != NoFolder {
			placed[strconv.FormatInt(items[i].id.RecordID, 10)] = &items[i]
		}
	}
	for _, fi := range entries {
		it := placed[fi.Name()]
		if it == nil || !fi.IsDir() {
			continue
		}
		stale := path.Join(NoFolder, fi.Name())
		removal := Change{Action: ChangeRemove, Path: stale, AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID,
			Reason: "alte Kopie, der Auftrag ist jetzt in " + it.folder + " gesichert"}
		if dryRun {
			e.recordChange(r, removal)
			continue
		}
		if !e.holdsCurrent(ctx, *it, version) {
			continue
		}
		if err := e.removeBackupFolder(ctx, stale); err != nil {
			r.warnf(stale, it.id.RecordID, "alte Sicherung nicht entfernt (Auftrag %s ist jetzt in %s gesichert): %s", orderLabel(it.id), it.folder, reason(err))
			continue
		}
		e.Log.Info(fmt.Sprintf("Alte Sicherung entfernt: %s (Auftrag %s ist jetzt in %s gesichert)", stale, orderLabel(it.id), it.folder))
		e.recordChange(r, removal)
	}
}

// holdsCurrent reports whether it.folder holds exactly it's current backup.
func (e *Engine) holdsCurrent(ctx context.Context, it exportItem, version string) bool {
	entries, err := e.Arch.ReadDir(ctx, it.folder)
	if err != nil {
		return false
	}
	have := make(map[string]os.FileInfo, len(entries))
	for _, fi := range entries {
		have[fi.Name()] = fi
	}
	sum := sha256.Sum256(it.data)
	return e.upToDate(ctx, it, have, it.data, hex.EncodeToString(sum[:]), version)
}

// removeBackupFolder removes the files this tool writes in dir, then dir.
// Anything else a person put there stays, and so does dir (an error).
func (e *Engine) removeBackupFolder(ctx context.Context, dir string) error {
	for _, name := range []string{MetaFile, DataFile, MetaTemp, DataTemp} {
		if err := e.fenced(); err != nil {
			return err
		}
		if err := e.Arch.Remove(ctx, path.Join(dir, name), storage.Always); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
	}
	return e.Arch.Remove(ctx, dir, storage.Always)
}
