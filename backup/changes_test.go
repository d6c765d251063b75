package backup

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// changeOf returns the change listed for path, failing when there is none.
func changeOf(t *testing.T, r *Report, path string) Change {
	t.Helper()
	for _, c := range r.Changes.Items {
		if c.Path == path {
			return c
		}
	}
	t.Fatalf("no change for %s in %+v", path, r.Changes.Items)
	return Change{}
}

func fiveOrders() [][]string {
	return [][]string{row("1", "000001"), row("2", "000002"), row("3", "000003"), row("4", "000004"), row("5", "000005")}
}

// TestExportNamesRepairs: export repairs backups that were deleted,
// edited or damaged in the archive while their rows stayed the same, and
// names each at WARNING with the order and what was wrong; a row changed
// in the database is no repair. The summary and --json count the repairs.
func TestExportNamesRepairs(t *testing.T) {
	f := newFixture(t, fiveOrders())
	f.e.MassChange = 0.99 // the guard reads the newest generation: what the last export wrote
	ctx := context.Background()
	f.export(ExportOptions{})

	// 000004: a consistent pair of another content (an old copy put back).
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Alt' WHERE record_id = 4`)
	f.export(ExportOptions{})
	oldData, oldMeta := f.read("2024/000004/data.csv"), f.read("2024/000004/meta.json")
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Müller' WHERE record_id = 4`)
	f.export(ExportOptions{})
	f.write("2024/000004/data.csv", oldData)
	f.write("2024/000004/meta.json", oldMeta)

	for _, name := range []string{"2024/000001/data.csv", "2024/000001/meta.json", "2024/000003/meta.json"} {
		if err := f.fs.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
	f.write("2024/000002/data.csv", strings.Replace(f.read("2024/000002/data.csv"), "Müller", "Maier", 1))
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Neu' WHERE record_id = 5`)

	r, err := f.e.Export(ctx, ExportOptions{})
	if err != nil {
		t.Fatalf("export: %v\n%s", err, problems(r))
	}
	ch := r.Changes
	if ch.Repaired != 4 || ch.Changed != 1 || ch.New != 0 || r.Written != 5 {
		t.Fatalf("counts: %+v, written %d\n%s", ch, r.Written, problems(r))
	}
	hasProblem(t, r, LevelWarning, "2024/000001", "Auftrag 000001 repariert", "data.csv und meta.json fehlten (Sicherung gelöscht)")
	hasProblem(t, r, LevelWarning, "2024/000002", "Auftrag 000002 repariert", "data.csv verändert oder beschädigt")
	hasProblem(t, r, LevelWarning, "2024/000003", "Auftrag 000003 repariert", "meta.json fehlte (gelöscht)")
	hasProblem(t, r, LevelWarning, "2024/000004", "Auftrag 000004 repariert", "bearbeitet oder durch eine alte ersetzt")
	for _, p := range r.Problems {
		if p.Path == "2024/000005" {
			t.Fatalf("a changed row is no repair: %s", p)
		}
	}
	if !strings.HasPrefix(r.Summary(), "Export abgeschlossen: 5 erfolgreich, 0 Fehler, 4 Sicherungen repariert") {
		t.Fatalf("summary: %s", r.Summary())
	}
	js, _ := json.Marshal(r)
	if !strings.Contains(string(js), `"repaired":4`) || !strings.Contains(string(js), `"action":"repariert"`) {
		t.Fatalf("--json: %s", js)
	}
	if !strings.Contains(f.log.String(), "level=WARN") || !strings.Contains(f.log.String(), "Sicherung von Auftrag 000002 repariert") {
		t.Fatalf("log:\n%s", f.log)
	}

	// Repaired: the next export finds nothing to do.
	r = f.export(ExportOptions{})
	if r.Changes.Repaired != 0 || r.Written != 0 || len(r.Problems) != 0 {
		t.Fatalf("second export: %+v\n%s", r.Changes, problems(r))
	}
}

// TestExportRepairsWithoutHistory: without a generation to compare with,
// a data.csv that does not match its meta.json is still a repair; a
// missing backup counts as new.
func TestExportRepairsWithoutHistory(t *testing.T) {
	f := newFixture(t, fiveOrders())
	f.export(ExportOptions{})
	f.write("2024/000002/data.csv", strings.Replace(f.read("2024/000002/data.csv"), "Müller", "Maier", 1))
	f.write("2024/000003/meta.json", "{kaputt")
	f.fs.Remove("2024/000001/data.csv")
	f.fs.Remove("2024/000001/meta.json")
	r := f.export(ExportOptions{})
	if r.Changes.Repaired != 2 || r.Changes.New != 1 {
		t.Fatalf("counts: %+v\n%s", r.Changes, problems(r))
	}
	hasProblem(t, r, LevelWarning, "2024/000002", "data.csv verändert oder beschädigt")
	hasProblem(t, r, LevelWarning, "2024/000003", "meta.json beschädigt")
}

// TestExportDryRunLists: a dry run lists what it would write (new,
// changed), repair and remove, writes nothing, and its summary line says
// "Probelauf", never "Export abgeschlossen" (the seed's monitoring greps
// for that line and would count the dry run as a backup).
func TestExportDryRunLists(t *testing.T) {
	f := newFixture(t, fiveOrders())
	f.e.MassChange = 0.99
	f.export(ExportOptions{})
	execDB(t, f.e.DBPath, `INSERT INTO auftraege (record_id, auftrag_nr, file_path, datum) VALUES (6, '000006', 'test_archiv/2024/000006/000006_Auftrag.pdf', '2024-07-29')`)
	execDB(t, f.e.DBPath, `UPDATE auftraege SET kunde_name = 'Neu' WHERE record_id = 5`)
	f.write("2024/000002/data.csv", strings.Replace(f.read("2024/000002/data.csv"), "Müller", "Maier", 1))
	f.write("2024/000003/data.tmp.csv", "Rest")
	damaged := f.read("2024/000002/data.csv")
	f.log.Reset()

	r, err := f.e.Export(context.Background(), ExportOptions{DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, problems(r))
	}
	for path, action := range map[string]string{
		"2024/000006":              ChangeNew,
		"2024/000005":              ChangeChanged,
		"2024/000002":              ChangeRepair,
		"2024/000003/data.tmp.csv": ChangeRemove,
	} {
		if c := changeOf(t, r, path); c.Action != action {
			t.Errorf("%s: %+v, want %s", path, c, action)
		}
	}
	if c := r.Changes; c.New != 1 || c.Changed != 1 || c.Repaired != 1 || c.Removed != 1 || len(c.Items) != 4 {
		t.Fatalf("counts: %+v", c)
	}
	if f.exists("2024/000006") || f.read("2024/000002/data.csv") != damaged || !f.exists("2024/000003/data.tmp.csv") {
		t.Fatal("the dry run wrote")
	}
	s := r.Summary()
	if strings.Contains(s, "Export abgeschlossen") || !strings.Contains(s, "Probelauf") ||
		!strings.Contains(s, "würde 1 neu schreiben, 1 ändern, 1 reparieren, 1 entfernen") {
		t.Fatalf("summary: %s", s)
	}
	if strings.Contains(f.log.String(), "Export abgeschlossen") || !strings.Contains(f.log.String(), "Export-Probelauf beendet") {
		t.Fatalf("log:\n%s", f.log)
	}
	// A dry run's repair is a plan, not a warning.
	for _, p := range r.Problems {
		if strings.Contains(p.Message, "repariert") {
			t.Fatalf("dry run reported %s", p)
		}
	}
}
