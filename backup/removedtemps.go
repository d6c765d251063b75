package backup

import (
	"context"
	"errors"
	iofs "io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"werkstatt-backup/history"
	"werkstatt-backup/storage"
)

// removeTempsOfRemoved removes the temp files a stopped run left in the
// folders of records the table no longer has: verify names them and
// says "der nächste Export räumt sie auf", but export settles temp files
// only in the folders of the rows it writes. The folders are those the
// newest generation (prev, or read here) gives the removed records, and
// on a store that lists itself (listed) every listed folder holding a
// temp file that no row of this run owns. A dry run lists them.
func (e *Engine) removeTempsOfRemoved(ctx context.Context, r *Report, hs *history.Store, prev *history.Snapshot, items []exportItem, seen *idSet, listed *listedArchive, dryRun bool) {
	type gone struct {
		id     int64
		nr     string
		listed bool
	}
	// The candidates first (few: rows deleted since the newest generation,
	// folders with a temp file), then one pass over the rows drops those a
	// row of this run owns: no set of every row's folder is needed.
	folders := map[string]gone{}
	if prev == nil {
		prev, _ = hs.Head(ctx) // unreadable: the commit names it
	}
	if prev != nil {
		for _, en := range prev.Entries {
			if !seen.has(en.RecordID) {
				folders[en.Folder] = gone{id: en.RecordID, nr: en.AuftragNr}
			}
		}
	}
	if listed != nil {
		for dir, f := range listed.folders {
			_, dt := f[DataTemp]
			_, mt := f[MetaTemp]
			if _, ok := folders[dir]; !ok && (dt || mt) && !strings.HasPrefix(dir, NoFolder) {
				folders[dir] = gone{listed: true}
			}
		}
	}
	if len(folders) == 0 {
		return
	}
	for _, it := range items {
		delete(folders, it.folder)
	}
	for _, dir := range slices.Sorted(maps.Keys(folders)) {
		if ctx.Err() != nil {
			return
		}
		g := folders[dir]
		entries, fromList := listed.entries(dir)
		if !fromList {
			var err error
			if entries, err = e.Arch.ReadDir(ctx, dir); err != nil {
				if !errors.Is(err, iofs.ErrNotExist) {
					r.warnf(dir, g.id, "Ordner nicht lesbar, temporäre Dateien darin bleiben liegen: %s", reason(err))
				}
				continue
			}
		}
		have := make(map[string]os.FileInfo, len(entries))
		for _, fi := range entries {
			have[fi.Name()] = fi
		}
		for _, name := range tempsIn(have) {
			p := path.Join(dir, name)
			c := Change{Action: ChangeRemove, Path: p, AuftragNr: g.nr, RecordID: g.id,
				Reason: "temporäre Datei eines abgebrochenen Laufs, der Datensatz ist nicht mehr in der Datenbank"}
			if !dryRun {
				if err := e.fenced(); err != nil {
					return
				}
				if err := e.Arch.Remove(ctx, p, storage.Always); err != nil && !errors.Is(err, iofs.ErrNotExist) {
					r.warnf(p, g.id, "temporäre Datei nicht entfernt: %s", reason(err))
					continue
				}
				e.Log.Info("Temporäre Datei entfernt: " + p)
			}
			e.recordChange(r, c)
		}
	}
}
