package pdf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"

	"werkstatt-backup/storage"
)

// IndexReader reads an index file (IndexFile, SeenFile) one entry at a
// time, never the file whole: an index of a million orders is hundreds of
// megabytes of JSON. The entries must come in record_id order, as every
// export wrote them; a file that is no JSON index, is larger than
// MaxIndexSize, names a sha256 that is no SHA-256 or is out of order ends
// the reading with an error naming the file (Err).
type IndexReader struct {
	name string
	f    io.Closer
	dec  *json.Decoder
	n    int // entries read
	last int64
	err  error
	// inArray: the reader stands inside the entries' array; listed: it
	// has read that array (a second "auftraege" is skipped).
	inArray, listed, done bool
}

// OpenIndex opens the index stored as name for reading entry by entry; an
// archive without it gives a nil reader and ok false. An error opening it
// or in its head (before the first entry) is returned, with the reader
// closed.
//
// On a store whose writes are atomic (an object store) the file is read
// in one request, as that store's files are read whole anyway (and a
// missing one costs no listing); elsewhere it is a stream.
func OpenIndex(ctx context.Context, a *storage.Archive, name string) (r *IndexReader, ok bool, err error) {
	var f io.ReadCloser
	if a.Caps.AtomicWrite {
		var data []byte
		data, err = a.ReadFile(ctx, name, MaxIndexSize)
		f = io.NopCloser(bytes.NewReader(data))
	} else {
		f, err = a.Open(ctx, name)
	}
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	r = &IndexReader{name: name, f: f, dec: json.NewDecoder(&sizeLimit{r: f, name: name, left: MaxIndexSize})}
	if err := r.head(); err != nil {
		r.Close()
		return nil, false, err
	}
	return r, true, nil
}

// sizeLimit fails a read beyond MaxIndexSize bytes.
type sizeLimit struct {
	r    io.Reader
	name string
	left int64
}

func (s *sizeLimit) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, fmt.Errorf("größer als %d Bytes", MaxIndexSize)
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, err := s.r.Read(p)
	s.left -= int64(n)
	return n, err
}

// head reads up to the first entry: '{' and the members before
// "auftraege".
func (r *IndexReader) head() error {
	if err := r.delim('{'); err != nil {
		return r.fail(err)
	}
	return r.fail(r.members())
}

// members reads the object's members up to the entries' array (then
// inArray) or its end (then done).
func (r *IndexReader) members() error {
	for r.dec.More() {
		tok, err := r.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if key != "auftraege" || r.listed {
			var skip json.RawMessage
			if err := r.dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		tok, err = r.dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['):
			r.inArray, r.listed = true, true
			return nil
		case nil: // "auftraege": null, as an index without entries is stored
			continue
		}
		return fmt.Errorf("auftraege ist keine Liste")
	}
	if err := r.delim('}'); err != nil {
		return err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return fmt.Errorf("Daten nach dem Ende des Verzeichnisses")
	}
	r.done = true
	return nil
}

// delim reads the delimiter want.
func (r *IndexReader) delim(want json.Delim) error {
	tok, err := r.dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("%v statt %q", tok, want)
	}
	return nil
}

// fail records err (with the file's name) as the reader's error.
func (r *IndexReader) fail(err error) error {
	if err == nil || r.err != nil {
		return r.err
	}
	r.done = true
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	r.err = fmt.Errorf("%s: kein gültiges JSON: %w", r.name, err)
	return r.err
}

// Next returns the next entry; ok false at the end or on an error (Err).
func (r *IndexReader) Next() (e Entry, ok bool) {
	for !r.done {
		if !r.inArray {
			r.fail(r.members())
			continue
		}
		if !r.dec.More() {
			if err := r.delim(']'); err != nil {
				r.fail(err)
				continue
			}
			r.inArray = false
			r.fail(r.members())
			continue
		}
		if err := r.dec.Decode(&e); err != nil {
			r.fail(err)
			continue
		}
		switch {
		case !IsSHA256(e.SHA256):
			r.err = fmt.Errorf("%s: Auftrag %s: sha256 %q ist kein SHA-256", r.name, e.AuftragNr, e.SHA256)
		case r.n > 0 && e.RecordID < r.last:
			r.err = fmt.Errorf("%s: Eintrag %d (Auftrag %s): nicht nach record_id sortiert", r.name, r.n+1, e.AuftragNr)
		}
		if r.err != nil {
			r.done = true
			return Entry{}, false
		}
		r.n++
		r.last = e.RecordID
		return e, true
	}
	return Entry{}, false
}

// Read is how many entries Next returned.
func (r *IndexReader) Read() int { return r.n }

// Err is why the reading ended early; nil at the file's proper end.
func (r *IndexReader) Err() error { return r.err }

// Close closes the file.
func (r *IndexReader) Close() {
	if r != nil && r.f != nil {
		_ = r.f.Close()
		r.f = nil
	}
}

// ReadIndexFile reads the index stored as name entry by entry into a
// slice of what each entry is kept as (keep), in record_id order: the
// file is never held whole, nor every entry's text. ok is false when
// there is none.
func ReadIndexFile[T any](ctx context.Context, a *storage.Archive, name string, keep func(Entry) T) (out []T, ok bool, err error) {
	r, ok, err := OpenIndex(ctx, a, name)
	if err != nil || !ok {
		return nil, ok, err
	}
	defer r.Close()
	for {
		e, more := r.Next()
		if !more {
			break
		}
		out = append(out, keep(e))
	}
	if r.Err() != nil {
		return nil, false, r.Err()
	}
	return out, true, nil
}
