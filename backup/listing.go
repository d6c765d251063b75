package backup

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"werkstatt-backup/codec"
	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
)

// On an archive that can list itself with content hashes (an object
// store: Capabilities.List), export lists the whole archive once and
// decides "unchanged" from the listing instead of reading every order's
// meta.json and data.csv: 10,000 unchanged orders cost one listing of
// 10 requests instead of 30,000.
//
// An order is unchanged when its folder lists data.csv and meta.json, no
// temp file, and
//   - data.csv has the size and the content hash of the bytes export
//     would write (the hash is the store's, an MD5 ETag: a changed row,
//     a damaged or truncated data.csv all differ), and
//   - meta.json's hash is that of the meta.json export would write, with
//     some exported_at: every other field (checksum, size, record_id,
//     auftrag_nr, schema version) is known, exported_at is the time of
//     the run that wrote the file. Candidates are the exported_at values
//     already matched in this run, then every second from 10 minutes
//     before to 1 minute after the object's time in the listing (the run
//     wrote it soon after taking its exported_at). A hash matches only
//     the exact bytes: a meta.json changed in any field, or missing, is
//     caught.
//
// When no candidate matches (a meta.json written long after its run
// began, by another tool, or a store whose hash is no MD5), meta.json is
// read once and checked as export checks it everywhere; its exported_at
// then becomes a candidate. Anything else (a folder with a temp file, a
// case-insensitive or linked store) takes the ordinary way.

// exportedAtLayout is the form of meta.json's exported_at.
const exportedAtLayout = "2006-01-02T15:04:05"

// Candidate window around a meta.json's listed time, and how many
// matched exported_at values are tried first.
const (
	probeBack  = 10 * time.Minute
	probeAhead = time.Minute
	keepStamps = 16
)

// listedArchive is one listing of the archive, by folder.
type listedArchive struct {
	folders  map[string]map[string]storage.Entry
	unplaced bool // something lies below NoFolder
	// seenIndex: the listing shows pdf.SeenFile (without it there is
	// nothing to read: an archive without PDFs costs no request for it)
	seenIndex bool
	hash      func([]byte) string
	loc       *time.Location

	mu     sync.Mutex
	stamps []string // exported_at values matched, most recent first
}

// listArchive lists the archive once, if the store can and the fast
// path is sound on it; nil otherwise (then every order is read).
func (e *Engine) listArchive(ctx context.Context) (*listedArchive, error) {
	c := e.Arch.Caps
	if !e.Arch.CanList() || c.Links || c.CaseInsensitive {
		return nil, nil
	}
	la := &listedArchive{folders: map[string]map[string]storage.Entry{}, hash: e.Arch.ContentHash, loc: e.Now().Location()}
	err := e.Arch.List(ctx, "", func(en storage.Entry) error {
		dir, name := path.Split(en.Name)
		dir = strings.TrimSuffix(dir, "/")
		if en.Name == pdf.SeenFile {
			la.seenIndex = true
		}
		if dir == HistoryDir || strings.HasPrefix(dir, HistoryDir+"/") || dir == pdf.StoreDir || strings.HasPrefix(dir, pdf.StoreDir+"/") {
			return nil
		}
		if dir == NoFolder || strings.HasPrefix(dir, NoFolder+"/") {
			la.unplaced = true
		}
		f := la.folders[dir]
		if f == nil {
			f = map[string]storage.Entry{}
			la.folders[dir] = f
		}
		f[name] = en
		return nil
	})
	if err != nil {
		return nil, err
	}
	return la, nil
}

// unchanged reports whether it's folder holds exactly the backup export
// would write (see above); read reads a meta.json when the listing alone
// cannot tell.
func (la *listedArchive) unchanged(it exportItem, want codec.Meta, read func(name string) ([]byte, error)) bool {
	f := la.folders[it.folder]
	df, dok := f[DataFile]
	mf, mok := f[MetaFile]
	_, dt := f[DataTemp]
	_, mt := f[MetaTemp]
	if !dok || !mok || dt || mt || df.Size != it.size() || !la.hashIs(it, df.Hash) {
		return false
	}
	if la.metaMatches(want, mf) {
		return true
	}
	if mf.Size > codec.MaxMetaSize {
		return false
	}
	raw, err := read(path.Join(it.folder, MetaFile))
	if err != nil {
		return false
	}
	m, err := codec.DecodeMeta(raw)
	if err != nil || !metaDescribes(m, it, want.Checksum, want.SchemaVersion) {
		return false
	}
	want.ExportedAt = m.ExportedAt
	if la.hash(codec.EncodeMeta(want)) == mf.Hash {
		la.learn(m.ExportedAt)
	}
	return true
}

// metaMatches reports whether meta.json's listed hash is that of want
// with one of the candidate exported_at values.
func (la *listedArchive) metaMatches(want codec.Meta, mf storage.Entry) bool {
	try := func(stamp string) bool {
		want.ExportedAt = stamp
		b := codec.EncodeMeta(want)
		return int64(len(b)) == mf.Size && la.hash(b) == mf.Hash
	}
	la.mu.Lock()
	stamps := slices.Clone(la.stamps)
	la.mu.Unlock()
	for _, s := range stamps {
		if try(s) {
			la.learn(s)
			return true
		}
	}
	// Every candidate has the same length: one encoding tells whether
	// the size can match at all.
	want.ExportedAt = exportedAtLayout
	if int64(len(codec.EncodeMeta(want))) != mf.Size || mf.ModTime.IsZero() {
		return false
	}
	t := mf.ModTime.In(la.loc).Truncate(time.Second)
	for d := time.Duration(0); d <= probeBack; d += time.Second {
		if s := t.Add(-d).Format(exportedAtLayout); !slices.Contains(stamps, s) && try(s) {
			la.learn(s)
			return true
		}
	}
	for d := time.Second; d <= probeAhead; d += time.Second {
		if s := t.Add(d).Format(exportedAtLayout); try(s) {
			la.learn(s)
			return true
		}
	}
	return false
}

// learn puts stamp first among the candidates.
func (la *listedArchive) learn(stamp string) {
	la.mu.Lock()
	defer la.mu.Unlock()
	if i := slices.Index(la.stamps, stamp); i >= 0 {
		la.stamps = slices.Delete(la.stamps, i, i+1)
	}
	la.stamps = slices.Insert(la.stamps, 0, stamp)
	if len(la.stamps) > keepStamps {
		la.stamps = la.stamps[:keepStamps]
	}
}

// metaDescribes reports whether m is the meta.json of it's backup
// (exported_at: any valid time).
func metaDescribes(m codec.Meta, it exportItem, checksum, version string) bool {
	return m.Checksum == checksum && m.SchemaVersion == version && m.FileSize == it.size() &&
		m.RecordID == it.id.RecordID && m.AuftragNr == it.id.AuftragNr && exportedAtValid(m.ExportedAt)
}

// listForExport lists the archive for export's fast path; nil when the
// store cannot, --full rewrites everything anyway, or the listing failed
// (then every order is read, as on a disk).
func (e *Engine) listForExport(ctx context.Context, opts ExportOptions) *listedArchive {
	if opts.Full {
		return nil
	}
	la, err := e.listArchive(ctx)
	if err != nil {
		e.Log.Warn(fmt.Sprintf("Archiv nicht in einem Zug auflistbar (%s); jeder Auftrag wird einzeln gelesen", reason(err)))
		return nil
	}
	return la
}

// wantMeta is the meta.json export writes for it, without exported_at.
func wantMeta(cur codec.Codec, it exportItem) codec.Meta {
	sum := it.sum
	return codec.Meta{SchemaVersion: cur.Version(), Checksum: hex.EncodeToString(sum[:]),
		AuftragNr: it.id.AuftragNr, RecordID: it.id.RecordID, FileSize: it.size()}
}

// readMeta reads a meta.json for the fast path's fallback.
func (e *Engine) readMeta(ctx context.Context, name string) ([]byte, error) {
	return e.readLimited(ctx, name, codec.MaxMetaSize)
}

// entries returns what the listing shows in folder, as a folder listing
// would (files only: the listing names every file below it), and
// whether the listing can tell; a folder it does not show did not exist.
func (la *listedArchive) entries(folder string) ([]os.FileInfo, bool) {
	if la == nil {
		return nil, false
	}
	f := la.folders[folder]
	if len(f) == 0 {
		return nil, true
	}
	out := make([]os.FileInfo, 0, len(f))
	for name, en := range f {
		out = append(out, listedFile{name: name, en: en})
	}
	return out, true
}

// dataDiffers reports whether the listing shows it's data.csv with other
// content than export would write (then nothing needs to read it).
func (la *listedArchive) dataDiffers(it exportItem) bool {
	if la == nil {
		return false
	}
	df, ok := la.folders[it.folder][DataFile]
	return ok && (df.Size != it.size() || !la.hashIs(it, df.Hash))
}

// dataSame reports whether the listing shows it's data.csv with exactly
// the content export would write (then only meta.json may need writing).
func (la *listedArchive) dataSame(it exportItem) bool {
	if la == nil {
		return false
	}
	df, ok := la.folders[it.folder][DataFile]
	return ok && df.Size == it.size() && la.hashIs(it, df.Hash)
}

// listedFile is a file of the listing as an os.FileInfo.
type listedFile struct {
	name string
	en   storage.Entry
}

func (f listedFile) Name() string       { return f.name }
func (f listedFile) Size() int64        { return f.en.Size }
func (f listedFile) Mode() os.FileMode  { return 0o644 }
func (f listedFile) ModTime() time.Time { return f.en.ModTime }
func (f listedFile) IsDir() bool        { return false }
func (f listedFile) Sys() any           { return nil }
