package backup

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
)

// restore --at names the generation it used (number, archive time with
// milliseconds, record count) in its summary line, its log and --json,
// and --generation N restores generation N.
func TestRestoreAtNamesTheGeneration(t *testing.T) {
	ctx := context.Background()
	f, now := historyFixture(t, sample.Rows(12, 4))
	*now = now.Add(123 * time.Millisecond)
	f.export(ExportOptions{})
	first := dbRows(t, f.e.DBPath)
	changeRows(t, f, "DELETE FROM auftraege WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 2)")
	*now = now.Add(time.Hour)
	f.export(ExportOptions{})

	r, err := f.e.Restore(ctx, RestoreOptions{Generation: 1, Force: true})
	if err != nil {
		t.Fatalf("restore --generation 1: %v\n%s", err, problems(r))
	}
	if got := dbRows(t, f.e.DBPath); len(got) != len(first) {
		t.Fatalf("restored %d rows, generation 1 has %d", len(got), len(first))
	}
	shown := time.Date(2026, 11, 1, 2, 0, 0, 123e6, time.UTC).Local().Format(history.TimeLayout)
	line := r.Summary()
	for _, w := range []string{"Generation 1", shown, "(12 Datensätze)"} {
		if !strings.Contains(line, w) {
			t.Fatalf("summary %q does not say %q", line, w)
		}
	}
	if !strings.Contains(f.log.String(), "Generation 1 vom "+shown) {
		t.Fatalf("log does not name the generation:\n%s", f.log.String())
	}
	j, _ := json.Marshal(r)
	if !strings.Contains(string(j), `"generation":1`) || !strings.Contains(string(j), `"generation_time":"2026-11-01T02:00:00.123Z"`) {
		t.Fatalf("json: %s", j)
	}
}
