package backup

import (
	"cmp"
	"context"
	"slices"

	"werkstatt-backup/history"
	"werkstatt-backup/pdf"
	"werkstatt-backup/storage"
)

// recordedCopy is what verify --pdfs and restore --pdfs need of an order's
// entry in pdf.IndexFile: its copy's content, and for restore the row
// hash it matched and its place in the tree.
type recordedCopy struct {
	RecordID int64
	SHA256   history.Hash
	Hash     string // the row's hash (lower case); withRow only
	Position string // withRow only
}

// object is the copy's name in the archive.
func (c recordedCopy) object() string { return pdf.ObjectName(c.SHA256.String()) }

// readCopies reads pdf.IndexFile entry by entry into what each order needs
// (the file is never held whole), sorted by record_id; ok false when
// there is none.
func readCopies(ctx context.Context, a *storage.Archive, withRow bool) ([]recordedCopy, bool, error) {
	return pdf.ReadIndexFile(ctx, a, pdf.IndexFile, func(en pdf.Entry) recordedCopy {
		c := recordedCopy{RecordID: en.RecordID}
		c.SHA256, _ = history.ParseHash(en.SHA256) // the reader checked it
		if withRow {
			c.Hash, c.Position = en.Hash, en.Position
		}
		return c
	})
}

// findCopy returns the recorded copy of record id.
func findCopy(cs []recordedCopy, id int64) (recordedCopy, bool) {
	i, ok := slices.BinarySearchFunc(cs, id, func(c recordedCopy, id int64) int { return cmp.Compare(c.RecordID, id) })
	if !ok {
		return recordedCopy{}, false
	}
	return cs[i], true
}
