package pdf

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"slices"
	"time"

	"werkstatt-backup/storage"
)

// Names of the PDF copies in an archive whose PDFs live elsewhere.
const (
	StoreDir  = "_pdfs"
	IndexFile = StoreDir + "/index.json"
	IndexTemp = StoreDir + "/index.tmp.json"
	TempDir   = StoreDir + "/tmp"
	// SeenFile is the index of the PDFs export read in the seed's layout
	// (PDFs inside the archive, nothing copied): size, time and SHA-256 of
	// each, so that the history records every order's PDF without reading
	// an unchanged one again. It names no copy.
	SeenFile = StoreDir + "/gelesen.json"
	SeenTemp = StoreDir + "/gelesen.tmp.json"
)

// ObjectName is where the copy of the content with SHA-256 sum lies:
// _pdfs/<sum[:2]>/<sum>.pdf. The name proves the content.
func ObjectName(sum string) string {
	return StoreDir + "/" + sum[:2] + "/" + sum + ".pdf"
}

// Entry is one order's PDF as the last export stored it: where it lay in
// the PDF tree, what size and modification time it had then (an
// unchanged PDF is recognised by them without being read), the row's hash
// it matched, and the SHA-256 that names its copy.
type Entry struct {
	RecordID  int64  `json:"record_id"`
	AuftragNr string `json:"auftrag_nr"`
	// Path: where the PDF was read, relative to the PDF tree.
	Path string `json:"pfad"`
	// Position: <JJJJ>/<auftrag_nr>/<Datei>, where restore --pdfs puts it.
	Position string    `json:"position"`
	Size     int64     `json:"groesse"`
	ModTime  time.Time `json:"geaendert"`
	Hash     string    `json:"hash"` // the row's hash (lower case)
	SHA256   string    `json:"sha256"`
	// Bad: the content did not match the row's hash when it was read
	// (SeenFile only: export records what it found, and warns).
	Bad bool `json:"falsch,omitempty"`
	// LockedUntil: on a store with Object Lock, until when the copy was
	// last made immutable (export extends it before it runs out).
	LockedUntil time.Time `json:"gesperrt_bis,omitzero"`
}

// Ref is one order's PDF as an export run saw it: what a history
// generation records per order (record_id, auftrag_nr → content hash and
// size).
type Ref struct {
	RecordID  int64  `json:"record_id"`
	AuftragNr string `json:"auftrag_nr"`
	Position  string `json:"position"`
	SHA256    string `json:"sha256"`
	Size      int64  `json:"size"`
}

// Index is the per-order state of the PDF copies, sorted by record_id.
type Index struct {
	Version int     `json:"version"`
	Entries []Entry `json:"auftraege"`
}

// MaxIndexSize bounds what LoadIndex reads (about 2 million orders).
const MaxIndexSize = 512 << 20

// LoadIndex reads the archive's index; an archive without one has an
// empty index (ok false).
func LoadIndex(ctx context.Context, a *storage.Archive) (idx Index, ok bool, err error) {
	return LoadIndexFile(ctx, a, IndexFile)
}

// LoadIndexFile reads the index stored as name (IndexFile or SeenFile)
// whole, in any order (forget; export, verify and restore read it as a
// stream: IndexReader, Update).
func LoadIndexFile(ctx context.Context, a *storage.Archive, name string) (idx Index, ok bool, err error) {
	data, err := a.ReadFile(ctx, name, MaxIndexSize)
	if errors.Is(err, iofs.ErrNotExist) {
		return Index{Version: 1}, false, nil
	}
	if err != nil {
		return Index{Version: 1}, false, err
	}
	if len(data) > MaxIndexSize {
		return Index{Version: 1}, false, fmt.Errorf("%s: größer als %d Bytes", name, MaxIndexSize)
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return Index{Version: 1}, false, fmt.Errorf("%s: kein gültiges JSON: %w", name, err)
	}
	for _, e := range idx.Entries {
		if !IsSHA256(e.SHA256) {
			return Index{Version: 1}, false, fmt.Errorf("%s: Auftrag %s: sha256 %q ist kein SHA-256", name, e.AuftragNr, e.SHA256)
		}
	}
	return idx, true, nil
}

// encode sorts the entries by record_id and encodes the index.
func (idx Index) encode() ([]byte, error) {
	idx.Version = 1
	sortEntries(idx.Entries)
	return json.Marshal(idx)
}

func sortEntries(es []Entry) {
	slices.SortFunc(es, func(x, y Entry) int { return cmp.Compare(x.RecordID, y.RecordID) })
}

// Same reports whether idx and other would be stored identically (an
// unchanged export need not write the index again): the same entries in
// record_id order, times compared as instants. It compares the fields
// themselves: encoding both indexes to compare the text cost an unchanged
// export of 2,000 orders with PDFs a tenth of its extra time.
func (idx Index) Same(other Index) bool {
	if len(idx.Entries) != len(other.Entries) {
		return false
	}
	sortEntries(idx.Entries)
	sortEntries(other.Entries)
	return slices.EqualFunc(idx.Entries, other.Entries, func(x, y Entry) bool {
		return x.instants() == y.instants()
	})
}

// instants is e with its times in UTC and without a monotonic reading,
// so that == compares them as instants.
func (e Entry) instants() Entry {
	e.ModTime, e.LockedUntil = e.ModTime.UTC(), e.LockedUntil.UTC()
	return e
}

// Save writes the index atomically.
func (idx Index) Save(ctx context.Context, a *storage.Archive) error {
	return idx.SaveFile(ctx, a, IndexFile, IndexTemp)
}

// SaveFile writes the index atomically as name (through temp).
func (idx Index) SaveFile(ctx context.Context, a *storage.Archive, name, temp string) error {
	data, err := idx.encode()
	if err != nil {
		return err
	}
	if !a.Caps.ImplicitDirs {
		if err := a.MkdirAll(ctx, StoreDir); err != nil {
			return err
		}
	}
	return a.Replace(ctx, name, temp, data)
}

// ByRecord maps the entries by record_id.
func (idx Index) ByRecord() map[int64]Entry {
	m := make(map[int64]Entry, len(idx.Entries))
	for _, e := range idx.Entries {
		m[e.RecordID] = e
	}
	return m
}
