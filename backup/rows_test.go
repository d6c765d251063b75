package backup

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// rowsFor returns n data.csv of growing length, every third without the
// header line, one of them over a chunk of memory.
func rowsFor(head []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		line := bytes.Repeat([]byte(fmt.Sprintf("%d;", i)), 1+i%50)
		if i == n/2 {
			line = bytes.Repeat([]byte("x"), rowChunkSize+17)
		}
		if i%3 != 0 {
			line = append(append([]byte{}, head...), line...)
		}
		out[i] = line
	}
	return out
}

func addAll(s *rowStore, rows [][]byte) []rowRef {
	refs := make([]rowRef, len(rows))
	for i, w := range rows {
		refs[i] = s.add(w)
	}
	return refs
}

func checkRows(t *testing.T, s *rowStore, refs []rowRef, want [][]byte) {
	t.Helper()
	for i, ref := range refs {
		got, err := s.bytes(ref)
		if err != nil {
			t.Fatalf("Zeile %d: %v", i, err)
		}
		if !bytes.Equal(got, want[i]) || s.size(ref) != int64(len(want[i])) {
			t.Fatalf("Zeile %d: %d Bytes zurück (Größe %d), %d geschrieben", i, len(got), s.size(ref), len(want[i]))
		}
	}
}

func TestRowStoreInTempFile(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	head := []byte("record_id;auftrag_nr\n")
	s := newRowStore(head)
	defer s.close()
	if s.f == nil {
		t.Fatal("kein Zwischenspeicher in TMPDIR angelegt")
	}
	want := rowsFor(head, 3000)
	refs := addAll(s, want)
	s.seal()
	if len(s.mem) != 0 {
		t.Fatalf("%d Stücke im Speicher, alle Zeilen gehören in die Datei", len(s.mem))
	}
	if names, _ := filepath.Glob(filepath.Join(os.TempDir(), rowsPattern)); len(names) != 0 {
		t.Fatalf("Zwischenspeicher hat noch einen Namen: %v", names)
	}
	checkRows(t, s, refs, want)
}

func TestRowStoreInMemoryWithoutTMPDIR(t *testing.T) {
	t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "fehlt"))
	head := []byte("h\n")
	s := newRowStore(head)
	defer s.close()
	if s.f != nil {
		t.Fatal("Zwischenspeicher in einem fehlenden TMPDIR angelegt")
	}
	want := rowsFor(head, 3000)
	refs := addAll(s, want)
	s.seal()
	checkRows(t, s, refs, want)
}

// A write to the temp file that fails (disk full) loses no row: those
// written stay readable from the file, the rest go into memory.
func TestRowStoreWriteFailsMidway(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	head := []byte("h\n")
	s := newRowStore(head)
	defer s.close()
	// A file of our own in its place, so that it can be reopened read-only.
	name := filepath.Join(dir, "zeilen")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	s.f.Close()
	s.f = f
	want := rowsFor(head, 6000)
	refs := make([]rowRef, len(want))
	for i, w := range want[:2000] {
		refs[i] = s.add(w)
	}
	s.flush() // as a full buffer would
	ro, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	s.f = ro // every later write fails
	for i, w := range want[2000:] {
		refs[2000+i] = s.add(w)
	}
	s.seal()
	if s.fileEnd == 0 || len(s.mem) == 0 {
		t.Fatalf("erwartet: Zeilen in der Datei (%d Bytes) und danach im Speicher (%d Stücke)", s.fileEnd, len(s.mem))
	}
	checkRows(t, s, refs, want)
}
