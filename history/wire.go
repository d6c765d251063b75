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

// Every history file is: 8 bytes of magic, a deflate stream, and the
// SHA-256 of magic and stream. The checksum is verified before anything is
// decoded, so a damaged or foreign file is refused as a whole and never
// half-read. Inside the stream, numbers are varints and strings are
// length-prefixed (see genfile.go and pack.go).

// maxInflated bounds what one file may expand to (a 100,000-order
// generation is about 6 MB).
const maxInflated = 1 << 30

var errTrailer = errors.New("Prüfsumme der Datei stimmt nicht (beschädigt oder abgeschnitten)")

// seal compresses body and frames it with magic and checksum.
func seal(magic string, body []byte) []byte {
	var buf bytes.Buffer
	buf.WriteString(magic)
	zw, _ := flate.NewWriter(&buf, flate.DefaultCompression) // the level is valid
	_, _ = zw.Write(body)                                    // writes into memory do not fail
	_ = zw.Close()
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

// dec reads the wire form; the first error sticks and every later read
// returns zero values, so callers check err once at the end.
type dec struct {
	r   io.ByteReader
	rd  io.Reader
	err error
}

func newDec(r io.Reader) *dec {
	br, ok := r.(interface {
		io.Reader
		io.ByteReader
	})
	if !ok {
		b := bufio.NewReaderSize(r, 64<<10)
		return &dec{r: b, rd: b}
	}
	return &dec{r: br, rd: br}
}

func (d *dec) fail(err error) {
	if d.err == nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail(fmt.Errorf("Zahl lesen: %w", err))
	}
	return v
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(d.r)
	if err != nil {
		d.fail(fmt.Errorf("Zahl lesen: %w", err))
	}
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

func (d *dec) full(p []byte) {
	if d.err != nil {
		return
	}
	if _, err := io.ReadFull(d.rd, p); err != nil {
		d.fail(fmt.Errorf("Daten lesen: %w", err))
	}
}

func (d *dec) str() string {
	n := d.count(maxString, "Textlänge")
	if d.err != nil || n == 0 {
		return ""
	}
	p := make([]byte, n)
	d.full(p)
	return string(p)
}

// end checks that the body holds nothing after what was read.
func (d *dec) end() {
	if d.err != nil {
		return
	}
	if _, err := d.r.ReadByte(); err == nil {
		d.fail(errors.New("unerwartete Daten nach dem Ende"))
	} else if !errors.Is(err, io.EOF) {
		d.fail(err)
	}
}
