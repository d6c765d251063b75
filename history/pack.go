package history

// packMagic starts every pack file; the digit is the format version.
const packMagic = "WBHPAK1\n"

// maxBlob bounds one content in a pack (backup files are refused far
// below this size by the engine).
const maxBlob = 64 << 20

// blob is one content in a pack.
type blob struct {
	hash Hash
	data []byte
}

// The body of a pack file: u n, then n times u length + the bytes of one
// data.csv.

// encodePack writes the contents one run added, in the order given: the
// whole pack is one deflate stream, so the CSV header and the repeated
// parts of similar rows compress away (see doc.go). A content's hash is
// not stored: it is computed when the pack is read, which also verifies
// every content.
func encodePack(blobs []blob) []byte {
	var e enc
	e.uvarint(uint64(len(blobs)))
	for _, b := range blobs {
		e.uvarint(uint64(len(b.data)))
		e.raw(b.data)
	}
	return seal(packMagic, e.b)
}

// decodePack calls fn for every content of a pack file, with its SHA-256,
// after checking the file's checksum. fn must not keep data.
func decodePack(file []byte, fn func(h Hash, data []byte) error) error {
	r, err := unseal(packMagic, file)
	if err != nil {
		return err
	}
	d, err := inflate(r)
	if err != nil {
		return err
	}
	n := d.count(maxEntries, "Anzahl der Inhalte")
	for i := 0; i < n && d.err == nil; i++ {
		size := d.count(maxBlob, "Größe eines Inhalts")
		data := d.next(size)
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
