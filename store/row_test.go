package store

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"
)

// TestReplaceRow: update, insert and delete of one row by its key, the old
// row returned exactly as stored (every storage class), a refusing check
// rolls back, and the other rows stay as they were.
func TestReplaceRow(t *testing.T) {
	ctx := context.Background()
	db, _ := newWriteDB(t)
	mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, nr TEXT, n, extra TEXT)`)
	mustExec(t, db, `INSERT INTO t VALUES (1, '076329', 1.5, 'bleibt'), (2, '076330', x'00ff', NULL), (3, '076331', NULL, 'x')`)
	before := scanAll(t, db, "t")

	set := &Row{Columns: []string{"id", "nr", "n"}, Values: []Value{{Kind: KindInteger, Int: 1}, {Kind: KindText, Text: "076329"}, {Kind: KindText, Text: "neu"}}}
	old, after, err := db.ReplaceRow(ctx, RowChange{Table: "t", Key: "id", ID: 1, New: set})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.Get("n"); v.Kind != KindReal || v.Real != 1.5 {
		t.Fatalf("old n: %+v", v)
	}
	if v, _ := after.Get("extra"); v.Text != "bleibt" {
		t.Fatalf("a column not named changed: %+v", after)
	}
	rows := scanAll(t, db, "t")
	if !slices.Equal(rows[1], before[1]) || !slices.Equal(rows[2], before[2]) || rows[0][2] != "neu" {
		t.Fatalf("rows: %v", rows)
	}

	// A refusing check rolls back; the lookup sees the table.
	refused := errors.New("nein")
	_, _, err = db.ReplaceRow(ctx, RowChange{Table: "t", Key: "id", ID: 2, New: nil, Check: func(old *Row, lookup func(string, string) ([]int64, error)) error {
		ids, err := lookup("nr", "076331")
		if err != nil || !slices.Equal(ids, []int64{3}) {
			t.Errorf("lookup: %v %v", ids, err)
		}
		return refused
	}})
	if !errors.Is(err, refused) || len(scanAll(t, db, "t")) != 3 {
		t.Fatalf("refused delete: %v", err)
	}

	// Delete, then insert the old row back exactly (a blob stays a blob).
	old, after, err = db.ReplaceRow(ctx, RowChange{Table: "t", Key: "id", ID: 2})
	if err != nil || after != nil {
		t.Fatalf("delete: %v %v", err, after)
	}
	if _, _, err := db.ReplaceRow(ctx, RowChange{Table: "t", Key: "id", ID: 2, New: old}); err != nil {
		t.Fatal(err)
	}
	again, err := db.ReadRow(ctx, "t", "id", 2)
	if err != nil || !sameValues(again, old) {
		t.Fatalf("re-inserted %+v, was %+v (%v)", again, old, err)
	}
}

func sameValues(a, b *Row) bool {
	if len(a.Values) != len(b.Values) {
		return false
	}
	for i := range a.Values {
		if !a.Values[i].Equal(b.Values[i]) {
			return false
		}
	}
	return slices.Equal(a.Columns, b.Columns)
}

// TestRowJSON: a row written to an undo file reads back exactly.
func TestRowJSON(t *testing.T) {
	r := Row{Columns: []string{"a", "b", "c", "d", "e", "f"}, Values: []Value{
		{Kind: KindNull}, {Kind: KindInteger, Int: math.MinInt64}, {Kind: KindReal, Real: 0.1},
		{Kind: KindReal, Real: math.Inf(-1)}, {Kind: KindText, Text: "Schmidt, Jürgen \"x\"\n"}, {Kind: KindBlob, Text: "\x00\xff"}}}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Row
	if err := json.Unmarshal(raw, &back); err != nil || !sameValues(&back, &r) {
		t.Fatalf("%s → %+v (%v)", raw, back, err)
	}
	if err := json.Unmarshal([]byte(`[{"column":"a","type":"zahl","value":1}]`), &back); err == nil {
		t.Fatal("an unknown type was accepted")
	}
}
