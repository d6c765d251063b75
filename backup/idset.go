package backup

import "slices"

// idSet is a set of record_ids as one sorted slice: 8 bytes a record,
// where a map[int64]bool takes about five times that and a pointer-free
// slice costs the garbage collector nothing to scan. Build it with add,
// then seal it once before the first has or len.
type idSet struct {
	ids    []int64
	sealed bool
}

func (s *idSet) add(id int64) { s.ids = append(s.ids, id) }

// seal sorts the set and drops repeated ids (a table may hold a
// record_id twice).
func (s *idSet) seal() {
	slices.Sort(s.ids)
	s.ids = slices.Compact(s.ids)
	s.ids = slices.Clip(s.ids)
	s.sealed = true
}

func (s *idSet) has(id int64) bool {
	if !s.sealed {
		panic("idSet.has before seal") // a programming error, never the user's input
	}
	_, ok := slices.BinarySearch(s.ids, id)
	return ok
}

func (s *idSet) len() int { return len(s.ids) }
