package history

import "sort"

// searchEntry finds recordID in entries sorted by RecordID.
func searchEntry(entries []Entry, recordID int64) (int, bool) {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].RecordID >= recordID })
	return i, i < len(entries) && entries[i].RecordID == recordID
}

// applyDelta returns base with upserts put in and deleted taken out; all
// three are sorted by record_id. base is not modified.
func applyDelta(base, upserts []Entry, deleted []int64) []Entry {
	out := make([]Entry, 0, len(base)+len(upserts))
	i, j, k := 0, 0, 0
	for i < len(base) || j < len(upserts) {
		switch {
		case j == len(upserts) || i < len(base) && base[i].RecordID < upserts[j].RecordID:
			id := base[i].RecordID
			for k < len(deleted) && deleted[k] < id {
				k++
			}
			if k == len(deleted) || deleted[k] != id {
				out = append(out, base[i])
			}
			i++
		case i == len(base) || upserts[j].RecordID < base[i].RecordID:
			out = append(out, upserts[j])
			j++
		default: // same id: the upsert replaces it
			out = append(out, upserts[j])
			i++
			j++
		}
	}
	return out
}

// diffStats compare two snapshots the user's way: which records are new,
// which have another backup, which are gone.
type diffStats struct {
	added, changed, removed int
	upserts                 []Entry
	deleted                 []int64
}

// diff returns what turns prev into next (both sorted by RecordID).
func diff(prev, next []Entry) diffStats {
	var d diffStats
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		switch {
		case j == len(next) || i < len(prev) && prev[i].RecordID < next[j].RecordID:
			d.removed++
			d.deleted = append(d.deleted, prev[i].RecordID)
			i++
		case i == len(prev) || next[j].RecordID < prev[i].RecordID:
			d.added++
			d.upserts = append(d.upserts, next[j])
			j++
		default:
			if prev[i] != next[j] {
				d.upserts = append(d.upserts, next[j])
			}
			if !sameRecord(prev[i], next[j]) {
				d.changed++
			}
			i++
			j++
		}
	}
	return d
}
