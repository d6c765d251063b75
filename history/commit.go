package history

import (
	"context"
	"fmt"
	"path"
	"time"

	"werkstatt-backup/storage"
)

// ContentFunc returns the data.csv bytes of r. Commit asks only for
// contents the history does not have yet, one after another; export has
// the bytes of every record it encoded in memory, so nothing needs to be
// read back. The bytes are checked against r.Hash and r.Size.
type ContentFunc func(r Record) ([]byte, error)

// CommitResult says what Commit wrote.
type CommitResult struct {
	Info        GenerationInfo
	NewContents int   // contents stored in this generation's pack
	Bytes       int64 // bytes written (pack and generation file)
	// Unlocked is set when the store has Object Lock and a file of the
	// new generation could not be retained for the lock period: the
	// generation is written, but not immutable.
	Unlocked error
	// PrevDamaged is set when the newest generation could not be loaded:
	// the new one was then written in full, with every content, so it does
	// not depend on the damage. Check names what is broken.
	PrevDamaged error
}

// Commit records records, the whole table as the export just backed it
// up, as a new generation. It writes at most two files: a pack with the
// contents no earlier generation has, then the generation file (a delta
// against the newest generation, or a full one, see doc.go). An unchanged
// table writes one small file. The caller holds the archive lock.
//
// A content whose pack file is missing is stored again, so the damage does
// not carry over into the new generation.
func (s *Store) Commit(ctx context.Context, records []Record, content ContentFunc) (CommitResult, error) {
	return s.commit(ctx, records, content, false)
}

// Repair is Commit that trusts nothing already stored: it writes a full
// generation and stores every content again. After Check found damage,
// the next export calls it, so that at least the newest generation is
// whole again whatever else is broken.
func (s *Store) Repair(ctx context.Context, records []Record, content ContentFunc) (CommitResult, error) {
	return s.commit(ctx, records, content, true)
}

func (s *Store) commit(ctx context.Context, records []Record, content ContentFunc, repair bool) (CommitResult, error) {
	var res CommitResult
	recs, err := validateRecords(records)
	if err != nil {
		return res, err
	}
	l, err := s.scan(ctx)
	if err != nil {
		return res, err
	}
	s.removeTemps(ctx, l)
	var (
		prev  *Snapshot
		st    chainStats
		seq   uint64 = 1
		known        = map[Hash]uint64{}
	)
	if head, ok := l.head(); ok {
		seq = head.seq + 1
		if c := s.head; c != nil && c.ref == head && !repair {
			prev, st = c.snap, c.st
		} else {
			prev, st, err = s.load(ctx, l, head)
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.PrevDamaged, prev = err, nil
		}
	}
	if !l.dirs {
		if err := s.ensureDirs(ctx); err != nil {
			return res, err
		}
	}
	if prev != nil && !repair {
		for _, e := range prev.Entries {
			if _, ok := l.packs[e.Pack]; ok {
				known[e.Hash] = e.Pack
			}
		}
	}
	entries := make([]Entry, len(recs))
	var (
		blobs []blob
		fresh []string
	)
	for i, r := range recs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		p, ok := known[r.Hash]
		if !ok {
			data, err := content(r)
			if err != nil {
				return res, fmt.Errorf("Historie: Inhalt von record_id %d (%s) holen: %w", r.RecordID, r.Folder, err)
			}
			if Sum(data) != r.Hash || int64(len(data)) != r.Size {
				return res, fmt.Errorf("Historie: Inhalt von record_id %d (%s) passt nicht zu Prüfsumme/Größe (%s, %d Bytes)",
					r.RecordID, r.Folder, r.Hash, r.Size)
			}
			p = seq
			known[r.Hash] = p
			blobs = append(blobs, blob{hash: r.Hash, data: data})
		}
		entries[i] = Entry{Record: r, Pack: p}
	}
	if len(blobs) > 0 {
		data := encodePack(blobs)
		if err := s.writeFile(ctx, path.Join(packDir, packName(seq)), data); err != nil {
			return res, err
		}
		fresh = append(fresh, path.Join(packDir, packName(seq)))
		if err := s.syncDir(ctx, packDir); err != nil {
			return res, err
		}
		res.NewContents, res.Bytes = len(blobs), int64(len(data))
	}
	if repair {
		st.deltas = s.maxChain // written in full
	}
	g := s.encodeNext(seq, prev, st, entries)
	info, n, err := s.writeGen(ctx, g, nil)
	if err != nil {
		return res, err
	}
	res.Info, res.Bytes = info, res.Bytes+n
	s.head = nil // the newest generation is now another one
	if s.lock {
		var chain []string
		if !g.full() {
			chain = st.files
		}
		res.Unlocked = s.retainGeneration(ctx, info, append(fresh, info.File), chain, entries)
	}
	return res, nil
}

// encodeNext builds generation seq holding entries, as a delta against
// prev when that is worth it: the chain stays at most maxChain deltas long
// and the deltas since the last full generation hold fewer entries than a
// full one would (then loading reads at most about twice a full
// generation, and the history stores at most about twice the deltas).
func (s *Store) encodeNext(seq uint64, prev *Snapshot, st chainStats, entries []Entry) *genFile {
	g := &genFile{Seq: seq, ClientTime: s.now(), Records: len(entries)}
	var d diffStats
	if prev != nil {
		d = diff(prev.Entries, entries)
		g.Prev = prev.Info.Seq
	} else {
		d = diffStats{added: len(entries)}
	}
	g.Added, g.Changed, g.Removed = d.added, d.changed, d.removed
	size := len(d.upserts) + len(d.deleted)
	if prev != nil && st.deltas+1 <= s.maxChain && st.entries+size < len(entries) {
		g.Parent, g.Upserts, g.Deleted = prev.Info.Seq, d.upserts, d.deleted
	} else {
		g.Upserts = entries
	}
	return g
}

// writeGen writes a generation file. A new one (at == nil) is first
// written to a temp file, whose modification time, given by the archive,
// becomes part of its name; a rewrite keeps the name it has.
func (s *Store) writeGen(ctx context.Context, g *genFile, at *genRef) (GenerationInfo, int64, error) {
	data := encodeGen(g)
	if at != nil {
		if err := s.writeFile(ctx, at.file, data); err != nil {
			return GenerationInfo{}, 0, err
		}
		return at.info(g), int64(len(data)), nil
	}
	if err := s.fence(); err != nil {
		return GenerationInfo{}, 0, err
	}
	tmp := path.Join(genDir, fmt.Sprintf("%010d%s", g.Seq, tmpSuffix))
	if _, err := s.arch.WriteFile(ctx, tmp, data, storage.WriteOpts{Sync: true}); err != nil {
		return GenerationInfo{}, 0, fmt.Errorf("Historie: %w", err)
	}
	clean := context.WithoutCancel(ctx)
	fi, err := s.arch.Stat(ctx, tmp)
	if err != nil {
		_ = s.arch.Remove(clean, tmp, storage.Always)
		return GenerationInfo{}, 0, &FileError{Path: tmp, Op: "Zeit lesen", Err: err}
	}
	mtime := fi.ModTime()
	if mtime.Year() < 2000 { // a backend without modification times
		mtime = g.ClientTime
	}
	ref := genRef{seq: g.Seq, archiveTime: mtime.UTC().Truncate(time.Millisecond)}
	ref.file = path.Join(genDir, genName(g.Seq, ref.archiveTime))
	if err := s.fence(); err != nil {
		_ = s.arch.Remove(clean, tmp, storage.Always)
		return GenerationInfo{}, 0, err
	}
	if err := s.arch.Rename(ctx, tmp, ref.file); err != nil {
		_ = s.arch.Remove(clean, tmp, storage.Always)
		return GenerationInfo{}, 0, fmt.Errorf("Historie: %s nach %s umbenennen: %w", tmp, ref.file, err)
	}
	if err := s.syncDir(ctx, genDir); err != nil {
		return GenerationInfo{}, 0, err
	}
	return ref.info(g), int64(len(data)), nil
}
