package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/store"
)

// orderOf returns auftrag_nr and kunde_name of record id.
func orderOf(t *testing.T, db string, id int64) (string, string) {
	t.Helper()
	d, err := store.OpenRead(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.ReadRow(context.Background(), "auftraege", "record_id", id)
	if err != nil || r == nil {
		t.Fatalf("record %d: %v", id, err)
	}
	nr, _ := r.Get("auftrag_nr")
	kunde, _ := r.Get("kunde_name")
	return nr.String(), kunde.String()
}

func sqlExec(t *testing.T, db, stmt string) {
	t.Helper()
	d, err := store.OpenWrite(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Exec(context.Background(), stmt); err != nil {
		t.Fatal(err)
	}
}

// TestRestoreOrderThroughTheBinary: restore --auftrag NR as an admin runs
// it: the dry run shows old and new side by side and is no "Restore
// abgeschlossen" in the log; the real run names the undo file also with
// --json, whose report holds the old row; --undo puts it back; an unknown
// order is exit 1, --force with --auftrag a usage error (2); the help
// shows the German placeholders.
func TestRestoreOrderThroughTheBinary(t *testing.T) {
	dir := workshop(t, 10)
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	seed := []string{"--db", "./test_archiv/werkstatt.db", "--archiv", "./test_archiv"}
	run := func(code int, args ...string) result {
		t.Helper()
		return wb(t, dir, append(args, seed...)...).expect(t, code)
	}
	run(0, "export")
	nr, kunde := orderOf(t, db, 3)
	sqlExec(t, db, `UPDATE auftraege SET kunde_name = 'Meier, Karl' WHERE record_id = 3`)

	r := run(0, "restore", "--auftrag", nr, "--dry-run")
	if !strings.Contains(r.stdout, "würde ersetzt") || !strings.Contains(r.stdout, `* kunde_name`) ||
		!strings.Contains(r.stdout, `"Meier, Karl"`) || !strings.Contains(r.stdout, "Probelauf") {
		t.Fatalf("dry run:\n%s", r.stdout)
	}
	if _, k := orderOf(t, db, 3); k != "Meier, Karl" {
		t.Fatal("dry run changed the database")
	}
	log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	if strings.Contains(string(log), "Restore abgeschlossen") {
		t.Fatalf("dry run logged a finished restore:\n%s", log)
	}

	r = run(0, "restore", "--auftrag", nr, "--json")
	var rep struct {
		ExitCode int `json:"exit_code"`
		Order    struct {
			UndoFile string            `json:"undo_file"`
			Old      []json.RawMessage `json:"old"`
			Action   string            `json:"action"`
		} `json:"order"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if rep.Order.Action != "ersetzt" || len(rep.Order.Old) == 0 || rep.Order.UndoFile == "" || !strings.Contains(r.stderr, "restore --undo "+rep.Order.UndoFile) {
		t.Fatalf("report: %+v\nstderr: %s", rep, r.stderr)
	}
	if _, k := orderOf(t, db, 3); k != kunde {
		t.Fatalf("kunde_name %q, want %q", k, kunde)
	}
	log, _ = os.ReadFile(filepath.Join(dir, "backup_system.log"))
	if !strings.Contains(string(log), `alte Zeile: record_id="3"`) || !strings.Contains(string(log), "INFO - Restore abgeschlossen: 1 Datensätze wiederhergestellt, 0 Fehler (Auftrag "+nr) {
		t.Fatalf("log:\n%s", log)
	}

	run(0, "restore", "--undo", rep.Order.UndoFile)
	if _, k := orderOf(t, db, 3); k != "Meier, Karl" {
		t.Fatalf("undo: kunde_name %q", k)
	}

	r = run(1, "restore", "--auftrag", "999999")
	if !strings.Contains(r.stderr, "keine Sicherung von Auftrag 999999") {
		t.Fatalf("unknown order: %s", r.stderr)
	}
	run(2, "restore", "--auftrag", nr, "--force")
	run(2, "restore", "--undo", rep.Order.UndoFile, "--auftrag", nr)

	r = wb(t, dir, "restore", "--help").expect(t, 0)
	for _, want := range []string{"--auftrag NR", "--undo DATEI", "--at ZEIT"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("restore --help lacks %q:\n%s", want, r.stdout)
		}
	}
}
