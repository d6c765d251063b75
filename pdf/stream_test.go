package pdf

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// streamEntries are n entries in record_id order, as export writes them.
func streamEntries(n int) []Entry {
	mod := time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC)
	es := make([]Entry, n)
	for i := range es {
		nr := fmt.Sprintf("%06d", 100+i)
		es[i] = Entry{RecordID: int64(10 + 3*i), AuftragNr: nr, Path: "2024/" + nr + "/a<&>.pdf", Position: "2024/" + nr + "/a.pdf",
			Size: int64(1000 + i), ModTime: mod.Add(time.Duration(i) * time.Minute),
			Hash: strings.Repeat("ab", 32), SHA256: fmt.Sprintf("%064x", i+1), Bad: i%5 == 1}
		if i%4 == 0 {
			es[i].LockedUntil = mod.AddDate(0, 3, 0)
		}
	}
	return es
}

// archives are the two ways IndexWriter writes: a temp file renamed (a
// disk, SMB), and held and written whole (an object store).
func archives() map[string]func() *storage.Archive {
	return map[string]func() *storage.Archive{
		"rename": func() *storage.Archive {
			return &storage.Archive{Fs: afero.NewMemMapFs(), Caps: storage.Capabilities{AtomicRename: true}}
		},
		"atomic write": func() *storage.Archive {
			return &storage.Archive{Fs: afero.NewMemMapFs(), Caps: storage.Capabilities{AtomicWrite: true, ImplicitDirs: true}}
		},
	}
}

// TestIndexWriterSameBytes: the index written as a stream has the bytes
// Index.SaveFile writes (old binaries and old archives read it as
// before), with entries and without, and reads back entry by entry.
func TestIndexWriterSameBytes(t *testing.T) {
	ctx := context.Background()
	for name, mk := range archives() {
		for _, n := range []int{0, 1, 7} {
			a, b := mk(), mk()
			es := streamEntries(n)
			if n == 0 {
				es = nil // as export's index of no PDFs was: "auftraege":null
			}
			if err := (Index{Entries: es}).SaveFile(ctx, a, SeenFile, SeenTemp); err != nil {
				t.Fatal(err)
			}
			w, err := CreateIndex(ctx, b, SeenFile, SeenTemp)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				if err := w.Add(e); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			want, _ := afero.ReadFile(a.Fs, SeenFile)
			got, _ := afero.ReadFile(b.Fs, SeenFile)
			if !bytes.Equal(got, want) {
				t.Fatalf("%s, %d entries: streamed\n%s\nwant\n%s", name, n, got, want)
			}
			if _, err := b.Fs.Stat(SeenTemp); err == nil {
				t.Fatalf("%s: temp file left", name)
			}
			back, ok, err := ReadIndexFile(ctx, b, SeenFile, func(e Entry) Entry { return e })
			if err != nil || !ok || !(Index{Entries: back}).Same(Index{Entries: es}) {
				t.Fatalf("%s, %d entries: read back %v %v %+v", name, n, ok, err, back)
			}
		}
	}
}

// TestIndexReaderRefuses: a damaged index ends the reading with an error
// naming the file and the reason, after the good entries before the
// damage; one without entries, or with its members in another order, is
// read as json.Unmarshal reads it.
func TestIndexReaderRefuses(t *testing.T) {
	ctx := context.Background()
	good := func(id int64, sum string) string {
		return fmt.Sprintf(`{"record_id":%d,"auftrag_nr":"%06d","sha256":%q}`, id, id, sum)
	}
	s1, s2 := strings.Repeat("1", 64), strings.Repeat("2", 64)
	for _, c := range []struct {
		name, text string
		entries    int
		want       string // "" = no error
	}{
		{"sorted", `{"version":1,"auftraege":[` + good(1, s1) + "," + good(1, s2) + "," + good(2, s1) + `]}`, 3, ""},
		{"no entries", `{"version":1,"auftraege":null}`, 0, ""},
		{"empty list", `{"auftraege":[],"version":1}`, 0, ""},
		{"version after", `{"auftraege":[` + good(1, s1) + `],"version":1,"x":{"y":[1]}}`, 1, ""},
		{"unsorted", `{"version":1,"auftraege":[` + good(2, s1) + "," + good(1, s2) + `]}`, 1, "nicht nach record_id sortiert"},
		{"no sha", `{"version":1,"auftraege":[` + good(1, s1) + "," + good(2, "xyz") + `]}`, 1, "ist kein SHA-256"},
		{"cut off", `{"version":1,"auftraege":[` + good(1, s1) + "," + good(2, s2)[:20], 1, "kein gültiges JSON"},
		{"no end", `{"version":1,"auftraege":[` + good(1, s1) + `]`, 1, "kein gültiges JSON"},
		{"wrong type", `{"version":1,"auftraege":[` + good(1, s1) + `,{"record_id":"7"}]}`, 1, "kein gültiges JSON"},
		{"not a list", `{"version":1,"auftraege":{}}`, 0, "keine Liste"},
		{"not an object", `[1,2]`, 0, "kein gültiges JSON"},
		{"trailing", `{"version":1,"auftraege":null} {}`, 0, "Daten nach dem Ende"},
	} {
		a := &storage.Archive{Fs: afero.NewMemMapFs()}
		if err := afero.WriteFile(a.Fs, IndexFile, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		r, ok, err := OpenIndex(ctx, a, IndexFile)
		n := 0
		if err == nil {
			for {
				if _, more := r.Next(); !more {
					break
				}
				n++
			}
			err = r.Err()
			r.Close()
		}
		switch {
		case c.want == "" && (err != nil || !ok):
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), IndexFile)):
			t.Errorf("%s: error %v, want one naming %s and %q", c.name, err, IndexFile, c.want)
		case n != c.entries:
			t.Errorf("%s: %d entries read, want %d", c.name, n, c.entries)
		}
	}
	a := &storage.Archive{Fs: afero.NewMemMapFs()}
	if r, ok, err := OpenIndex(ctx, a, IndexFile); r != nil || ok || err != nil {
		t.Fatalf("no index: %v %v %v", r, ok, err)
	}
}

// TestUpdate: the new index replaces the old only when it differs (an
// entry changed, added, dropped, the old one unreadable), and then holds
// exactly the entries put; the same entries (times as instants) write
// nothing.
func TestUpdate(t *testing.T) {
	ctx := context.Background()
	old := streamEntries(9)
	for name, change := range map[string]func(es []Entry) []Entry{
		"same":          func(es []Entry) []Entry { return es },
		"other zone":    func(es []Entry) []Entry { es[4].ModTime = es[4].ModTime.In(time.FixedZone("MEZ", 3600)); return es },
		"first changed": func(es []Entry) []Entry { es[0].Size++; return es },
		"middle":        func(es []Entry) []Entry { es[5].SHA256 = strings.Repeat("f", 64); return es },
		"last dropped":  func(es []Entry) []Entry { return es[:8] },
		"one dropped":   func(es []Entry) []Entry { return append(es[:3], es[4:]...) },
		"one more":      func(es []Entry) []Entry { e := es[8]; e.RecordID++; return append(es, e) },
		"between": func(es []Entry) []Entry {
			e := es[2]
			e.RecordID++
			return append(es[:3], append([]Entry{e}, es[3:]...)...)
		},
		"none": func([]Entry) []Entry { return nil },
	} {
		for aname, mk := range archives() {
			a := mk()
			if err := (Index{Entries: old}).SaveFile(ctx, a, IndexFile, IndexTemp); err != nil {
				t.Fatal(err)
			}
			before, _ := afero.ReadFile(a.Fs, IndexFile)
			next := change(streamEntries(9))
			u := NewUpdate(ctx, a, IndexFile, IndexTemp, true)
			// Every row asks for its last entry, then puts its new one.
			for _, e := range next {
				if prev, ok := u.Prev(e.RecordID); ok {
					u.Put(&prev, &e)
				} else {
					u.Put(nil, &e)
				}
			}
			written, err := u.Finish()
			if err != nil {
				t.Fatal(err)
			}
			same := name == "same" || name == "other zone"
			if written == same {
				t.Errorf("%s, %s: written %v", name, aname, written)
			}
			after, _ := afero.ReadFile(a.Fs, IndexFile)
			if same && !bytes.Equal(after, before) {
				t.Errorf("%s, %s: index rewritten", name, aname)
			}
			want := mk()
			if err := (Index{Entries: next}).SaveFile(ctx, want, IndexFile, IndexTemp); err != nil {
				t.Fatal(err)
			}
			if wantBytes, _ := afero.ReadFile(want.Fs, IndexFile); !same && !bytes.Equal(after, wantBytes) {
				t.Errorf("%s, %s: index\n%s\nwant\n%s", name, aname, after, wantBytes)
			}
		}
	}
}

// TestUpdateOldUnreadable: an old index damaged after its third entry
// gives those three (ReadErr says why and how far), the rest are new,
// and the new index replaces it whole.
func TestUpdateOldUnreadable(t *testing.T) {
	ctx := context.Background()
	a := &storage.Archive{Fs: afero.NewMemMapFs(), Caps: storage.Capabilities{AtomicRename: true}}
	es := streamEntries(6)
	if err := (Index{Entries: es}).SaveFile(ctx, a, SeenFile, SeenTemp); err != nil {
		t.Fatal(err)
	}
	data, _ := afero.ReadFile(a.Fs, SeenFile)
	cut := bytes.Index(data, []byte(`{"record_id":19`)) // the fourth entry
	afero.WriteFile(a.Fs, SeenFile, append(data[:cut:cut], []byte(`{"record_id":19,"sha256":1}]}`)...), 0o644)
	u := NewUpdate(ctx, a, SeenFile, SeenTemp, true)
	found := 0
	for _, e := range es {
		prev, ok := u.Prev(e.RecordID)
		if ok {
			found++
			u.Put(&prev, &e)
		} else {
			u.Put(nil, &e)
		}
	}
	if found != 3 || u.ReadErr() == nil || !strings.Contains(u.ReadErr().Error(), SeenFile) || u.ReadBefore() != 3 {
		t.Fatalf("found %d, error %v after %d entries", found, u.ReadErr(), u.ReadBefore())
	}
	if written, err := u.Finish(); !written || err != nil {
		t.Fatalf("not written: %v", err)
	}
	back, ok, err := ReadIndexFile(ctx, a, SeenFile, func(e Entry) Entry { return e })
	if err != nil || !ok || !(Index{Entries: back}).Same(Index{Entries: es}) {
		t.Fatalf("read back: %v %+v", err, back)
	}
}

// TestUpdateClose: an update that stops leaves the old index as it was
// and no temp file.
func TestUpdateClose(t *testing.T) {
	ctx := context.Background()
	a := &storage.Archive{Fs: afero.NewMemMapFs(), Caps: storage.Capabilities{AtomicRename: true}}
	es := streamEntries(4)
	if err := (Index{Entries: es}).SaveFile(ctx, a, IndexFile, IndexTemp); err != nil {
		t.Fatal(err)
	}
	before, _ := afero.ReadFile(a.Fs, IndexFile)
	u := NewUpdate(ctx, a, IndexFile, IndexTemp, true)
	prev, _ := u.Prev(es[0].RecordID)
	changed := prev
	changed.Size++
	u.Put(&prev, &changed)
	if _, err := a.Fs.Stat(IndexTemp); err != nil {
		t.Fatalf("no temp file while writing: %v", err)
	}
	u.Close()
	after, _ := afero.ReadFile(a.Fs, IndexFile)
	if !bytes.Equal(after, before) {
		t.Fatal("index changed")
	}
	if _, err := a.Fs.Stat(IndexTemp); err == nil {
		t.Fatal("temp file left")
	}
}
