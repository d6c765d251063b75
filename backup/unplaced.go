package backup

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

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
	// The rows sorted by folder, then record_id, as indices: the records
	// sharing a folder are neighbours, the first of them keeps it.
	order := make([]int32, len(items))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := strings.Compare(items[a].folder, items[b].folder); c != 0 {
			return c
		}
		return cmp.Compare(items[a].id.RecordID, items[b].id.RecordID)
	})
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && items[order[end]].folder == items[order[start]].folder {
			end++
		}
		if end-start > 1 {
			ids := make([]int64, 0, end-start)
			for _, i := range order[start:end] {
				ids = append(ids, items[i].id.RecordID)
			}
			owner := ids[0]
			for _, i := range order[start+1 : end] {
				it := &items[i]
				if it.id.RecordID == owner {
					continue // the same record_id twice: both keep the folder, as before
				}
				shared := it.folder
				it.folder, it.flagged = unplacedFolder(it.id.RecordID), true
				r.warnf("", it.id.RecordID, "Auftrag %s: Ordner %s gehört zu mehreren Datensätzen (record_id %s); record_id %d behält ihn, dieser Datensatz ist in %s gesichert",
					orderLabel(it.id.ident()), shared, joinIDs(idsInRowOrder(items, order[start:end])), owner, it.folder)
			}
		}
		start = end
	}
}

// idsInRowOrder lists the record_ids of the rows at idx in table order,
// as the collision warning names them.
func idsInRowOrder(items []exportItem, idx []int32) []int64 {
	sorted := slices.Clone(idx)
	slices.Sort(sorted)
	ids := make([]int64, len(sorted))
	for k, i := range sorted {
		ids[k] = items[i].id.RecordID
	}
	return ids
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
			r.warnf(stale, it.id.RecordID, "alte Sicherung nicht entfernt (Auftrag %s ist jetzt in %s gesichert): %s", orderLabel(it.id.ident()), it.folder, reason(err))
			continue
		}
		e.Log.Info(fmt.Sprintf("Alte Sicherung entfernt: %s (Auftrag %s ist jetzt in %s gesichert)", stale, orderLabel(it.id.ident()), it.folder))
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
	data, err := it.bytes()
	return err == nil && e.upToDate(ctx, it, have, data, hex.EncodeToString(it.sum[:]), version)
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
