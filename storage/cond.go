package storage

import (
	"errors"
	iofs "io/fs"
)

// Tag identifies one stored content of a name: an object store's ETag, or
// what a filesystem backend derives (a hash of the content). Two reads of
// a name give the same tag exactly when nothing was stored under the name
// in between. The empty tag means "unknown".
type Tag string

// Cond is the condition of a write or a removal: none, "only if the name
// does not exist", or "only if the name still holds the content I read"
// (compare-and-swap). A backend maps it to its best primitive: S3 one PUT
// with If-None-Match: * or If-Match: <ETag>; a filesystem an exclusive
// create of the whole content (a temp file linked or renamed into place
// without replacing), or a guarded replace.
type Cond struct {
	mode condMode
	tag  Tag
}

type condMode uint8

const (
	condNone condMode = iota
	condAbsent
	condMatch
)

// Always is no condition: create or replace.
var Always = Cond{}

// IfAbsent creates the name only if it does not exist; a failed
// condition is an error wrapping fs.ErrExist.
func IfAbsent() Cond { return Cond{mode: condAbsent} }

// IfMatch replaces (or removes) the name only if it still holds the
// content tag was read from; a failed condition is an error wrapping
// ErrChanged (and fs.ErrNotExist if the name is gone).
func IfMatch(tag Tag) Cond { return Cond{mode: condMatch, tag: tag} }

// None reports whether c is no condition.
func (c Cond) None() bool { return c.mode == condNone }

// Absent reports whether c is IfAbsent.
func (c Cond) Absent() bool { return c.mode == condAbsent }

// Match returns the tag of an IfMatch condition, and whether c is one.
func (c Cond) Match() (Tag, bool) { return c.tag, c.mode == condMatch }

func (c Cond) String() string {
	switch c.mode {
	case condAbsent:
		return "if-absent"
	case condMatch:
		return "if-match " + string(c.tag)
	}
	return "always"
}

// ErrChanged is the error of a write or removal under IfMatch when the
// name no longer holds the content the tag was read from: someone else
// stored something there meanwhile.
var ErrChanged = errors.New("wurde inzwischen von einem anderen Programm geändert")

// ErrUnsupported is returned by a handle method whose operation the
// backend does not offer (a version listing on a store without versions,
// compare-and-swap where the backend declares none).
var ErrUnsupported = errors.New("vom Speicher nicht unterstützt")

// condFailed reports whether err is a failed condition of either kind.
func condFailed(err error) bool {
	return errors.Is(err, iofs.ErrExist) || errors.Is(err, ErrChanged)
}
