package history

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sync"
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
	// Repaired names the packs the new generation would have reused
	// contents from that are missing or damaged: those contents were
	// stored again (from the caller, who has them from the database) in
	// this generation's pack, so the new generation does not share the
	// damage. Older generations that need them stay damaged (Check).
	Repaired []PackRepair
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
	hd, hasHead, err := s.readHead(ctx)
	if err != nil && !s.newHistory {
		return res, err
	}
	s.removeTemps(ctx, l)
	var (
		prev  *Snapshot
		st    chainStats
		reuse []uint64 // per record: the pack that holds its content already (0: none)
		link  genRef   // the generation the new one follows
	)
	// Sequence numbers are never used twice: the next one follows the
	// highest any file or the head marker ever showed.
	seq := max(l.maxSeq, hd.Max) + 1
	if href, ok := l.head(); ok {
		link = href
		if c := s.head; c != nil && c.ref == href && !repair {
			prev, st = c.snap, c.st
		} else {
			prev, st, err = s.load(ctx, l, href)
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.PrevDamaged, prev = err, nil
		}
	}
	if hasHead && !s.newHistory {
		if err := s.checkHeadMarker(hd, l, prev); err != nil {
			return res, err
		}
	}
	if !l.dirs {
		if err := s.ensureDirs(ctx); err != nil {
			return res, err
		}
	}
	if prev != nil && !repair {
		reuse = reusable(prev.Entries, recs)
		res.Repaired = s.proveKnown(ctx, l, recs, reuse)
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	entries := make([]Entry, len(recs))
	var (
		need   []int // the records whose content this generation's pack takes
		fresh  []string
		stored = map[Hash]bool{}
	)
	for i, r := range recs {
		var p uint64
		if reuse != nil {
			p = reuse[i]
		}
		if p == 0 {
			p = seq
			if !stored[r.Hash] {
				stored[r.Hash] = true
				need = append(need, i)
			}
		}
		entries[i] = Entry{Record: r, Pack: p}
	}
	stored = nil
	var (
		packFile string
		newPack  *packRef
	)
	if len(need) > 0 {
		id := newFileID()
		packFile = path.Join(packDir, packName(seq, id))
		newPack = &packRef{id: id, file: packFile}
		// The contents go into the compressor as they come: none is held
		// beside the pack (a first export of 100,000 orders: 30 MB).
		ps := newPackStream(seq, id, len(need))
		for _, i := range need {
			r := recs[i]
			if err := ctx.Err(); err != nil {
				ps.release()
				return res, err
			}
			data, err := content(r)
			if err != nil {
				ps.release()
				return res, fmt.Errorf("Historie: Inhalt von record_id %d (%s) holen: %w", r.RecordID, r.Folder, err)
			}
			if Sum(data) != r.Hash || int64(len(data)) != r.Size {
				ps.release()
				return res, fmt.Errorf("Historie: Inhalt von record_id %d (%s) passt nicht zu Prüfsumme/Größe (%s, %d Bytes)",
					r.RecordID, r.Folder, r.Hash, r.Size)
			}
			ps.add(data)
		}
		data := ps.finish()
		if err := s.writeNew(ctx, packFile, data); err != nil {
			return res, err
		}
		fresh = append(fresh, packFile)
		if err := s.syncDir(ctx, packDir); err != nil {
			return res, err
		}
		res.NewContents, res.Bytes = len(need), int64(len(data))
	}
	if repair {
		st.deltas = s.maxChain // written in full
	}
	g := s.encodeNext(seq, prev, st, entries)
	if prev == nil && link.seq != 0 {
		g.Prev = link.seq // damaged: the chain still names it
	}
	g.PrevFile = link.file
	g.Packs = packsOf(l, g.Upserts, newPack)
	at, err := s.archiveTime(ctx, packFile, g.ClientTime)
	if err != nil {
		return res, err
	}
	if link.seq != 0 && !at.After(link.archiveTime) && link.archiveTime.Sub(at) < time.Second {
		// A store that keeps whole seconds (S3's Last-Modified) gives two
		// generations in one second the same time: the later one is a
		// millisecond after the one before, so each time names one.
		at = link.archiveTime.Add(time.Millisecond)
	}
	g.Archive = at
	info, n, err := s.writeGen(ctx, g, false)
	if err != nil {
		return res, err
	}
	res.Info, res.Bytes = info, res.Bytes+n
	s.head = nil // the newest generation is now another one
	if err := s.writeHead(ctx, head{Seq: seq, ID: g.Origin, Hash: identOf(g, g.Archive, g.Digest), Max: seq, File: info.File, Links: hd.Links}); err != nil {
		return res, err
	}
	if s.lock {
		var chain []string
		if !g.full() {
			chain = st.files
		}
		res.Unlocked = s.retainGeneration(ctx, info, append(fresh, info.File), chain, l, entries)
	}
	return res, nil
}

// checkHeadMarker compares the head marker with the newest generation:
// the generation it names must be there and be the one it names (prev:
// the newest generation, nil if it could not be loaded). A marker behind
// the newest generation is a run stopped between the two writes.
func (s *Store) checkHeadMarker(hd head, l *listing, prev *Snapshot) error {
	newest := uint64(0)
	if href, ok := l.head(); ok {
		newest = href.seq
	}
	switch {
	case hd.Seq == 0 || hd.Seq < newest:
		return nil
	case hd.Seq > newest:
		reason := "verschwunden oder gekürzt"
		if _, ok := l.find(hd.Seq); !ok && newest == 0 {
			reason = "verschwunden"
		}
		return &LostError{Head: hd.Seq, Newest: newest, Reason: reason}
	case prev != nil && prev.ident != hd.Hash:
		return &LostError{Head: hd.Seq, Newest: newest, Reason: "die vorhandene Generation ist eine andere"}
	}
	return nil
}

// archiveTime is the time the archive gives a file written now: the
// modification time of the pack just written, or of a small probe file
// (removed again); the client's clock where the store has no times.
// Milliseconds are kept.
func (s *Store) archiveTime(ctx context.Context, written string, client time.Time) (time.Time, error) {
	name := written
	if name == "" {
		name = path.Join(genDir, "uhr-"+newFileID().String()+tmpSuffix)
		if err := s.fence(); err != nil {
			return time.Time{}, err
		}
		// A temp file under a random name, no history file: one plain write.
		if _, err := s.arch.WriteFile(ctx, name, []byte("uhr\n"), storage.WriteOpts{}); err != nil {
			return time.Time{}, &FileError{Path: name, Op: "schreiben (Uhr des Archivs)", Err: err}
		}
		defer func() { _ = s.arch.Remove(context.WithoutCancel(ctx), name, storage.Always) }()
	}
	fi, err := s.arch.Stat(ctx, name)
	if err != nil {
		return time.Time{}, &FileError{Path: name, Op: "Zeit lesen", Err: err}
	}
	t := fi.ModTime()
	if t.Year() < 2000 { // a backend without modification times
		t = client
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// packsOf lists the format-2 pack files entries need (and fresh, the one
// just written), for the generation file (genFile.Packs: those of its
// upserts; along the chain of links that covers every generation's
// entries, as a full generation's upserts are all its entries).
func packsOf(l *listing, entries []Entry, fresh *packRef) []packRef {
	var out []packRef
	seen := map[uint64]bool{}
	for _, e := range entries {
		if seen[e.Pack] {
			continue
		}
		seen[e.Pack] = true
		for _, p := range l.packs[e.Pack] {
			if !p.id.zero() {
				out = append(out, p)
			}
		}
	}
	if fresh != nil {
		out = append(out, *fresh)
	}
	return out
}

// PackRepair is a pack Commit found missing or damaged, and how many of the
// new generation's contents it stored again because of it.
type PackRepair struct {
	Path     string
	Reason   string
	Contents int
}

// reusable returns, for each of recs (sorted by RecordID), the pack of
// an entry of prev (sorted too) that holds its content, 0 for none. A
// record whose entry has the same content is matched in one pass over
// both; only for the others (changed or new) are prev's contents looked
// up by hash, so an unchanged export builds no index of every content.
func reusable(prev []Entry, recs []Record) []uint64 {
	out := make([]uint64, len(recs))
	var byHash map[Hash]uint64
	j := 0
	for i, r := range recs {
		for j < len(prev) && prev[j].RecordID < r.RecordID {
			j++
		}
		if j < len(prev) && prev[j].RecordID == r.RecordID && prev[j].Hash == r.Hash {
			out[i] = prev[j].Pack
			continue
		}
		if byHash == nil {
			byHash = make(map[Hash]uint64, len(prev))
			for _, e := range prev {
				byHash[e.Hash] = e.Pack
			}
		}
		out[i] = byHash[r.Hash]
	}
	return out
}

// proveKnown reads every pack the new generation would reuse a content of
// (reuse, per record of recs) and sets reuse to 0 for each content that is
// not there whole (its pack missing, damaged, or without it): Commit then
// stores it again. A pack whose files prove themselves by trailer and
// name (packsSealed) holds them all; any other is unpacked and its
// contents counted. A pack that cannot be read now (network, rights) is
// trusted: nothing is known to be wrong with it.
func (s *Store) proveKnown(ctx context.Context, l *listing, recs []Record, reuse []uint64) []PackRepair {
	var packs []uint64
	seen := map[uint64]bool{}
	last := uint64(0)
	for _, p := range reuse {
		if p != 0 && p != last && !seen[p] {
			seen[p] = true
			packs = append(packs, p)
		}
		last = p
	}
	slices.Sort(packs)
	reasons := make([]string, len(packs))
	trusted := make([]bool, len(packs))
	found := make([]map[Hash]bool, len(packs)) // nil: every content is there
	inParallel(len(packs), func(i int) {
		p := packs[i]
		if len(l.packs[p]) == 0 {
			reasons[i], found[i] = "fehlt", map[Hash]bool{}
			return
		}
		if s.packsSealed(ctx, p, l.packs[p]) {
			return
		}
		want := map[Hash]bool{}
		for k, q := range reuse {
			if q == p {
				want[recs[k].Hash] = false
			}
		}
		found[i] = want
		var mu sync.Mutex
		for _, pr := range l.packs[p] {
			err := s.readPack(ctx, p, pr, func(h Hash, _ []byte) error {
				mu.Lock()
				if _, ok := want[h]; ok {
					want[h] = true
				}
				mu.Unlock()
				return nil
			})
			switch {
			case err != nil && (unreadable(err) || ctx.Err() != nil):
				trusted[i] = true
			case err != nil && reasons[i] == "":
				var fe *FileError
				reasons[i] = err.Error()
				if errors.As(err, &fe) {
					reasons[i] = fe.Err.Error()
				}
			}
		}
	})
	var out []PackRepair
	for i, p := range packs {
		if trusted[i] || found[i] == nil {
			continue
		}
		lost := map[Hash]bool{}
		for k, q := range reuse {
			if q == p && !found[i][recs[k].Hash] {
				lost[recs[k].Hash] = true
				reuse[k] = 0
			}
		}
		if n := len(lost); n > 0 {
			if reasons[i] == "" {
				reasons[i] = fmt.Sprintf("%d benötigte Inhalte fehlen", n)
			}
			out = append(out, PackRepair{Path: l.packPath(p), Reason: reasons[i], Contents: n})
		}
	}
	return out
}

// encodeNext builds generation seq holding entries, as a delta against
// prev when that is worth it: the chain stays at most maxChain deltas long
// and the deltas since the last full generation hold fewer entries than a
// full one would (then loading reads at most about twice a full
// generation, and the history stores at most about twice the deltas).
func (s *Store) encodeNext(seq uint64, prev *Snapshot, st chainStats, entries []Entry) *genFile {
	g := &genFile{Seq: seq, ClientTime: s.now(), Records: len(entries), PDFs: s.pdfs}
	var d diffStats
	if prev != nil {
		d = diff(prev.Entries, entries)
		g.Prev, g.PrevHash = prev.Info.Seq, prev.ident
	} else {
		d = diffStats{added: len(entries)}
	}
	if prev != nil && !prev.digest.zero() && len(d.upserts) == 0 && len(d.deleted) == 0 {
		g.Digest = prev.digest // the same entries, every field alike (diff)
	} else {
		g.Digest = entryDigest(entries)
	}
	g.Added, g.Changed, g.Removed, g.PDFChanged = d.added, d.changed, d.removed, d.pdfChanged
	size := len(d.upserts) + len(d.deleted)
	if prev != nil && st.deltas+1 <= s.maxChain && st.entries+size < len(entries) {
		g.Parent, g.Upserts, g.Deleted = prev.Info.Seq, d.upserts, d.deleted
	} else {
		g.Upserts = entries
	}
	return g
}

// writeGen writes generation g (g.Archive set) as a new file, created
// only if absent: a new generation, or (g.Origin already set) a forget's
// rewrite of one, under a new id. It fills in ID, Origin and Digest.
func (s *Store) writeGen(ctx context.Context, g *genFile, rewrite bool) (GenerationInfo, int64, error) {
	g.V2, g.V3 = true, true
	g.ID = newFileID()
	if !rewrite {
		g.Origin = g.ID
	}
	ref := genRef{seq: g.Seq, archiveTime: g.Archive, id: g.ID}
	ref.file = path.Join(genDir, genName(g.Seq, g.Archive, g.ID))
	data := encodeGen(g)
	if err := s.writeNew(ctx, ref.file, data); err != nil {
		return GenerationInfo{}, 0, err
	}
	if err := s.syncDir(ctx, genDir); err != nil {
		return GenerationInfo{}, 0, err
	}
	return ref.info(g), int64(len(data)), nil
}
