package history

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Every history file is: 8 bytes of magic, a deflate stream, and the
// SHA-256 of magic and stream. The checksum is verified before anything is
// decoded, so a damaged or foreign file is refused as a whole and never
// half-read. Inside the stream, numbers are varints and strings are
// length-prefixed (see genfile.go and pack.go).

// maxInflated bounds what one file may expand to (a 100,000-order
// generation is about 6 MB).
const maxInflated = 1 << 30

var errTrailer = errors.New("Prüfsumme der Datei stimmt nicht (beschädigt oder abgeschnitten)")

// writers keeps deflate writers between seals: a new one allocates and
// clears about a megabyte of tables, more than sealing a small file costs.
var writers = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(nil, flate.BestSpeed) // see doc.go: 10× faster than the default, 20 % larger
	return zw
}}

// seal compresses body and frames it with magic and checksum.
func seal(magic string, body []byte) []byte {
	return sealStream(magic, func(w io.Writer) { _, _ = w.Write(body) }) // writes into memory do not fail
}

// sealStream is seal of the body write writes, piece by piece.
func sealStream(magic string, write func(w io.Writer)) []byte {
	var buf bytes.Buffer
	buf.WriteString(magic)
	zw := writers.Get().(*flate.Writer)
	zw.Reset(&buf)
	write(zw)
	_ = zw.Close()
	zw.Reset(nil) // the pool keeps no reference to buf
	writers.Put(zw)
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes()
}

// unseal checks magic and checksum and returns a reader of the body.
func unseal(magic string, file []byte) (io.Reader, error) {
	if len(file) < len(magic)+sha256.Size || string(file[:len(magic)]) != magic {
		return nil, fmt.Errorf("keine Historien-Datei dieses Formats (Kennung %q erwartet)", magic)
	}
	n := len(file) - sha256.Size
	if sum := sha256.Sum256(file[:n]); !bytes.Equal(sum[:], file[n:]) {
		return nil, errTrailer
	}
	return io.LimitReader(flate.NewReader(bytes.NewReader(file[len(magic):n])), maxInflated), nil
}

// enc appends the wire form of values.
type enc struct{ b []byte }

func (e *enc) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *enc) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *enc) raw(p []byte)     { e.b = append(e.b, p...) }
func (e *enc) str(s string) {
	e.uvarint(uint64(len(s)))
	e.b = append(e.b, s...)
}

// dec reads the wire form from a byte slice; the first error sticks and
// every later read returns zero values, so callers check err once at the
// end.
type dec struct {
	b   []byte
	err error
}

// inflate reads the whole body of an unsealed file.
func inflate(r io.Reader) (*dec, error) { return inflateSized(r, 0) }

// inflateSized is inflate of a file of size bytes: the body is read into
// a buffer about the size it inflates to, not one grown step by step (a
// full generation's entries inflate to 1.2 times the file with PDFs,
// 1.4 times without; a larger body doubles the buffer once).
func inflateSized(r io.Reader, size int) (*dec, error) {
	var buf bytes.Buffer
	buf.Grow(min(size+size/2+bytes.MinRead, maxInflated))
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("entpacken: %w", err)
	}
	if buf.Len() >= maxInflated {
		return nil, errors.New("entpackt zu groß")
	}
	return &dec{b: buf.Bytes()}, nil
}

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

var errShort = errors.New("Daten enden mitten in einem Eintrag")

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of items that must not exceed limit.
func (d *dec) count(limit uint64, what string) int {
	n := d.uvarint()
	if n > limit {
		d.fail(fmt.Errorf("%s: %d ist unmöglich groß", what, n))
		return 0
	}
	return int(n)
}

// next returns the next n bytes (a view into the body).
func (d *dec) next(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail(errShort)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) full(p []byte) { copy(p, d.next(len(p))) }

// str reads a string; the few distinct values of a field (schema
// versions) are shared through intern.
func (d *dec) str(intern map[string]string) string {
	n := d.count(maxString, "Textlänge")
	p := d.next(n)
	if intern != nil {
		if s, ok := intern[string(p)]; ok {
			return s
		}
		s := string(p)
		intern[s] = s
		return s
	}
	return string(p)
}

// end checks that the body holds nothing after what was read.
func (d *dec) end() {
	if d.err == nil && len(d.b) > 0 {
		d.fail(errors.New("unerwartete Daten nach dem Ende"))
	}
}
