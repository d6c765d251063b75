package history

import (
	"fmt"
	"time"
)

// genMagic starts every generation file; the digit is the format version.
const genMagic = "WBHGEN1\n"

// genFile is one generation file's content. A full generation lists every
// entry; a delta lists the entries added or changed since its parent and
// the record_ids removed since. Prev is the generation the counts compare
// with (the one before it when it was written, or after a forget the one
// before it now); for a delta it is also the parent.
type genFile struct {
	Seq        uint64
	Parent     uint64 // 0: full
	Prev       uint64 // 0: none
	ClientTime time.Time
	Records    int
	Added      int
	Changed    int
	Removed    int
	Upserts    []Entry // sorted by RecordID
	Deleted    []int64 // sorted
}

func (g *genFile) full() bool { return g.Parent == 0 }

// The body of a generation file, in order (u = uvarint, v = varint,
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
	}
	e.uvarint(uint64(len(g.Deleted)))
	last = 0
	for _, id := range g.Deleted {
		e.uvarint(uint64(id - last))
		last = id
	}
	return seal(genMagic, e.b)
}

// decodeGen parses a generation file and checks that it is consistent in
// itself (ids strictly ascending and positive, parent before it).
func decodeGen(file []byte) (*genFile, error) {
	r, err := unseal(genMagic, file)
	if err != nil {
		return nil, err
	}
	d, err := inflate(r)
	if err != nil {
		return nil, err
	}
	schemas := map[string]string{}
	g := &genFile{Seq: d.uvarint(), Parent: d.uvarint(), Prev: d.uvarint()}
	g.ClientTime = time.Unix(0, d.varint())
	for _, p := range []*int{&g.Records, &g.Added, &g.Changed, &g.Removed} {
		*p = d.count(maxEntries, "Anzahl")
	}
	n := d.count(maxEntries, "Anzahl der Einträge")
	if d.err == nil {
		g.Upserts = make([]Entry, 0, min(n, 1<<16))
	}
	var last int64
	for i := 0; i < n && d.err == nil; i++ {
		var x Entry
		x.RecordID = last + int64(d.uvarint())
		x.AuftragNr = d.str(nil)
		x.Folder = d.str(nil)
		d.full(x.Hash[:])
		x.Size = int64(d.uvarint())
		x.Schema = d.str(schemas)
		x.Pack = d.uvarint()
		if d.err == nil && (x.RecordID <= last || x.Size < 0 || x.Pack == 0 || x.Pack > g.Seq) {
			d.fail(fmt.Errorf("Eintrag %d (record_id %d) ist widersprüchlich", i+1, x.RecordID))
		}
		last = x.RecordID
		g.Upserts = append(g.Upserts, x)
	}
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
	d.end()
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case g.Seq == 0 || g.Parent >= g.Seq || g.Prev >= g.Seq:
		return nil, fmt.Errorf("Generation %d: Vorgänger %d/%d passt nicht", g.Seq, g.Parent, g.Prev)
	case g.full() && len(g.Deleted) > 0:
		return nil, fmt.Errorf("Generation %d ist vollständig, nennt aber entfernte Einträge", g.Seq)
	case g.full() && len(g.Upserts) != g.Records:
		return nil, fmt.Errorf("Generation %d nennt %d Einträge statt %d", g.Seq, len(g.Upserts), g.Records)
	}
	return g, nil
}
