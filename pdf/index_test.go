package pdf

import (
	"encoding/json"
	"testing"
	"time"
)

// Same: the same entries in another order, with times in another zone
// or read back from the index's JSON, are the same index; a change of
// any field, or an entry more, is not.
func TestIndexSame(t *testing.T) {
	mod := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)
	a := Entry{RecordID: 2, AuftragNr: "000002", Path: "2024/000002/a.pdf", Position: "2024/000002/a.pdf",
		Size: 10, ModTime: mod, Hash: "ab", SHA256: "cd"}
	b := Entry{RecordID: 1, AuftragNr: "000001", Path: "x/1.pdf", Position: "2024/000001/1.pdf",
		Size: 20, ModTime: mod.Add(time.Hour), Hash: "ef", SHA256: "01", LockedUntil: mod.AddDate(0, 2, 0)}
	idx := Index{Version: 1, Entries: []Entry{a, b}}

	var back Index
	data, err := idx.encode()
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	zoned := b
	zoned.ModTime = b.ModTime.In(time.FixedZone("MEZ", 3600))
	withMono := a
	withMono.ModTime = time.Now()
	withMono.ModTime = withMono.ModTime.Add(mod.Sub(withMono.ModTime)) // mod, with a monotonic reading
	for name, other := range map[string]Index{
		"read back":      back,
		"other order":    {Entries: []Entry{b, a}},
		"other zone":     {Entries: []Entry{a, zoned}},
		"monotonic time": {Entries: []Entry{withMono, b}},
	} {
		if !idx.Same(other) {
			t.Errorf("%s: not the same", name)
		}
	}
	for name, change := range map[string]func(e *Entry){
		"record_id":    func(e *Entry) { e.RecordID = 3 },
		"auftrag_nr":   func(e *Entry) { e.AuftragNr = "000003" },
		"path":         func(e *Entry) { e.Path = "y.pdf" },
		"position":     func(e *Entry) { e.Position = "2024/000002/b.pdf" },
		"size":         func(e *Entry) { e.Size++ },
		"time":         func(e *Entry) { e.ModTime = e.ModTime.Add(time.Nanosecond) },
		"hash":         func(e *Entry) { e.Hash = "ac" },
		"sha256":       func(e *Entry) { e.SHA256 = "ce" },
		"locked until": func(e *Entry) { e.LockedUntil = mod },
	} {
		c := a
		change(&c)
		if idx.Same(Index{Entries: []Entry{c, b}}) {
			t.Errorf("%s changed: still the same", name)
		}
	}
	if idx.Same(Index{Entries: []Entry{a}}) || idx.Same(Index{Entries: []Entry{a, b, {RecordID: 9}}}) {
		t.Error("another number of entries: the same")
	}
}
