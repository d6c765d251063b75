package backup

import (
	"bytes"
	"fmt"
	"os"
	"sort"
)

// rowStore keeps the data.csv bytes of every row an export read until the
// run ends: the mass-change guard must have seen every row before the
// first is written, and the history takes the new contents after the
// last. They wait in a temporary file in TMPDIR, not in the heap (about
// 300 bytes an order: 30 MB at 100,000 orders, which would be 60 MB of
// resident memory with the collector's headroom); the file's name is
// removed as soon as it is open, so its space returns when the run ends,
// whatever ends it. Without a usable TMPDIR, or once a write to it
// failed, the rows go into memory in chunks of a megabyte instead.
//
// Rows are added by one goroutine (readRows) and then sealed; only then
// are they read, by any number of goroutines.
type rowStore struct {
	// head is the header line every row's data.csv starts with; a row
	// that starts with it keeps only its own line.
	head []byte
	f    *os.File
	// fileEnd: the bytes [0, fileEnd) are in f; buf holds the rows after
	// them until it is written at fileEnd.
	fileEnd int64
	buf     []byte
	// mem: the rows held in memory, each chunk starting at memStart[i].
	mem      [][]byte
	memStart []int64
	next     int64 // offset of the next row
	// writing: rows still go into f (false after a failed write: the
	// rows written before are read from f, the later ones are in mem).
	writing bool
}

// rowRef is where a row's bytes lie in its rowStore.
type rowRef struct {
	off    int64
	n      int32
	headed bool // data.csv is the store's head + these bytes
}

const (
	rowBufSize   = 256 << 10
	rowChunkSize = 1 << 20
	rowsPattern  = "werkstatt-backup-zeilen-*"
)

// newRowStore returns a store for rows whose data.csv starts with head.
func newRowStore(head []byte) *rowStore {
	s := &rowStore{head: head}
	f, err := os.CreateTemp("", rowsPattern)
	if err != nil {
		return s // in memory
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return s
	}
	s.f, s.buf, s.writing = f, make([]byte, 0, rowBufSize), true
	return s
}

// add keeps data and returns where it lies.
func (s *rowStore) add(data []byte) rowRef {
	ref := rowRef{off: s.next}
	if bytes.HasPrefix(data, s.head) {
		data, ref.headed = data[len(s.head):], true
	}
	ref.n = int32(len(data))
	s.next += int64(len(data))
	if s.writing {
		if len(s.buf)+len(data) > cap(s.buf) {
			s.flush()
		}
		if s.writing {
			s.buf = append(s.buf, data...)
			return ref
		}
	}
	last := len(s.mem) - 1
	if last < 0 || len(s.mem[last])+len(data) > cap(s.mem[last]) {
		s.mem = append(s.mem, make([]byte, 0, max(rowChunkSize, len(data))))
		s.memStart = append(s.memStart, ref.off)
		last++
	}
	s.mem[last] = append(s.mem[last], data...)
	return ref
}

// flush writes buf to the file. If that fails, buf becomes the first
// chunk in memory and every later row goes there too.
func (s *rowStore) flush() {
	if len(s.buf) == 0 {
		return
	}
	if _, err := s.f.WriteAt(s.buf, s.fileEnd); err != nil {
		s.mem = append(s.mem, s.buf)
		s.memStart = append(s.memStart, s.fileEnd)
		s.buf, s.writing = nil, false
		return
	}
	s.fileEnd += int64(len(s.buf))
	s.buf = s.buf[:0]
}

// seal ends the adding: the rows still buffered are written. Only then
// can they be read.
func (s *rowStore) seal() {
	if s.writing {
		s.flush()
		s.buf, s.writing = nil, false
	}
}

// bytes returns the row's data.csv, in a new slice.
func (s *rowStore) bytes(ref rowRef) ([]byte, error) {
	out := make([]byte, 0, s.size(ref))
	if ref.headed {
		out = append(out, s.head...)
	}
	if ref.off < s.fileEnd {
		out = out[:len(out)+int(ref.n)]
		if _, err := s.f.ReadAt(out[len(out)-int(ref.n):], ref.off); err != nil {
			return nil, fmt.Errorf("Zwischenspeicher der gelesenen Zeilen (TMPDIR %s): %w", os.TempDir(), err)
		}
		return out, nil
	}
	i := sort.Search(len(s.memStart), func(i int) bool { return s.memStart[i] > ref.off }) - 1
	if i < 0 {
		return nil, fmt.Errorf("Zwischenspeicher der gelesenen Zeilen: Zeile bei %d fehlt", ref.off)
	}
	at := ref.off - s.memStart[i]
	return append(out, s.mem[i][at:at+int64(ref.n)]...), nil
}

// size is the length of the row's data.csv.
func (s *rowStore) size(ref rowRef) int64 {
	if ref.headed {
		return int64(len(s.head)) + int64(ref.n)
	}
	return int64(ref.n)
}

// close lets the rows go.
func (s *rowStore) close() {
	if s == nil {
		return
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	s.mem, s.memStart, s.buf = nil, nil, nil
}
