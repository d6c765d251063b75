package history

import (
	"cmp"
	"fmt"
	"slices"
)

// Record is one database row's backup as a generation holds it: enough to
// find its content and to rebuild its data.csv and meta.json (exported_at
// is the generation's time).
type Record struct {
	RecordID  int64
	AuftragNr string
	Folder    string // archive folder of data.csv, e.g. "2024/076329"
	Hash      Hash   // SHA-256 of data.csv
	Size      int64  // bytes of data.csv
	Schema    string // schema_version of data.csv, e.g. "1.0"
	// PDF is the SHA-256 of the order's PDF as the export found it (the
	// copy it stored, or in the seed's layout the file it read); zero:
	// none found, or a generation written before format 3 (unknown).
	PDF Hash
}

// Entry is a Record in a stored generation, with where its content lies.
type Entry struct {
	Record
	// Pack is the sequence number of the generation whose pack file holds
	// the content (the first generation that needed it).
	Pack uint64
}

// maxString bounds every string field, on write and on read: a hostile or
// damaged file cannot make the decoder allocate much.
const maxString = 4096

// validateRecords checks what Commit is given and returns the records
// sorted by RecordID.
func validateRecords(records []Record) ([]Record, error) {
	byID := func(a, b Record) int { return cmp.Compare(a.RecordID, b.RecordID) }
	rs := records // export gives them sorted: no copy (Commit never changes them)
	if !slices.IsSortedFunc(rs, byID) {
		rs = slices.Clone(records)
		slices.SortFunc(rs, byID)
	}
	for i, r := range rs {
		switch {
		case r.RecordID <= 0:
			return nil, fmt.Errorf("Historie: record_id %d ist nicht positiv (Auftrag %s)", r.RecordID, r.AuftragNr)
		case i > 0 && rs[i-1].RecordID == r.RecordID:
			return nil, fmt.Errorf("Historie: record_id %d kommt zweimal vor (%s und %s)", r.RecordID, rs[i-1].Folder, r.Folder)
		case r.Size < 0:
			return nil, fmt.Errorf("Historie: record_id %d: Größe %d ist negativ", r.RecordID, r.Size)
		case r.Size > maxBlob:
			return nil, fmt.Errorf("Historie: record_id %d: data.csv mit %d Bytes ist größer als %d", r.RecordID, r.Size, maxBlob)
		case r.Schema == "":
			return nil, fmt.Errorf("Historie: record_id %d: Schema-Version fehlt", r.RecordID)
		case len(r.AuftragNr) > maxString || len(r.Folder) > maxString || len(r.Schema) > maxString:
			return nil, fmt.Errorf("Historie: record_id %d: Feld länger als %d Bytes", r.RecordID, maxString)
		}
	}
	return rs, nil
}

// sameRecord reports whether two entries describe the same backup of the
// row (where the content is stored does not matter to the user, and the
// PDF is compared apart: pdfChanged).
func sameRecord(a, b Entry) bool { return sameRow(a.Record, b.Record) }

// sameRow reports whether two records hold the same backup of the row,
// whatever their PDFs.
func sameRow(a, b Record) bool {
	a.PDF, b.PDF = Hash{}, Hash{}
	return a == b
}

// pdfChanged reports whether the order's PDF is another in next than in
// prev. A PDF first recorded (prev has none: written before format 3, or
// none found then) is no change.
func pdfChanged(prev, next Record) bool {
	return prev.PDF != next.PDF && !prev.PDF.zero()
}
