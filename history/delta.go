package history

import (
	"slices"
	"sort"
)

// searchEntry finds recordID in entries sorted by RecordID.
func searchEntry(entries []Entry, recordID int64) (int, bool) {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].RecordID >= recordID })
	return i, i < len(entries) && entries[i].RecordID == recordID
}

// applyDelta returns base with upserts put in and deleted taken out; all
// three are sorted by record_id. base is not modified; an empty delta
// returns base itself (an unchanged night costs no copy of the entries),
// so neither may be modified afterwards.
func applyDelta(base, upserts []Entry, deleted []int64) []Entry {
	if len(upserts) == 0 && len(deleted) == 0 {
		return base[:len(base):len(base)]
	}
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
	pdfChanged              int // kept records whose PDF changed (pdfChanged)
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
			if pdfChanged(prev[i].Record, next[j].Record) {
				d.pdfChanged++
			}
			i++
			j++
		}
	}
	return d
}

// squash combines deltas, newest first, into one delta with the same
// effect, so that a long chain costs one pass over the full generation
// instead of one per delta.
func squash(deltas []*genFile) ([]Entry, []int64) {
	if len(deltas) == 1 {
		return deltas[0].Upserts, deltas[0].Deleted
	}
	type change struct {
		e       Entry
		deleted bool
	}
	last := map[int64]change{}
	for _, d := range deltas { // newest first: the first word on an id stands
		for _, e := range d.Upserts {
			if _, ok := last[e.RecordID]; !ok {
				last[e.RecordID] = change{e: e}
			}
		}
		for _, id := range d.Deleted {
			if _, ok := last[id]; !ok {
				last[id] = change{deleted: true}
			}
		}
	}
	ids := make([]int64, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var up []Entry
	var del []int64
	for _, id := range ids {
		if c := last[id]; c.deleted {
			del = append(del, id)
		} else {
			up = append(up, c.e)
		}
	}
	return up, del
}
