package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/sample"
)

// A slow creep: every night 20 % of the orders change (each below the
// 25 % guard), so that within a week most names change. Compared also
// with the generation of 7 days before the newest, the export that makes
// the week's change exceed the limit is refused.
func TestMassChangeWindowCatchesSlowCreep(t *testing.T) {
	f, now := historyFixture(t, sample.Rows(20, 8))
	f.e.MassChange = DefaultMassChange
	f.export(ExportOptions{})
	var refused error
	for night := range 5 {
		*now = now.Add(24 * time.Hour)
		changeRows(t, f, fmt.Sprintf("UPDATE auftraege SET kunde_name = 'Nacht %d' WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 4 OFFSET %d)", night, 4*night))
		if _, err := f.e.Export(context.Background(), ExportOptions{}); err != nil {
			refused = err
			if night != 1 {
				t.Fatalf("night %d refused: %v", night, err)
			}
			break
		}
	}
	if !errors.Is(refused, ErrMassChange) || !strings.Contains(refused.Error(), "mass_change_window") || !strings.Contains(refused.Error(), "8 von 20") {
		t.Fatalf("slow creep: %v", refused)
	}
	f.e.MassChangeWindow = -1
	if _, err := f.e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatalf("window off: %v", err)
	}
}
