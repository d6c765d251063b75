package backup

import (
	"strings"
	"testing"
)

// TestDryRunSummariesSayProbelauf: no dry run's summary line may contain
// "… abgeschlossen", which monitoring counts as a finished run.
func TestDryRunSummariesSayProbelauf(t *testing.T) {
	for _, r := range []*Report{
		{Command: "export", DryRun: true},
		{Command: "restore", DryRun: true, OK: 3},
		{Command: "restore", DryRun: true, OK: 3, Generation: 7, Records: 3},
		{Command: "forget", DryRun: true},
		{Command: "migrate", DryRun: true, OK: 2},
	} {
		s := r.Summary()
		if strings.Contains(s, "abgeschlossen") || !strings.Contains(s, "Probelauf beendet") || !r.SummarySaysDryRun() {
			t.Errorf("%s --dry-run: %q", r.Command, s)
		}
	}
	if s := (&Report{Command: "migrate", DryRun: true, OK: 2}).Summary(); !strings.Contains(s, "2 würden migriert") {
		t.Errorf("migrate --dry-run: %q", s)
	}
}
