package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"werkstatt-backup/codec"
	archfs "werkstatt-backup/fs"
	"werkstatt-backup/migrate"
)

// backupFile is one folder's data.csv + meta.json as found in the archive.
type backupFile struct {
	dir      string
	meta     codec.Meta
	rows     []packedRow // in the current schema version, after migration
	dataInfo os.FileInfo
	metaInfo os.FileInfo
	temps    []string    // data.tmp.csv / meta.tmp.json present in the folder
	metaTemp os.FileInfo // meta.tmp.json, if present
	valid    bool
	// viaTemp: meta.json did not match, but meta.tmp.json describes
	// data.csv: a run stopped between the two renames of writePair.
	viaTemp bool
}

func (b *backupFile) dataPath() string { return path.Join(b.dir, DataFile) }

// scanArchive walks the whole archive, finds every backup (a folder with a
// data.csv or a meta.json), reports temp files left by a crash, then loads
// and checks all backups in parallel. Every problem is reported; the
// returned backups, sorted by folder, include the invalid ones (valid ==
// false). The walk lists folders in parallel too, and keeps of each entry
// only what the checks need (compact.go).
func (e *Engine) scanArchive(ctx context.Context, r *Report) ([]*backupFile, error) {
	var (
		mu     sync.Mutex
		files  []*backupFile
		listed atomic.Int64
	)
	err := archfs.WalkDirsParallel(e.Fs, ".", e.Workers, func(dir string, entries []os.FileInfo, err error) error {
		e.step(PhaseList, int(listed.Add(1)), -1)
		if err != nil {
			r.errorf(dir, 0, "Ordner nicht lesbar: %s", reason(err))
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b := &backupFile{dir: dir}
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
			}
		}
		switch {
		case b.dataInfo != nil || b.metaInfo != nil:
			mu.Lock()
			files = append(files, b)
			mu.Unlock()
		case len(b.temps) > 0:
			warnTemps(r, b)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("Archiv durchsuchen: %w", err)
	}
	slices.SortFunc(files, func(a, b *backupFile) int { return strings.Compare(a.dir, b.dir) })
	r.Records = len(files)
	forEach(ctx, len(files), e.Workers, e.phase(PhaseRead), func(i int) {
		b := files[i]
		e.loadBackup(r, b)
		warnTemps(r, b)
		b.dataInfo, b.metaInfo, b.metaTemp = nil, nil, nil // loading was their only use
	})
	return files, ctx.Err()
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
func (e *Engine) loadBackup(r *Report, b *backupFile) {
	fail := func(file, format string, args ...any) {
		r.errorf(path.Join(b.dir, file), b.meta.RecordID, format, args...)
	}
	switch {
	case b.dataInfo == nil:
		fail(DataFile, "fehlt (meta.json ist vorhanden)")
		return
	case b.metaInfo == nil && b.metaTemp == nil:
		fail(DataFile, "meta.json fehlt")
		return
	}
	for _, f := range []struct {
		name  string
		fi    os.FileInfo
		limit int64
	}{{DataFile, b.dataInfo, codec.MaxDataSize}, {MetaFile, b.metaInfo, codec.MaxMetaSize}} {
		switch {
		case f.fi == nil:
		case !f.fi.Mode().IsRegular():
			fail(f.name, "ist keine normale Datei (%s)", f.fi.Mode().Type())
			return
		case f.fi.Size() > f.limit: // not even opened; readLimited guards growing files
			fail(f.name, "%s", (&tooLargeError{f.limit}).Error())
			return
		}
	}
	// A first export stopped between its two renames leaves data.csv and
	// meta.tmp.json without meta.json: useTempMeta below takes that pair.
	var c codec.Codec
	var err error
	if b.metaInfo != nil {
		rawMeta, err := e.readLimited(path.Join(b.dir, MetaFile), codec.MaxMetaSize)
		if err != nil {
			fail(MetaFile, "%s", readReason(err))
			return
		}
		if b.meta, err = codec.DecodeMeta(rawMeta); err != nil {
			fail(MetaFile, "%s", err)
			return
		}
		if c, err = e.Schema.Codecs.Lookup(b.meta.SchemaVersion); err != nil {
			fail(MetaFile, "%s", err)
			return
		}
	}
	data, err := e.readLimited(b.dataPath(), codec.MaxDataSize)
	if err != nil {
		fail(DataFile, "%s", readReason(err))
		return
	}
	sum := sha256.Sum256(data)
	checksum := hex.EncodeToString(sum[:])
	if (b.metaInfo == nil || int64(len(data)) != b.meta.FileSize || checksum != b.meta.Checksum) && e.useTempMeta(r, b, data, checksum) {
		if c, err = e.Schema.Codecs.Lookup(b.meta.SchemaVersion); err != nil {
			fail(MetaTemp, "%s", err)
			return
		}
	}
	if c == nil {
		fail(DataFile, "meta.json fehlt")
		return
	}
	if int64(len(data)) != b.meta.FileSize {
		fail(DataFile, "Dateigröße %d Bytes, laut meta.json %d", len(data), b.meta.FileSize)
		return
	}
	if checksum != b.meta.Checksum {
		fail(DataFile, "Checksumme ungültig")
		return
	}
	rows, err := c.Decode(data)
	if err != nil {
		fail(DataFile, "%s", err)
		return
	}
	var plan []migrate.Step
	cur := e.Schema.Codecs.Current()
	if c.Version() != cur.Version() {
		if plan, err = e.Schema.Migrations.Plan(c.Version(), cur.Version()); err != nil {
			fail(MetaFile, "%s", err)
			return
		}
	}
	b.rows = make([]packedRow, 0, len(rows))
	for i, row := range rows {
		if errs := c.Validate(row); len(errs) > 0 {
			fail(DataFile, "Datenzeile %d ungültig: %s", i+1, joinErrs(errs))
			return
		}
		if len(plan) > 0 {
			if row, err = migrate.Apply(plan, row); err != nil {
				fail(DataFile, "Datenzeile %d: %s", i+1, err)
				return
			}
			if errs := cur.Validate(row); len(errs) > 0 {
				fail(DataFile, "Datenzeile %d nach Migration auf %s ungültig: %s", i+1, cur.Version(), joinErrs(errs))
				return
			}
		}
		p, ok := packRow(row)
		if !ok {
			fail(DataFile, "Datenzeile %d ungültig: enthält ein NUL-Byte", i+1)
			return
		}
		b.rows = append(b.rows, p)
	}
	if len(rows) == 1 {
		id := c.Identity(rows[0])
		if id.RecordID != b.meta.RecordID || id.AuftragNr != b.meta.AuftragNr {
			fail(MetaFile, "passt nicht zu data.csv: record_id %d/auftrag_nr %s laut meta.json, %d/%s in data.csv",
				b.meta.RecordID, b.meta.AuftragNr, id.RecordID, id.AuftragNr)
			return
		}
	}
	b.valid = true
	r.count(&r.OK, 1)
}

// useTempMeta takes meta.tmp.json as b's meta when it describes data exactly:
// the run that wrote data.csv stopped before renaming it over meta.json.
func (e *Engine) useTempMeta(r *Report, b *backupFile, data []byte, checksum string) bool {
	m, ok := e.tempMetaFor(b.dir, b.metaTemp, data, checksum)
	if !ok {
		return false
	}
	b.viaTemp = true
	if b.metaInfo == nil {
		r.warnf(path.Join(b.dir, MetaFile), m.RecordID, "fehlt noch; data.csv passt zu meta.tmp.json (erster Export vor dem letzten Umbenennen unterbrochen, der nächste Export oder Migrate schließt ab)")
	} else {
		r.warnf(path.Join(b.dir, MetaFile), m.RecordID, "gehört zur vorigen Version; data.csv passt zu meta.tmp.json (Lauf vor dem letzten Umbenennen unterbrochen, der nächste Export oder Migrate schließt ab)")
	}
	b.meta = m
	return true
}

// tempMetaFor returns the meta.tmp.json of dir (tmp is its FileInfo, nil if
// absent) if it describes data exactly: size and checksum.
func (e *Engine) tempMetaFor(dir string, tmp os.FileInfo, data []byte, checksum string) (codec.Meta, bool) {
	if tmp == nil || !tmp.Mode().IsRegular() {
		return codec.Meta{}, false
	}
	raw, err := e.readLimited(path.Join(dir, MetaTemp), codec.MaxMetaSize)
	if err != nil {
		return codec.Meta{}, false
	}
	m, err := codec.DecodeMeta(raw)
	if err != nil || m.Checksum != checksum || m.FileSize != int64(len(data)) {
		return codec.Meta{}, false
	}
	return m, true
}

// readLimited reads a whole file but refuses one larger than limit without
// reading it all, so a huge or endless file cannot exhaust memory. Over SMB
// it costs three requests (archfs.ReadFileLimit).
func (e *Engine) readLimited(name string, limit int64) ([]byte, error) {
	data, err := archfs.ReadFileLimit(e.Fs, name, limit)
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
