package backup

import (
	"cmp"
	"slices"
	"strings"

	"werkstatt-backup/codec"
	"werkstatt-backup/history"
)

// candidate is one row of a valid backup, a possible source for its record.
// A restore holds one for every order: its identity is read from the row
// when asked (id), not kept beside it (72 bytes instead of 136).
type candidate struct {
	file *backupFile
	rid  int64 // record_id, what choose sorts and groups by
	row  int32
	cur  codec.Codec // the current schema version, the row's
	// pdf: restore --at, the order's PDF its generation records (zero:
	// none, or a generation that records no PDFs).
	pdf history.Hash
}

// newCandidate is row i of f, a backup in the current schema version cur.
func newCandidate(cur codec.Codec, f *backupFile, i int) candidate {
	c := candidate{file: f, row: int32(i), cur: cur}
	c.rid = c.id().RecordID
	return c
}

func (c candidate) vals() []string { return c.file.rows[c.row].values() }

// id is the row's identity; its strings are parts of the row's.
func (c candidate) id() codec.Identity { return c.cur.Identity(c.vals()) }

// choose picks, for every record_id found in valid backups, the copy restore
// takes, and warns about each record that has several copies, naming all of
// them, the chosen one and why (SPEC 3: newest updated_at, then newest
// exported_at, then the folder matching file_path, then path order).
// The result is sorted by record_id. Copies are grouped by sorting one
// slice, not in a map of slices: for 100,000 orders that is one allocation
// instead of 100,000, at the point where a restore needs the most memory.
func (e *Engine) choose(r *Report, files []*backupFile) []candidate {
	cur := e.Schema.Codecs.Current()
	n := 0
	for _, f := range files {
		if f.valid {
			n += len(f.rows)
		}
	}
	all := make([]candidate, 0, n)
	for _, f := range files {
		if !f.valid {
			continue
		}
		for i := range f.rows {
			all = append(all, newCandidate(cur, f, i))
		}
	}
	slices.SortFunc(all, func(a, b candidate) int { return cmp.Compare(a.rid, b.rid) })
	chosen := all[:0] // overwrites only groups already decided
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].rid == all[i].rid {
			j++
		}
		cs := all[i:j]
		if len(cs) > 1 {
			r.count(&r.Folders.Duplicates, len(cs)-1)
			slices.SortFunc(cs, func(a, b candidate) int { c, _ := preference(a, b); return c })
			_, why := preference(cs[0], cs[1])
			paths := make([]string, len(cs))
			for k, c := range cs {
				paths[k] = c.file.dataPath()
			}
			r.warnf("", cs[0].rid, "mehrfach gesichert in %s; Restore nimmt %s (%s)",
				strings.Join(paths, ", "), cs[0].file.dataPath(), why)
		}
		chosen = append(chosen, cs[0])
		i = j
	}
	return chosen
}

// preference orders two copies of one record, the preferred first (-1 when a
// wins), and says which rule decided.
func preference(a, b candidate) (int, string) {
	if c := cmpTime(a.id().UpdatedAt, b.id().UpdatedAt); c != 0 {
		return -c, "neuestes updated_at"
	}
	if c := cmpTime(a.file.meta.ExportedAt, b.file.meta.ExportedAt); c != 0 {
		return -c, "gleiches updated_at, zuletzt exportiert"
	}
	am, bm := a.inOwnFolder(), b.inOwnFolder()
	if am != bm {
		if am {
			return -1, "gleiche Zeitstempel, Ordner passt zu file_path"
		}
		return 1, "gleiche Zeitstempel, Ordner passt zu file_path"
	}
	if c := cmp.Compare(a.file.dataPath(), b.file.dataPath()); c != 0 {
		return c, "gleiche Zeitstempel, erster Pfad in Sortierreihenfolge"
	}
	return cmp.Compare(a.row, b.row), "gleiche Zeitstempel, erste Zeile der Datei"
}

func (c candidate) inOwnFolder() bool {
	f, err := Folder(c.id())
	return err == nil && f == c.file.dir
}

// cmpTime compares two timestamps as times, in every form Python's
// fromisoformat reads (SQLite's "2024-07-29 10:00:00", a date alone, …); an
// empty or unparsable one is older than any real one. A naive time (no
// offset) counts as UTC, also against one with an offset: SQLite's
// CURRENT_TIMESTAMP is UTC, and the order must not depend on the machine's
// time zone. Equal instants are a tie, whatever their spelling.
func cmpTime(a, b string) int {
	ta, _, oka := codec.ParseTimestamp(a)
	tb, _, okb := codec.ParseTimestamp(b)
	switch {
	case oka && okb:
		return ta.Compare(tb)
	case oka:
		return 1
	case okb:
		return -1
	}
	return 0
}
