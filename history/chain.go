package history

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"werkstatt-backup/storage"
)

// The chain (format 2). Every generation has an identity, Ident: the
// SHA-256 of its sequence number, its id (Origin), its archive and client
// times, its record count and the digest of its entries. Each generation
// records the Ident of the one before it (Prev, PrevHash), so a generation
// missing or replaced in the middle is visible; the head marker HeadFile
// records the newest one's, so a missing newest generation or a vanished
// history is visible too. A forget that removes generations rewrites the
// generation after each gap with a link to the one now before it (a new
// file with a new id and the same Origin, so its Ident stays).

// entryDigest is the SHA-256 of entries (sorted by record_id) as the
// user sees them, with their PDFs (format 3); where their contents lie
// (Pack) is not part of it.
func entryDigest(entries []Entry) Hash {
	h, hp := sha256.New(), sha256.New()
	var b []byte
	pdfs := false
	for _, e := range entries {
		b = b[:0]
		b = binary.AppendVarint(b, e.RecordID)
		for _, s := range []string{e.AuftragNr, e.Folder, e.Schema} {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
		b = append(b, e.Hash[:]...)
		b = binary.AppendVarint(b, e.Size)
		h.Write(b)
		if !e.PDF.zero() {
			pdfs = true
			b = binary.AppendVarint(b[:0], e.RecordID)
			hp.Write(append(b, e.PDF[:]...))
		}
	}
	var out Hash
	h.Sum(out[:0])
	if !pdfs {
		// entries without PDFs (format 1 and 2) keep the digest, and so
		// the identity, they were written with
		return out
	}
	// known PDFs (format 3): the SHA-256 of the rows' digest and theirs
	f := sha256.New()
	f.Write([]byte("WBHPDF3\n"))
	f.Write(out[:])
	f.Write(hp.Sum(nil))
	f.Sum(out[:0])
	return out
}

// ident is the identity of a generation with the given header fields.
func ident(seq uint64, origin fileID, archive, client time.Time, records int, digest Hash) Hash {
	b := []byte("WBHID2\n")
	b = binary.AppendUvarint(b, seq)
	b = append(b, origin[:]...)
	b = binary.AppendVarint(b, archive.UnixMilli())
	b = binary.AppendVarint(b, client.UnixNano())
	b = binary.AppendUvarint(b, uint64(records))
	b = append(b, digest[:]...)
	return sha256.Sum256(b)
}

// identOf is the identity of generation g whose archive time is archive
// and whose entries have digest.
func identOf(g *genFile, archive time.Time, digest Hash) Hash {
	return ident(g.Seq, g.Origin, archive, g.ClientTime, g.Records, digest)
}

// head is the content of the head marker.
type head struct {
	Seq  uint64 // the newest generation (0: the history is empty)
	ID   fileID // its Origin (zero for a format-1 generation)
	Hash Hash   // its Ident
	Max  uint64 // the highest sequence number the history ever used
	File string // its file
	// Links are the files the chain walk on a store that keeps versions
	// (recoverDeleted) takes instead of those the generations name: the
	// file of a kept generation that forget rewrote (the generation after
	// it names the file it replaced, whose link leads to generations
	// forget removed), and the files of a pack that forget repacked (the
	// generations name the file it replaced). forget writes them; Commit
	// carries them on. Each removed file is one forget removed on purpose.
	Links []string
}

const headMagic = "WBHKOPF\n"

// maxHeadFile bounds what is read of the head marker, maxHeadLinks its
// Links.
const (
	maxHeadFile  = 1 << 20
	maxHeadLinks = 10000
)

func encodeHead(h head) []byte {
	var e enc
	e.uvarint(h.Seq)
	e.raw(h.ID[:])
	e.raw(h.Hash[:])
	e.uvarint(h.Max)
	e.str(h.File)
	if len(h.Links) > 0 {
		e.uvarint(uint64(len(h.Links)))
		for _, f := range h.Links {
			e.str(f)
		}
	}
	return seal(headMagic, e.b)
}

func decodeHead(file []byte) (head, error) {
	var h head
	r, err := unseal(headMagic, file)
	if err != nil {
		return h, err
	}
	d, err := inflate(r)
	if err != nil {
		return h, err
	}
	h.Seq = d.uvarint()
	d.full(h.ID[:])
	d.full(h.Hash[:])
	h.Max = d.uvarint()
	h.File = d.str(nil)
	if d.err == nil && len(d.b) > 0 { // a marker written before Links has none
		n := d.count(maxHeadLinks, "Anzahl der Verweise")
		for i := 0; i < n && d.err == nil; i++ {
			h.Links = append(h.Links, d.str(nil))
		}
	}
	d.end()
	if d.err == nil && h.Max < h.Seq {
		d.fail(fmt.Errorf("höchste Nummer %d kleiner als die neueste %d", h.Max, h.Seq))
	}
	return h, d.err
}

// readHead reads the head marker; ok is false when there is none (an
// archive without history, or one written before format 2).
func (s *Store) readHead(ctx context.Context) (h head, ok bool, err error) {
	data, err := s.arch.ReadFile(ctx, HeadFile, maxHeadFile)
	if isNotExist(err) {
		// deleted: on a store that keeps versions, the newest that proves itself
		ok := s.fromVersion(ctx, HeadFile, maxHeadFile, func(d []byte) error {
			var derr error
			h, derr = decodeHead(d)
			return derr
		})
		return h, ok, nil
	}
	if err != nil {
		return h, false, &FileError{Path: HeadFile, Op: "lesen", Err: err}
	}
	if h, err = decodeHead(data); err != nil {
		if s.fromVersion(ctx, HeadFile, maxHeadFile, func(d []byte) error {
			var derr error
			h, derr = decodeHead(d)
			return derr
		}) {
			return h, true, nil
		}
		return h, false, &FileError{Path: HeadFile, Err: err}
	}
	return h, true, nil
}

// writeHead replaces the head marker (it is no history file: it names the
// newest one and changes with every generation).
func (s *Store) writeHead(ctx context.Context, h head) error {
	if err := s.fence(); err != nil {
		return err
	}
	if err := s.arch.Replace(ctx, HeadFile, HeadFile+tmpSuffix, encodeHead(h)); err != nil {
		return &FileError{Path: HeadFile, Op: "schreiben", Err: err}
	}
	return nil
}

// ErrHistoryLost is wrapped by LostError.
var ErrHistoryLost = errors.New("Historie verloren")

// LostError says that the head marker names a generation the history does
// not have (any more): the history vanished or lost its newest
// generations. Export refuses to go on unless told to start a new history
// (WithNewHistory); verify reports it as damage.
type LostError struct {
	Head   uint64 // the generation the marker names
	Newest uint64 // the newest generation found (0: none)
	Reason string
}

func (e *LostError) Error() string {
	if e.Newest == 0 {
		return fmt.Sprintf("%s nennt Generation %d als neueste, aber %s hat keine Generation (%s)", HeadFile, e.Head, Dir, e.Reason)
	}
	return fmt.Sprintf("%s nennt Generation %d als neueste, die neueste vorhandene ist %d (%s)", HeadFile, e.Head, e.Newest, e.Reason)
}

func (e *LostError) Unwrap() error { return ErrHistoryLost }

// WithNewHistory lets Commit write a generation although the head marker
// names one the history does not have (export --new-history): the new
// generation continues the numbering after the highest number the archive
// ever used and follows the newest generation still there, if any.
func WithNewHistory() Option { return func(s *Store) { s.newHistory = true } }

// AllowNewHistory is WithNewHistory on an opened store.
func (s *Store) AllowNewHistory() { s.newHistory = true }

// CheckHead returns a *LostError when the head marker names a generation
// the history does not have (vanished, or its newest generations lost),
// unless a new history is allowed (WithNewHistory); export asks before it
// writes anything. Only the listing and the marker are read.
func (s *Store) CheckHead(ctx context.Context) error {
	if s.newHistory {
		return nil
	}
	hd, ok, err := s.readHead(ctx)
	if err != nil || !ok {
		return err
	}
	l, err := s.scan(ctx)
	if err != nil {
		return err
	}
	return s.checkHeadMarker(hd, l, nil)
}

// writeNew stores data as a new history file name: created only if absent,
// durable, never over another file.
func (s *Store) writeNew(ctx context.Context, name string, data []byte) error {
	if err := s.fence(); err != nil {
		return err
	}
	if _, err := s.arch.WriteFile(ctx, name, data, storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true}); err != nil {
		return &FileError{Path: name, Op: "schreiben", Err: err}
	}
	return nil
}
