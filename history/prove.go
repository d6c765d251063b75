package history

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// packsSealed reports whether every file of pack seq proves itself
// without unpacking its contents: its trailer (the SHA-256 of the whole
// file) matches, and its body begins with seq and the id of its name.
// Such a file is, byte for byte, the pack Commit wrote under that name,
// so it holds every content the generations map to it (Commit writes a
// pack and the generation that maps contents to it together, and never
// maps a content to a pack it did not write it into). This costs one
// SHA-256 of the compressed file instead of unpacking it and hashing
// every content, which made proveKnown the larger part of an unchanged
// export. A format-1 file (no id: its name does not say which pack it
// is), an unreadable file or one that does not prove itself: false, and
// proveKnown reads the pack whole, with the stored versions where there
// are.
func (s *Store) packsSealed(ctx context.Context, seq uint64, files []packRef) bool {
	for _, p := range files {
		if p.id.zero() {
			return false
		}
		if s.streamSealed(ctx, p.file, seq, p.id) != nil {
			return false
		}
	}
	return len(files) > 0
}

// sealedHead is how much of a pack file streamSealed keeps to unpack the
// start of its body from: the magic, the deflate stream's first block
// header and the bytes of seq and id.
const sealedHead = 64 << 10

// streamSealed checks the pack file name's magic and trailer and that
// its body starts with seq and id, unpacking only those first bytes. The
// file is read as a stream and hashed piece by piece, never held whole
// (100,000 orders: a pack of 12 MB read into memory by every unchanged
// export only to hash it).
// proveBufs are streamSealed's read buffers: an export proves every pack
// its records reuse, a year of daily packs a run, and a new megabyte for
// each (cleared by the runtime) doubled the time of TestGrowthOfAYear.
var proveBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

func (s *Store) streamSealed(ctx context.Context, name string, seq uint64, id fileID) error {
	f, err := s.arch.Open(ctx, name)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	head := make([]byte, 0, sealedHead)
	var th trailerHash
	bp := proveBufs.Get().(*[]byte) // on a share each read is a round trip
	defer proveBufs.Put(bp)
	buf := *bp
	total := int64(0)
	for {
		n, err := f.Read(buf)
		total += int64(n)
		if total > maxPackFile {
			return errors.New("Datei ist zu groß")
		}
		if n > 0 {
			chunk := buf[:n]
			if k := min(len(chunk), cap(head)-len(head)); k > 0 {
				head = append(head, chunk[:k]...)
			}
			th.write(h, chunk)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if th.n < sha256.Size || total < int64(len(packMagic)+sha256.Size) || string(head[:len(packMagic)]) != packMagic {
		return fmt.Errorf("keine Historien-Datei dieses Formats (Kennung %q erwartet)", packMagic)
	}
	if !bytes.Equal(h.Sum(nil), th.tail[:th.n]) {
		return errTrailer
	}
	if int64(len(head)) > total-sha256.Size {
		head = head[:total-sha256.Size] // a small file: its trailer is no body
	}
	return bodyStartsWith(flate.NewReader(bytes.NewReader(head[len(packMagic):])), seq, id)
}

// bodyStartsWith checks that the unpacked body r of a pack starts with
// seq and id.
func bodyStartsWith(r io.Reader, seq uint64, id fileID) error {
	var head [binary.MaxVarintLen64 + len(fileID{})]byte
	n, err := io.ReadFull(r, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("entpacken: %w", err)
	}
	gotSeq, k := binary.Uvarint(head[:n])
	if k <= 0 || n-k < len(id) {
		return errShort
	}
	var got fileID
	copy(got[:], head[k:])
	if gotSeq != seq || got != id {
		return fmt.Errorf("Datei enthält Pack %d/%s, nicht das ihres Namens", gotSeq, got)
	}
	return nil
}

// trailerHash feeds a file read in chunks of any size to a hash, all but
// its last sha256.Size bytes (the trailer), which it holds in tail.
type trailerHash struct {
	tail [2 * sha256.Size]byte
	n    int
}

func (t *trailerHash) write(h io.Writer, chunk []byte) {
	if len(chunk) >= sha256.Size {
		h.Write(t.tail[:t.n])
		h.Write(chunk[:len(chunk)-sha256.Size])
		t.n = copy(t.tail[:], chunk[len(chunk)-sha256.Size:])
		return
	}
	t.n += copy(t.tail[t.n:], chunk)
	if t.n > sha256.Size {
		h.Write(t.tail[:t.n-sha256.Size])
		t.n = copy(t.tail[:], t.tail[t.n-sha256.Size:t.n])
	}
}
