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
	"strings"
	"sync"
	"sync/atomic"

	"werkstatt-backup/codec"
	"werkstatt-backup/pdf"
)

// backupFile is one folder's data.csv + meta.json as found in the archive.
type backupFile struct {
	dir      string
	dataName string // data.csv as spelled in the folder (DATA.CSV on a case-insensitive backend)
	metaName string // meta.json likewise
	meta     codec.Meta
	rows     []packedRow // in the current schema version, after migration
	// What the folder's listing showed: needed until the backup is
	// loaded, then dropped (nil), so that every backup held for choosing
	// among duplicates is some 150 bytes smaller.
	*folderEntries
	valid  bool
	unread bool // something of it could not be read: the archive is not fully read
	// viaTemp: meta.json did not match, but meta.tmp.json describes
	// data.csv: a run stopped between the two renames of writePair.
	viaTemp bool
}

// folderEntries is what scanArchive keeps of a backup folder's listing.
type folderEntries struct {
	dataInfo os.FileInfo
	metaInfo os.FileInfo
	temps    []string    // data.tmp.csv / meta.tmp.json present in the folder
	metaTemp os.FileInfo // meta.tmp.json, if present
	links    []string    // other symbolic links in the folder (never followed)
	variants []string    // names that differ from data.csv/meta.json in letter case only, not taken
}

func (b *backupFile) dataPath() string { return path.Join(b.dir, b.dataName) }

// linkAdvice is the end of every message about a symbolic link.
const linkAdvice = "ist ein symbolischer Link; Export, Verify und Restore folgen keinen Links (den Link durch den echten Ordner bzw. die echte Datei ersetzen)"

// scanArchive walks the whole archive, finds every backup (a folder with a
// data.csv or a meta.json), reports temp files left by a crash, then loads
// and checks all backups in parallel. Every problem is reported; the
// returned backups, sorted by folder, include the invalid and unreadable
// ones (valid == false). r.Folders accounts for every folder: a folder
// that cannot be listed and a symbolic link (which is never followed)
// count as unreadable, since either may hide any number of orders. The
// walk lists folders in parallel too, and keeps of each entry only what
// the checks need (compact.go).
func (e *Engine) scanArchive(ctx context.Context, r *Report) ([]*backupFile, error) {
	var (
		mu     sync.Mutex
		files  []*backupFile
		listed atomic.Int64
	)
	caseless := e.Arch.Caps.CaseInsensitive
	err := e.Arch.WalkDirsParallel(ctx, ".", e.Workers, func(dir string, entries []os.FileInfo, err error) error {
		e.step(PhaseList, int(listed.Add(1)), -1)
		if dir == HistoryDir || dir == pdf.StoreDir {
			return iofs.SkipDir // the history and the PDF copies are no order folders; verify checks them on their own
		}
		if err != nil {
			r.unreadablef(dir, 0, "Ordner nicht lesbar: %s", reason(err))
			r.countFolder(&r.Folders.Unreadable)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b := listedFolder(dir, entries, caseless)
		b.links = slices.DeleteFunc(b.links, func(name string) bool {
			return e.linksToFile(ctx, path.Join(dir, name)) // a linked PDF of the workshop's: no backup can hide there
		})
		switch {
		case b.dataInfo != nil || b.metaInfo != nil:
			for _, name := range b.variants {
				r.warnf(path.Join(dir, name), 0, "Name weicht nur in der Groß-/Kleinschreibung von %s ab und wird auf diesem Archiv nicht gelesen (Doppel? entfernen)", strings.ToLower(name))
			}
			mu.Lock()
			files = append(files, b)
			mu.Unlock()
			return nil
		case len(b.variants) > 0:
			// The only backup of this folder is spelled DATA.CSV or the
			// like: on a case-sensitive archive it is not data.csv, and
			// restore would silently lose the order.
			for _, name := range b.variants {
				r.errorf(path.Join(dir, name), 0, "ist keine Sicherung: der Name weicht nur in der Groß-/Kleinschreibung von %s ab, und auf diesem Archiv zählt sie (in %s umbenennen)", strings.ToLower(name), strings.ToLower(name))
			}
			r.countFolder(&r.Folders.Invalid)
		}
		for _, name := range b.links {
			r.unreadablef(path.Join(dir, name), 0, "%s", linkAdvice)
			r.countFolder(&r.Folders.Unreadable)
		}
		warnTemps(r, b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("Archiv durchsuchen: %w", err)
	}
	slices.SortFunc(files, func(a, b *backupFile) int { return strings.Compare(a.dir, b.dir) })
	forEach(ctx, len(files), e.Workers, e.phase(PhaseRead), func(i int) {
		b := files[i]
		e.loadBackup(ctx, r, b)
		warnTemps(r, b)
		// Loading was the only use of the listing and of meta.json's
		// checksum (a migration computes its own).
		b.folderEntries, b.meta.Checksum = nil, ""
		switch {
		case b.valid:
			r.countFolder(&r.Folders.Valid)
		case b.unread:
			r.countFolder(&r.Folders.Unreadable)
		default:
			r.countFolder(&r.Folders.Invalid)
		}
	})
	r.Records = r.Folders.Seen
	return files, ctx.Err()
}

// countFolder counts one folder seen, in one of the outcomes.
func (r *Report) countFolder(outcome *int) {
	r.mu.Lock()
	r.Folders.Seen++
	*outcome++
	r.mu.Unlock()
}

// listedFolder sorts a folder's entries into the backup files, temp files,
// symbolic links and letter-case variants of data.csv/meta.json. On a
// case-insensitive backend a variant is the file itself (SMB opens DATA.CSV
// for data.csv), unless the exact name is there too.
func listedFolder(dir string, entries []os.FileInfo, caseless bool) *backupFile {
	b := &backupFile{dir: dir, dataName: DataFile, metaName: MetaFile, folderEntries: &folderEntries{}}
	for _, fi := range entries {
		switch fi.Name() {
		case DataFile:
			b.dataInfo = compactInfo(DataFile, fi)
		case MetaFile:
			b.metaInfo = compactInfo(MetaFile, fi)
		case DataTemp:
			b.temps = append(b.temps, DataTemp)
		case MetaTemp:
			b.temps = append(b.temps, MetaTemp)
			b.metaTemp = compactInfo(MetaTemp, fi)
		default:
			if fi.Mode()&os.ModeSymlink != 0 && !isBackupName(fi.Name()) {
				b.links = append(b.links, fi.Name())
			}
		}
	}
	for _, fi := range entries {
		name := fi.Name()
		switch lower := strings.ToLower(name); {
		case lower == name:
		case lower == DataFile && caseless && b.dataInfo == nil:
			b.dataName, b.dataInfo = name, compactInfo(name, fi)
		case lower == MetaFile && caseless && b.metaInfo == nil:
			b.metaName, b.metaInfo = name, compactInfo(name, fi)
		case lower == DataFile, lower == MetaFile:
			b.variants = append(b.variants, name)
		}
	}
	return b
}

// linksToFile reports whether the symbolic link at name points at a regular
// file (one stat of the target, nothing below it is read). Anything else —
// a folder, a missing target (a year folder on a disk that is not mounted),
// a loop — may hide orders and is reported as not readable.
func (e *Engine) linksToFile(ctx context.Context, name string) bool {
	fi, err := e.Arch.Stat(ctx, name)
	return err == nil && fi.Mode().IsRegular()
}

// isBackupName: a name a backup folder holds in any letter case.
func isBackupName(name string) bool {
	switch strings.ToLower(name) {
	case DataFile, MetaFile, DataTemp, MetaTemp:
		return true
	}
	return false
}

// warnTemps reports temp files a stopped run left, unless they were used.
func warnTemps(r *Report, b *backupFile) {
	for _, name := range b.temps {
		if name == MetaTemp && b.viaTemp {
			continue
		}
		r.warnf(path.Join(b.dir, name), 0, "temporäre Datei eines abgebrochenen Laufs (der nächste Export räumt sie auf)")
	}
}

// loadBackup reads and checks one backup and reports what is wrong with it.
func (e *Engine) loadBackup(ctx context.Context, r *Report, b *backupFile) {
	fail := func(file, format string, args ...any) {
		r.errorf(path.Join(b.dir, file), b.meta.RecordID, format, args...)
	}
	// unread: the file could not be read, so nothing is known about it.
	unread := func(file, format string, args ...any) {
		r.unreadablef(path.Join(b.dir, file), b.meta.RecordID, format, args...)
		b.unread = true
	}
	// read reads a file of the folder; a failed read is unreadable, a file
	// too large invalid.
	read := func(file string, limit int64) ([]byte, bool) {
		data, err := e.readLimited(ctx, path.Join(b.dir, file), limit)
		var tl *tooLargeError
		switch {
		case errors.As(err, &tl):
			fail(file, "%s", tl.Error())
		case err != nil:
			unread(file, "%s", readReason(err))
		}
		return data, err == nil
	}
	for _, name := range b.links {
		unread(name, "%s", linkAdvice)
	}
	if b.unread {
		return
	}
	for _, f := range []struct {
		name  string
		fi    os.FileInfo
		limit int64
	}{{b.dataName, b.dataInfo, codec.MaxDataSize}, {b.metaName, b.metaInfo, codec.MaxMetaSize}} {
		switch {
		case f.fi == nil:
		case f.fi.Mode()&os.ModeSymlink != 0:
			unread(f.name, "%s", linkAdvice)
			return
		case !f.fi.Mode().IsRegular():
			fail(f.name, "ist keine normale Datei (%s)", f.fi.Mode().Type())
			return
		case f.fi.Size() > f.limit: // not even opened; readLimited guards growing files
			fail(f.name, "%s", (&tooLargeError{f.limit}).Error())
			return
		}
	}
	switch {
	case b.dataInfo == nil:
		fail(DataFile, "fehlt (%s ist vorhanden)", b.metaName)
		return
	case b.metaInfo == nil && b.metaTemp == nil && e.Arch.Caps.AtomicWrite:
		// Where files are written whole, a new order's data.csv is
		// written before its meta.json (commit.go): a run stopped
		// between the two leaves this. It is no valid backup (nothing
		// vouches for data.csv), but no damage either.
		r.warnf(path.Join(b.dir, MetaFile), 0, "fehlt noch: erste Sicherung unvollständig (Export nach data.csv unterbrochen), nicht gültig; der nächste Export schließt sie ab")
		return
	case b.metaInfo == nil && b.metaTemp == nil:
		fail(b.dataName, "meta.json fehlt")
		return
	}
	// A first export stopped between its two renames leaves data.csv and
	// meta.tmp.json without meta.json: useTempMeta below takes that pair.
	var c codec.Codec
	var err error
	if b.metaInfo != nil {
		rawMeta, ok := read(b.metaName, codec.MaxMetaSize)
		if !ok {
			return
		}
		if b.meta, err = codec.DecodeMeta(rawMeta); err != nil {
			fail(b.metaName, "%s", err)
			return
		}
		if c, err = e.Schema.Codecs.Lookup(b.meta.SchemaVersion); err != nil {
			fail(b.metaName, "%s", err)
			return
		}
	}
	data, ok := read(b.dataName, codec.MaxDataSize)
	if !ok {
		return
	}
	sum := sha256.Sum256(data)
	checksum := hex.EncodeToString(sum[:])
	if b.metaInfo == nil || int64(len(data)) != b.meta.FileSize || checksum != b.meta.Checksum {
		taken, err := e.useTempMeta(ctx, r, b, data, checksum)
		if err != nil {
			unread(MetaTemp, "%s", readReason(err))
			return
		}
		if taken {
			if c, err = e.Schema.Codecs.Lookup(b.meta.SchemaVersion); err != nil {
				fail(MetaTemp, "%s", err)
				return
			}
		}
	}
	if c == nil {
		fail(b.dataName, "meta.json fehlt")
		return
	}
	if int64(len(data)) != b.meta.FileSize {
		fail(b.dataName, "Dateigröße %d Bytes, laut meta.json %d", len(data), b.meta.FileSize)
		return
	}
	if checksum != b.meta.Checksum {
		fail(b.dataName, "Checksumme ungültig")
		return
	}
	rows, ids, warns, err := e.decodeRows(c, data)
	if err != nil {
		file := b.dataName
		if errors.As(err, new(planError)) {
			file = b.metaName
		}
		fail(file, "%s", err)
		return
	}
	b.rows = make([]packedRow, 0, len(rows))
	for _, row := range rows {
		p, _ := packRow(row) // decodeRows refuses a row with a NUL byte
		b.rows = append(b.rows, p)
	}
	if len(ids) == 1 {
		id := ids[0]
		if id.RecordID != b.meta.RecordID || id.AuftragNr != b.meta.AuftragNr {
			fail(b.metaName, "passt nicht zu data.csv: record_id %d/auftrag_nr %s laut meta.json, %d/%s in data.csv",
				b.meta.RecordID, b.meta.AuftragNr, id.RecordID, id.AuftragNr)
			return
		}
	}
	if !exportedAtValid(b.meta.ExportedAt) {
		file := b.metaName
		if b.viaTemp {
			file = MetaTemp
		}
		fail(file, "exported_at %q ist kein Zeitstempel, wie der Export ihn schreibt (JJJJ-MM-TTTHH:MM:SS)", b.meta.ExportedAt)
		return
	}
	for _, w := range warns {
		r.warnf(b.dataPath(), b.meta.RecordID, "%s", w)
	}
	b.valid = true
	r.count(&r.OK, 1)
}

// useTempMeta takes meta.tmp.json as b's meta when it describes data exactly:
// the run that wrote data.csv stopped before renaming it over meta.json.
// A meta.tmp.json that cannot be read is an error: it may be the pair's
// only marker.
func (e *Engine) useTempMeta(ctx context.Context, r *Report, b *backupFile, data []byte, checksum string) (bool, error) {
	m, ok, err := e.readTempMeta(ctx, b.dir, b.metaTemp, data, checksum)
	if !ok {
		return false, err
	}
	b.viaTemp = true
	if b.metaInfo == nil {
		r.warnf(path.Join(b.dir, MetaFile), m.RecordID, "fehlt noch; data.csv passt zu meta.tmp.json (erster Export vor dem letzten Umbenennen unterbrochen, der nächste Export oder Migrate schließt ab)")
	} else {
		r.warnf(path.Join(b.dir, MetaFile), m.RecordID, "gehört zur vorigen Version; data.csv passt zu meta.tmp.json (Lauf vor dem letzten Umbenennen unterbrochen, der nächste Export oder Migrate schließt ab)")
	}
	b.meta = m
	return true, nil
}

// tempMetaFor returns the meta.tmp.json of dir (tmp is its FileInfo, nil if
// absent) if it describes data exactly: size and checksum.
func (e *Engine) tempMetaFor(ctx context.Context, dir string, tmp os.FileInfo, data []byte, checksum string) (codec.Meta, bool) {
	m, ok, _ := e.readTempMeta(ctx, dir, tmp, data, checksum)
	return m, ok
}

// readTempMeta is tempMetaFor that also returns why meta.tmp.json could not
// be read (not when it is too large: then it is no marker of ours).
func (e *Engine) readTempMeta(ctx context.Context, dir string, tmp os.FileInfo, data []byte, checksum string) (codec.Meta, bool, error) {
	if tmp == nil || !tmp.Mode().IsRegular() {
		return codec.Meta{}, false, nil
	}
	raw, err := e.readLimited(ctx, path.Join(dir, MetaTemp), codec.MaxMetaSize)
	var tl *tooLargeError
	if errors.As(err, &tl) {
		return codec.Meta{}, false, nil
	}
	if err != nil {
		return codec.Meta{}, false, err
	}
	m, err := codec.DecodeMeta(raw)
	if err != nil || m.Checksum != checksum || m.FileSize != int64(len(data)) {
		return codec.Meta{}, false, nil
	}
	return m, true, nil
}

// exportedAtValid reports whether exported_at is a timestamp as export
// writes it ("2024-07-29T10:30:00"), or as the original Python tool did
// (isoformat, with a fraction of a second and perhaps an offset).
func exportedAtValid(s string) bool {
	_, _, ok := codec.ParseTimestamp(s)
	return ok
}

// readLimited reads a whole file but refuses one larger than limit without
// reading it all, so a huge or endless file cannot exhaust memory. Over SMB
// it costs three requests (the handle's ReadFile).
func (e *Engine) readLimited(ctx context.Context, name string, limit int64) ([]byte, error) {
	data, err := e.Arch.ReadFile(ctx, name, limit)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &tooLargeError{limit}
	}
	return data, nil
}

type tooLargeError struct{ limit int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("Datei ist größer als %d Bytes", e.limit)
}

// readReason words a failed read: too large, or not readable and why.
func readReason(err error) string {
	var tl *tooLargeError
	if errors.As(err, &tl) {
		return tl.Error()
	}
	return "nicht lesbar: " + reason(err)
}
