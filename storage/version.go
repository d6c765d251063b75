package storage

import "time"

// Version is one stored version of a name on a store that keeps versions
// (an S3 bucket with versioning, which Object Lock requires): what the
// name held before it was overwritten or deleted.
type Version struct {
	ID           string // the store's version id
	Size         int64
	ModTime      time.Time // when this version was stored (the store's clock)
	Tag          Tag
	Current      bool // the version a plain read returns
	DeleteMarker bool // a deletion: the name did not exist from ModTime on
	// RetainUntil is the end of the version's Object Lock retention, zero
	// if it has none (or the store did not say in the listing).
	RetainUntil time.Time
}
