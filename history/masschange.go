package history

import "sort"

// MassChange compares the newest generation with the backups a proposed
// export would make.
type MassChange struct {
	Total   int // records in the newest generation
	Changed int // of those, records whose backup would change
	Removed int // of those, records that would no longer be backed up
	Added   int // new records (not counted as a change)
}

// Share is (Changed+Removed)/Total, 0 for an empty history: the first
// export of an archive is not a mass change.
func (m MassChange) Share() float64 {
	if m.Total == 0 {
		return 0
	}
	return float64(m.Changed+m.Removed) / float64(m.Total)
}

// Exceeds reports whether the share is above limit (0.25 for 25 %); a
// limit of 0 or less switches the guard off.
func (m MassChange) Exceeds(limit float64) bool { return limit > 0 && m.Share() > limit }

// CompareTo computes the mass change from prev (the newest generation, nil
// when there is none) to next (any order; its content, folder, order
// number or schema decide whether a record changed).
func CompareTo(prev *Snapshot, next []Record) MassChange {
	var m MassChange
	if prev == nil {
		m.Added = len(next)
		return m
	}
	m.Total = len(prev.Entries)
	seen := make([]bool, len(prev.Entries))
	for _, r := range next {
		i := sort.Search(len(prev.Entries), func(i int) bool { return prev.Entries[i].RecordID >= r.RecordID })
		if i == len(prev.Entries) || prev.Entries[i].RecordID != r.RecordID {
			m.Added++
			continue
		}
		if !seen[i] && !sameRow(prev.Entries[i].Record, r) {
			m.Changed++
		}
		seen[i] = true
	}
	for _, ok := range seen {
		if !ok {
			m.Removed++
		}
	}
	return m
}
