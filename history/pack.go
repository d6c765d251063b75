package history

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// packMagic starts every pack file; the digit is the format version.
// Format 1 packs are still read (see doc.go).
const (
	packMagicV1 = "WBHPAK1\n"
	packMagic   = "WBHPAK2\n"
)

// maxBlob bounds one content in a pack (backup files are refused far
// below this size by the engine).
const maxBlob = 64 << 20

// blob is one content in a pack.
type blob struct {
	hash Hash
	data []byte
}

// The body of a pack file: (format 2: u seq, 16 bytes id, as in its name)
// u n, then n times u length + the bytes of one data.csv.

// encodePack writes the contents one run added, in the order given: the
// whole pack is one deflate stream, so the CSV header and the repeated
// parts of similar rows compress away (see doc.go). A content's hash is
// not stored: it is computed when the pack is read, which also verifies
// every content.
//
// The body goes into the compressor piece by piece, never whole: for a
// first export of 100,000 orders it would be a second copy of all their
// bytes (50 MB) beside the contents themselves.
func encodePack(seq uint64, id fileID, blobs []blob) []byte {
	return encodePackOf(seq, id, len(blobs), func(put func(data []byte)) {
		for _, b := range blobs {
			put(b.data)
		}
	})
}

// encodePackOf writes a pack of n contents, which contents hands to put
// one after the other: forget's repack streams them from the old pack
// file instead of holding a copy of each (45 MB for 100,000 orders).
// contents must put exactly n.
func encodePackOf(seq uint64, id fileID, n int, contents func(put func(data []byte))) []byte {
	ps := newPackStream(seq, id, n)
	contents(ps.add)
	return ps.finish()
}

// packStream encodes a pack of n contents as they are added, one at a
// time (encodePack's format): Commit fetches each content when the pack
// takes it, and holds none of them beside the compressed file.
type packStream struct {
	buf bytes.Buffer
	zw  *flate.Writer
	e   enc
}

func newPackStream(seq uint64, id fileID, n int) *packStream {
	ps := &packStream{zw: writers.Get().(*flate.Writer)}
	ps.buf.WriteString(packMagic)
	ps.zw.Reset(&ps.buf)
	ps.e.uvarint(seq)
	ps.e.raw(id[:])
	ps.e.uvarint(uint64(n))
	return ps
}

// add appends one content; the caller adds exactly the n it announced.
func (ps *packStream) add(data []byte) {
	ps.e.uvarint(uint64(len(data)))
	_, _ = ps.zw.Write(ps.e.b) // writes into memory do not fail
	_, _ = ps.zw.Write(data)
	ps.e.b = ps.e.b[:0]
}

// finish returns the sealed pack file (checksum trailer appended).
func (ps *packStream) finish() []byte {
	_, _ = ps.zw.Write(ps.e.b)
	_ = ps.zw.Close()
	ps.release()
	sum := sha256.Sum256(ps.buf.Bytes())
	ps.buf.Write(sum[:])
	return ps.buf.Bytes()
}

// release gives the compressor back (the pool keeps no reference to
// the pack's bytes); an abandoned pack is garbage.
func (ps *packStream) release() {
	if ps.zw != nil {
		ps.zw.Reset(nil)
		writers.Put(ps.zw)
		ps.zw = nil
	}
}

// decodePack calls fn for every content of a pack file, with its SHA-256,
// after checking the file's checksum and that it is the pack its name
// says (seq and id; a zero id: a format-1 pack). fn must not keep data.
func decodePack(file []byte, seq uint64, id fileID, fn func(h Hash, data []byte) error) error {
	magic := packMagic
	if id.zero() {
		magic = packMagicV1
	}
	r, err := unseal(magic, file)
	if err != nil {
		return err
	}
	// The body is read as a stream, one content at a time into one
	// buffer: inflated whole it would be all the contents again (50 MB for
	// the first pack of 100,000 orders) beside the file.
	d := &streamDec{r: bufio.NewReader(r)}
	if !id.zero() {
		var got fileID
		gotSeq := d.uvarint()
		d.full(got[:])
		if d.err == nil && (gotSeq != seq || got != id) {
			return fmt.Errorf("Datei enthält Pack %d/%s, nicht das ihres Namens", gotSeq, got)
		}
	}
	n := d.count(maxEntries, "Anzahl der Inhalte")
	var buf []byte
	for i := 0; i < n && d.err == nil; i++ {
		size := d.count(maxBlob, "Größe eines Inhalts")
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		data := buf[:size]
		d.full(data)
		if d.err != nil {
			break
		}
		if err := fn(Sum(data), data); err != nil {
			return err
		}
	}
	d.end()
	return d.err
}

// streamDec reads the wire form of values from a stream, like dec from
// a slice; the first error sticks.
type streamDec struct {
	r    *bufio.Reader
	read int64 // bytes read so far
	err  error
}

func (d *streamDec) fail(err error) {
	switch {
	case d.err != nil:
		return
	case d.read >= maxInflated:
		d.err = errors.New("entpackt zu groß")
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		d.err = errShort
	default:
		d.err = fmt.Errorf("entpacken: %w", err)
	}
}

func (d *streamDec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(byteCounter{d})
	if err != nil {
		d.fail(err)
		return 0
	}
	return v
}

func (d *streamDec) count(limit uint64, what string) int {
	n := d.uvarint()
	if n > limit {
		d.fail(fmt.Errorf("%s: %d ist unmöglich groß", what, n))
		return 0
	}
	return int(n)
}

func (d *streamDec) full(p []byte) {
	if d.err != nil {
		return
	}
	n, err := io.ReadFull(d.r, p)
	d.read += int64(n)
	if err != nil {
		d.fail(err)
	}
}

// end checks that the stream holds nothing after what was read.
func (d *streamDec) end() {
	if d.err != nil {
		return
	}
	switch _, err := d.r.ReadByte(); {
	case err == nil:
		d.read++
		d.fail(errors.New("unerwartete Daten nach dem Ende"))
	case !errors.Is(err, io.EOF):
		d.fail(err)
	}
}

// byteCounter is streamDec's reader as an io.ByteReader that counts.
type byteCounter struct{ d *streamDec }

func (b byteCounter) ReadByte() (byte, error) {
	c, err := b.d.r.ReadByte()
	if err == nil {
		b.d.read++
	}
	return c, err
}
