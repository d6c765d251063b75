package history

import (
	"context"
	"runtime"
	"testing"
	"weak"

	"werkstatt-backup/backends/mem"
)

// Issue 25: Commit puts each new content into the pack as it fetches it
// and keeps none of them: a first export of 100,000 orders held all
// their bytes (30 MB) beside the pack. Every content is a new array here;
// when the next one is asked for, after a full collection, the one
// before it must be gone.
func TestCommitHoldsNoContent(t *testing.T) {
	tb := newTable(7, 60)
	recs, base, _ := tb.records()
	var handed []weak.Pointer[byte]
	held := 0
	content := func(r Record) ([]byte, error) {
		runtime.GC()
		for _, w := range handed[:max(0, len(handed)-1)] {
			if w.Value() != nil {
				held++
			}
		}
		data, err := base(r)
		if err != nil {
			return nil, err
		}
		b := append([]byte(nil), data...)
		handed = append(handed, weak.Make(&b[0]))
		return b, nil
	}
	s := Open(mem.NewArchive())
	if _, err := s.Commit(context.Background(), recs, content); err != nil {
		t.Fatal(err)
	}
	if held > 0 {
		t.Fatalf("Commit hielt Inhalte fest, die es schon gepackt hatte (%d Mal gesehen)", held)
	}
	assertSnapshot(t, s, 1, tb.want())
}
