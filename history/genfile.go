package history

import (
	"fmt"
	"path"
	"time"
)

// genMagic starts every generation file; the digit is the format version.
// Format 1 and 2 files are still read (see doc.go); new ones are format 3.
const (
	genMagicV1 = "WBHGEN1\n"
	genMagicV2 = "WBHGEN2\n"
	genMagic   = "WBHGEN3\n"
)

// genFile is one generation file's content. A full generation lists every
// entry; a delta lists the entries added or changed since its parent and
// the record_ids removed since. Prev is the generation the counts compare
// with (the one before it when it was written, or after a forget the one
// before it now); for a delta it is also the parent.
type genFile struct {
	V2         bool // format 2 or 3 (the fields below marked 2 are set)
	V3         bool // format 3 (the fields below marked 3 are set; entries carry their PDF)
	PDFs       bool // 3: the generation records each order's PDF (zero: none found)
	PDFChanged int  // 3: orders whose PDF is another than in generation Prev
	Seq        uint64
	ID         fileID    // 2: the file's id, as in its name
	Origin     fileID    // 2: the generation's id: ID, or the ID of the file a forget rewrote
	Archive    time.Time // 2: the archive's time, as in the name
	PrevHash   Hash      // 2: Ident of generation Prev (zero: none)
	Digest     Hash      // 2: entryDigest of the generation's entries
	PrevFile   string    // 2: the file of generation Prev when this one was written ("": none or format 1)
	Packs      []packRef // 2: the format-2 pack files its Upserts need
	Parent     uint64    // 0: full
	Prev       uint64    // 0: none
	ClientTime time.Time
	Records    int
	Added      int
	Changed    int
	Removed    int
	Upserts    []Entry // sorted by RecordID
	Deleted    []int64 // sorted
}

func (g *genFile) full() bool { return g.Parent == 0 }

// The body of a format-2 generation file starts with
//
//	u seq, 16 bytes id, 16 bytes origin, v archive time (Unix ms),
//	32 bytes prev hash, 32 bytes digest,
//
// and goes on like format 1 from "u parent"; after the removed record_ids
// it ends with the name of generation prev's file when it was written
// (v its archive time in Unix ms, 16 bytes its id; zero: none or format
// 1), u k, then k packs its upserts need, each u seq + 16 bytes id
// (what lets a reader find the generations and packs on a versioned store
// after their names were deleted). Format 3 is format 2 with each
// entry followed by s pdf (the SHA-256 of the order's PDF, 32 bytes, or
// empty: none or unknown), and after the packs u flags (1: the generation
// records PDFs) and u the count of orders whose PDF changed. The body of a format-1
// generation file, in order (u = uvarint, v = varint,
// s = u length + UTF-8 bytes):
//
//	u seq, u parent (0: full), u prev (0: none), v client time (Unix ns),
//	u records, u added, u changed, u removed,
//	u n, then n entries sorted by record_id:
//	    u record_id minus the previous one, s auftrag_nr, s folder,
//	    32 bytes SHA-256, u size, s schema version, u pack,
//	u m, then m removed record_ids, each minus the previous one.

// maxEntries bounds the entry count a file may claim.
const maxEntries = 1 << 26

func encodeGen(g *genFile) []byte {
	var e enc
	e.uvarint(g.Seq)
	if g.V2 {
		e.raw(g.ID[:])
		e.raw(g.Origin[:])
		e.varint(g.Archive.UnixMilli())
		e.raw(g.PrevHash[:])
		e.raw(g.Digest[:])
	}
	e.uvarint(g.Parent)
	e.uvarint(g.Prev)
	e.varint(g.ClientTime.UnixNano())
	for _, n := range []int{g.Records, g.Added, g.Changed, g.Removed} {
		e.uvarint(uint64(n))
	}
	e.uvarint(uint64(len(g.Upserts)))
	var last int64
	for _, x := range g.Upserts {
		e.uvarint(uint64(x.RecordID - last))
		last = x.RecordID
		e.str(x.AuftragNr)
		e.str(x.Folder)
		e.raw(x.Hash[:])
		e.uvarint(uint64(x.Size))
		e.str(x.Schema)
		e.uvarint(x.Pack)
		if g.V2 {
			if x.PDF.zero() {
				e.uvarint(0)
			} else {
				e.uvarint(uint64(len(x.PDF)))
				e.raw(x.PDF[:])
			}
		}
	}
	e.uvarint(uint64(len(g.Deleted)))
	last = 0
	for _, id := range g.Deleted {
		e.uvarint(uint64(id - last))
		last = id
	}
	if g.V2 {
		// the previous file's name without what the file already says:
		// its archive time and id (zero: none or format 1)
		var pt int64
		var pid fileID
		if seq, t, id, ok := parseGenName(path.Base(g.PrevFile)); ok && seq == g.Prev {
			pt, pid = t.UnixMilli(), id
		}
		e.varint(pt)
		e.raw(pid[:])
		e.uvarint(uint64(len(g.Packs)))
		for _, p := range g.Packs {
			seq, _, _ := parsePackName(path.Base(p.file))
			e.uvarint(seq)
			e.raw(p.id[:])
		}
		var flags uint64
		if g.PDFs {
			flags |= 1
		}
		e.uvarint(flags)
		e.uvarint(uint64(g.PDFChanged))
		return seal(genMagic, e.b)
	}
	return seal(genMagicV1, e.b)
}

// decodeGen parses a generation file and checks that it is consistent in
// itself (ids strictly ascending and positive, parent before it).
func decodeGen(file []byte) (*genFile, error) {
	magic := genMagic
	for _, m := range []string{genMagicV1, genMagicV2} {
		if len(file) >= len(m) && string(file[:len(m)]) == m {
			magic = m
		}
	}
	r, err := unseal(magic, file)
	if err != nil {
		return nil, err
	}
	d, err := inflateSized(r, len(file))
	if err != nil {
		return nil, err
	}
	var st strs
	g := &genFile{V2: magic != genMagicV1, V3: magic == genMagic, Seq: d.uvarint()}
	if g.V2 {
		d.full(g.ID[:])
		d.full(g.Origin[:])
		g.Archive = time.UnixMilli(d.varint()).UTC()
		d.full(g.PrevHash[:])
		d.full(g.Digest[:])
	}
	g.Parent, g.Prev = d.uvarint(), d.uvarint()
	g.ClientTime = time.Unix(0, d.varint())
	for _, p := range []*int{&g.Records, &g.Added, &g.Changed, &g.Removed} {
		*p = d.count(maxEntries, "Anzahl")
	}
	n := d.count(maxEntries, "Anzahl der Einträge")
	if d.err == nil {
		g.Upserts = make([]Entry, 0, min(n, 1<<16))
		st.ends = make([]uint32, 0, 2*min(n, 1<<16))
		st.buf = make([]byte, 0, min(24*n, len(d.b))) // an order number and a folder: about 17 bytes
	}
	var last int64
	for i := 0; i < n && d.err == nil; i++ {
		var x Entry
		x.RecordID = last + int64(d.uvarint())
		st.add(d.next(d.count(maxString, "Textlänge"))) // AuftragNr
		st.add(d.next(d.count(maxString, "Textlänge"))) // Folder
		d.full(x.Hash[:])
		x.Size = int64(d.uvarint())
		x.Schema = st.schema(d.next(d.count(maxString, "Textlänge")))
		x.Pack = d.uvarint()
		if g.V3 {
			switch d.count(maxString, "Länge des PDF-Hashs") {
			case 0:
			case len(x.PDF):
				d.full(x.PDF[:])
			default:
				d.fail(fmt.Errorf("Eintrag %d (record_id %d): PDF-Hash hat keine 32 Bytes", i+1, x.RecordID))
			}
		}
		if d.err == nil && (x.RecordID <= last || x.Size < 0 || x.Pack == 0 || x.Pack > g.Seq) {
			d.fail(fmt.Errorf("Eintrag %d (record_id %d) ist widersprüchlich", i+1, x.RecordID))
		}
		last = x.RecordID
		g.Upserts = append(g.Upserts, x)
	}
	st.fill(g.Upserts)
	n = d.count(maxEntries, "Anzahl der entfernten Einträge")
	last = 0
	for i := 0; i < n && d.err == nil; i++ {
		id := last + int64(d.uvarint())
		if d.err == nil && id <= last {
			d.fail(fmt.Errorf("entfernter Eintrag %d ist widersprüchlich", i+1))
		}
		last = id
		g.Deleted = append(g.Deleted, id)
	}
	if g.V2 {
		var pid fileID
		pt := d.varint()
		d.full(pid[:])
		if !pid.zero() && g.Prev != 0 {
			g.PrevFile = path.Join(genDir, genName(g.Prev, time.UnixMilli(pt), pid))
		}
		n = d.count(maxEntries, "Anzahl der Packs")
		for i := 0; i < n && d.err == nil; i++ {
			var p packRef
			seq := d.uvarint()
			d.full(p.id[:])
			p.file = path.Join(packDir, packName(seq, p.id))
			g.Packs = append(g.Packs, p)
		}
	}
	if g.V3 {
		flags := d.uvarint()
		g.PDFs = flags&1 != 0
		g.PDFChanged = d.count(maxEntries, "Anzahl der geänderten PDFs")
		if d.err == nil && flags > 1 {
			d.fail(fmt.Errorf("unbekannte Kennzeichen %#x", flags))
		}
	}
	d.end()
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case g.Seq == 0 || g.Parent >= g.Seq || g.Prev >= g.Seq:
		return nil, fmt.Errorf("Generation %d: Vorgänger %d/%d passt nicht", g.Seq, g.Parent, g.Prev)
	case g.V2 && g.ID.zero():
		return nil, fmt.Errorf("Generation %d: Kennung fehlt", g.Seq)
	case g.full() && len(g.Deleted) > 0:
		return nil, fmt.Errorf("Generation %d ist vollständig, nennt aber entfernte Einträge", g.Seq)
	case g.full() && len(g.Upserts) != g.Records:
		return nil, fmt.Errorf("Generation %d nennt %d Einträge statt %d", g.Seq, len(g.Upserts), g.Records)
	}
	return g, nil
}

// strs collects the order numbers and folders of a generation's entries
// in one buffer, which becomes one string that every entry's two strings
// are cut from: one allocation for all of them instead of two an entry
// (a third of decoding a full generation went to allocating them). The
// few schema versions are shared.
type strs struct {
	buf     []byte
	ends    []uint32 // where each string ends in buf
	schemas []string
}

func (s *strs) add(p []byte) {
	s.buf = append(s.buf, p...)
	s.ends = append(s.ends, uint32(len(s.buf)))
}

func (s *strs) schema(p []byte) string {
	for _, v := range s.schemas {
		if v == string(p) {
			return v
		}
	}
	v := string(p)
	if len(s.schemas) < 16 {
		s.schemas = append(s.schemas, v)
	}
	return v
}

// fill sets AuftragNr and Folder of entries, in the order added.
func (s *strs) fill(entries []Entry) {
	all := string(s.buf)
	start := uint32(0)
	for i := range entries {
		if 2*i+1 >= len(s.ends) {
			return // the decoder failed before this entry's strings
		}
		entries[i].AuftragNr = all[start:s.ends[2*i]]
		entries[i].Folder = all[s.ends[2*i]:s.ends[2*i+1]]
		start = s.ends[2*i+1]
	}
}
