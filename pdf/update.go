package pdf

import (
	"context"
	"fmt"

	"werkstatt-backup/storage"
)

// Update replaces an index file by the entries an export run puts, while
// it reads the old one as a stream: neither index is ever held whole. The
// run asks for each order's last entry (Prev) and puts its new one (Put),
// both in record_id order. While every new entry is the old one at its
// place (times compared as instants) nothing is written, and an
// unchanged index is not written at all; at the first difference the
// equal entries so far are read from the old file once more and written
// to the new one, with all that follow.
type Update struct {
	ctx        context.Context
	a          *storage.Archive
	name, temp string

	old     *IndexReader // nil: none, or it ended
	cur     Entry        // old's next entry, when curOK
	curOK   bool
	oldErr  error
	oldRead int // entries of the old index read before oldErr

	kept    int  // entries put so far, each the old index's at its place
	changed bool // the new index differs from the old
	w       *IndexWriter
	werr    error
}

// NewUpdate starts replacing the index name (through temp). readOld
// false: the old one is known not to exist (not looked for).
func NewUpdate(ctx context.Context, a *storage.Archive, name, temp string, readOld bool) *Update {
	u := &Update{ctx: ctx, a: a, name: name, temp: temp}
	if readOld {
		u.old, _, u.oldErr = OpenIndex(ctx, a, name)
		if u.oldErr != nil {
			u.changed = true
		}
		u.advance()
	}
	return u
}

func (u *Update) advance() {
	if u.old == nil {
		u.curOK = false
		return
	}
	u.cur, u.curOK = u.old.Next()
	if !u.curOK {
		if err := u.old.Err(); err != nil {
			u.oldErr, u.oldRead, u.changed = err, u.old.Read(), true
		}
		u.old.Close()
		u.old = nil
	}
}

// Prev returns the old index's entry of record id, when it has one. The
// ids asked for must not decrease: the old entries passed over are no
// longer in the index.
func (u *Update) Prev(id int64) (Entry, bool) {
	for u.curOK && u.cur.RecordID < id {
		u.changed = true
		u.advance()
	}
	if !u.curOK || u.cur.RecordID != id {
		return Entry{}, false
	}
	e := u.cur
	u.advance()
	return e, true
}

// Put gives the new entry (nil: none) of the order whose old entry Prev
// returned (nil: none); the new entries come in record_id order.
func (u *Update) Put(prev, e *Entry) {
	if prev == nil && e == nil {
		return
	}
	if !u.changed && prev != nil && e != nil && prev.instants() == e.instants() {
		u.kept++
		return
	}
	u.changed = true
	if e == nil || u.werr != nil {
		return
	}
	if u.w == nil {
		u.start()
	}
	if u.werr == nil {
		u.werr = u.w.Add(*e)
	}
}

// start creates the new index and writes the kept entries into it, read
// again from the old one.
func (u *Update) start() {
	u.w, u.werr = CreateIndex(u.ctx, u.a, u.name, u.temp)
	if u.werr != nil || u.kept == 0 {
		return
	}
	r, _, err := OpenIndex(u.ctx, u.a, u.name)
	if err == nil && r == nil {
		err = fmt.Errorf("%s: verschwunden", u.name)
	}
	if err != nil {
		u.werr = err
		return
	}
	defer r.Close()
	for range u.kept {
		e, ok := r.Next()
		if !ok {
			u.werr = r.Err()
			if u.werr == nil {
				u.werr = fmt.Errorf("%s: kürzer als beim ersten Lesen", u.name)
			}
			return
		}
		if u.werr = u.w.Add(e); u.werr != nil {
			return
		}
	}
}

// ReadErr is why the old index could not be read (to its end, or at
// all); nil when it was read whole or there was none.
func (u *Update) ReadErr() error { return u.oldErr }

// ReadBefore is how many entries of the old index were read before
// ReadErr.
func (u *Update) ReadBefore() int { return u.oldRead }

// Finish writes the new index when it differs from the old one (written
// reports it). The old index stands when it is the same, or on an error.
func (u *Update) Finish() (written bool, err error) {
	if u.curOK {
		u.changed = true // old entries no order asked for
	}
	u.curOK = false
	u.old.Close()
	u.old = nil
	if !u.changed {
		return false, nil
	}
	if u.w == nil && u.werr == nil {
		u.start()
	}
	if u.werr != nil {
		u.Close()
		return false, u.werr
	}
	w := u.w
	u.w = nil
	if err := w.Commit(); err != nil {
		return false, err
	}
	return true, nil
}

// Close ends the update without writing (a run that stops, a dry run):
// the old index stands.
func (u *Update) Close() {
	u.old.Close()
	u.old = nil
	if u.w != nil {
		u.w.Abort()
		u.w = nil
	}
}
