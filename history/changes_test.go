package history

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// ids lists the record_ids of changes, New's for added and changed, Old's
// for removed.
func ids(cs []OrderChange) string {
	var out []int64
	for _, c := range cs {
		if c.New.RecordID != 0 {
			out = append(out, c.New.RecordID)
		} else {
			out = append(out, c.Old.RecordID)
		}
	}
	return fmt.Sprint(out)
}

// Three generations an hour apart: 1 with rows 1-5; 2 with row 2's name
// changed, row 4 deleted, row 6 added; 3 with row 3's name changed.
// Changes lists what turned one into the other, the changed fields with
// their old and new value: by default the last two, from a time (the
// generation at or before it) to the newest, and between two numbers.
func TestChangesBetweenGenerations(t *testing.T) {
	ctx := context.Background()
	clock := newClock("2026-11-02T02:00:00Z")
	s := Open(archiveOf(archiveClockFs{Fs: memArchive(), clock: clock}), WithClock(clock.Now))
	tb := newTable(24, 5)
	first := commit(t, s, tb).Info
	if _, err := s.Changes(ctx, Point{}, Point{}); !errors.Is(err, ErrTooFew) {
		t.Fatalf("one generation: %v", err)
	}
	oldName := tb.rows[2].name
	tb.update(2)
	delete(tb.rows, 4)
	tb.insert()
	clock.Add(time.Hour)
	second := commit(t, s, tb).Info
	tb.update(3)
	clock.Add(time.Hour)
	third := commit(t, s, tb).Info

	cl, err := s.Changes(ctx, Point{}, Point{})
	if err != nil {
		t.Fatal(err)
	}
	if cl.From.Seq != second.Seq || cl.To.Seq != third.Seq || ids(cl.Added) != "[]" || ids(cl.Changed) != "[3]" || ids(cl.Removed) != "[]" {
		t.Fatalf("default (last two): %d→%d added %s changed %s removed %s", cl.From.Seq, cl.To.Seq, ids(cl.Added), ids(cl.Changed), ids(cl.Removed))
	}

	cl, err = s.Changes(ctx, Point{Seq: first.Seq}, Point{Seq: second.Seq})
	if err != nil {
		t.Fatal(err)
	}
	if cl.From.Seq != first.Seq || cl.To.Seq != second.Seq || ids(cl.Added) != "[6]" || ids(cl.Changed) != "[2]" || ids(cl.Removed) != "[4]" {
		t.Fatalf("#1 to #2: added %s changed %s removed %s", ids(cl.Added), ids(cl.Changed), ids(cl.Removed))
	}
	c := cl.Changed[0]
	if len(c.Fields) == 0 || c.Fields[0].Column != "kunde_name" || c.Fields[0].Old != oldName || c.Fields[0].New != tb.rows[2].name {
		t.Fatalf("fields of record 2: %+v (was %q, is %q)", c.Fields, oldName, tb.rows[2].name)
	}
	for _, f := range c.Fields {
		if f.Column != "kunde_name" && f.Column != "updated_at" {
			t.Fatalf("unchanged column listed: %+v", f)
		}
	}
	if cl.Removed[0].Old.AuftragNr != "070004" || cl.Added[0].New.AuftragNr != "070006" {
		t.Fatalf("order numbers: removed %+v added %+v", cl.Removed[0].Old, cl.Added[0].New)
	}

	// --since: half an hour after the first generation is still the
	// first, so everything to the newest.
	cl, err = s.Changes(ctx, Point{Time: first.ArchiveTime.Add(30 * time.Minute)}, Point{})
	if err != nil {
		t.Fatal(err)
	}
	if cl.From.Seq != first.Seq || cl.To.Seq != third.Seq || ids(cl.Added) != "[6]" || ids(cl.Changed) != "[2 3]" || ids(cl.Removed) != "[4]" {
		t.Fatalf("since: %d→%d added %s changed %s removed %s", cl.From.Seq, cl.To.Seq, ids(cl.Added), ids(cl.Changed), ids(cl.Removed))
	}

	// --from and --to by time: the generations at those times.
	cl, err = s.Changes(ctx, Point{Time: second.ArchiveTime}, Point{Time: third.ArchiveTime.Add(time.Minute)})
	if err != nil || cl.From.Seq != second.Seq || cl.To.Seq != third.Seq || ids(cl.Changed) != "[3]" {
		t.Fatalf("by time: %v %+v", err, cl)
	}
	// --to alone: compared with the generation before it.
	cl, err = s.Changes(ctx, Point{}, Point{Seq: second.Seq})
	if err != nil || cl.From.Seq != first.Seq || ids(cl.Changed) != "[2]" {
		t.Fatalf("to #2 alone: %v %+v", err, cl)
	}
	// The same generation twice: nothing changed.
	cl, err = s.Changes(ctx, Point{Seq: second.Seq}, Point{Seq: second.Seq})
	if err != nil || len(cl.Added)+len(cl.Changed)+len(cl.Removed) != 0 {
		t.Fatalf("#2 to #2: %v %+v", err, cl)
	}

	var end *EndError
	for _, c := range []struct {
		name     string
		from, to Point
		isFrom   bool
		isTo     bool
	}{
		{"unknown from", Point{Seq: 9}, Point{}, true, false},
		{"unknown to", Point{}, Point{Seq: 9}, false, true},
		{"before the oldest", Point{Time: first.ArchiveTime.Add(-time.Hour)}, Point{}, true, false},
		{"nothing before the oldest", Point{}, Point{Seq: first.Seq}, false, true},
		{"from after to", Point{Seq: third.Seq}, Point{Seq: first.Seq}, true, true},
	} {
		_, err := s.Changes(ctx, c.from, c.to)
		if !errors.As(err, &end) || end.From != c.isFrom || end.To != c.isTo {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// Contents are read only for changed records: with the pack of a record
// that did not change gone, Changes still lists the changes.
func TestChangesReadOnlyChangedContents(t *testing.T) {
	ctx := context.Background()
	fsys := memArchive()
	s := Open(archiveOf(fsys))
	tb := newTable(25, 4)
	commit(t, s, tb)
	tb.insert()
	commit(t, s, tb)
	tb.update(5)
	commit(t, s, tb)
	if err := fsys.Remove(packOf(t, fsys, 1)); err != nil {
		t.Fatal(err)
	}
	cl, err := s.Changes(ctx, Point{}, Point{})
	if err != nil || ids(cl.Changed) != "[5]" || len(cl.Changed[0].Fields) == 0 {
		t.Fatalf("changes with the first pack gone: %v %+v", err, cl)
	}
	if cl, err := s.Changes(ctx, Point{Seq: 1}, Point{}); err != nil || ids(cl.Added) != "[5]" || len(cl.Changed) != 0 {
		t.Fatalf("#1 to #3 (an added record needs no content): %v %+v", err, cl)
	}
}
