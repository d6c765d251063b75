package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"werkstatt-backup/store"
)

func execSQL(t *testing.T, p string, stmts ...string) {
	t.Helper()
	db, err := store.OpenWrite(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if err := db.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

type historyList struct {
	Generations []struct {
		Generation                       uint64
		ArchiveTime                      time.Time `json:"archive_time"`
		Records, Changed, Added, Removed int
	}
	ExitCode int `json:"exit_code"`
}

// historyCycle: export, change rows (update, delete, insert), export
// again; history lists both generations, history --auftrag the changed
// fields; with every data.csv overwritten by garbage, restore --at gives
// the first table and then the second; the mass-change guard refuses a
// 30 % change and takes it with --allow-mass-change.
// archiveDir is where the archive's files lie on this machine.
func historyCycle(t *testing.T, dir, archiveDir string, env []string, archiveArgs ...string) {
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	run := func(code int, args ...string) result {
		t.Helper()
		return wbEnv(t, dir, env, append(append(args, archiveArgs...), "--db", db)...).expect(t, code)
	}
	run(0, "export")
	first := tableRows(t, db)
	nr := first[0][1]
	execSQL(t, db,
		"UPDATE auftraege SET kunde_name = 'Erika Mustermann', vin = 'WVWZZZ1KZAW000001' WHERE record_id = "+first[0][0],
		"UPDATE auftraege SET kennzeichen = 'M-XY 1' WHERE record_id = "+first[1][0],
		"DELETE FROM auftraege WHERE record_id IN ("+first[2][0]+", "+first[3][0]+")",
		"INSERT INTO auftraege SELECT record_id + 100000, '999999', kunde_name, kunden_nr, kennzeichen, vin, datum, formular_version, keywords_json, replace(file_path, auftrag_nr, '999999'), hash, data_complete, created_at, updated_at FROM auftraege WHERE record_id = "+first[4][0],
	)
	run(0, "export")
	second := tableRows(t, db)

	var list historyList
	if err := json.Unmarshal([]byte(run(0, "history", "--json").stdout), &list); err != nil {
		t.Fatal(err)
	}
	g := list.Generations
	if len(g) != 2 || g[0].Records != 30 || g[0].Added != 30 || g[1].Records != 29 || g[1].Changed != 2 || g[1].Added != 1 || g[1].Removed != 2 {
		t.Fatalf("history --json: %+v", list)
	}
	text := run(0, "history").stdout
	if !strings.Contains(text, "Generation") || strings.Count(text, "\n") != 3 {
		t.Fatalf("history:\n%s", text)
	}
	orders := run(0, "history", "--auftrag", nr).stdout
	for _, w := range []string{"Generation 1", "neu", "Generation 2", "geändert", `kunde_name: "` + first[0][2] + `" → "Erika Mustermann"`, `vin: "` + first[0][5] + `" → "WVWZZZ1KZAW000001"`} {
		if !strings.Contains(orders, w) {
			t.Fatalf("history --auftrag %s lacks %q:\n%s", nr, w, orders)
		}
	}

	var versions struct {
		AuftragNr string `json:"auftrag_nr"`
		Versions  []struct {
			Generation uint64
			State      string
			Changes    []struct{ Column, Old, New string }
		}
		ExitCode int `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(run(0, "history", "--auftrag", nr, "--json").stdout), &versions); err != nil {
		t.Fatal(err)
	}
	if v := versions.Versions; versions.AuftragNr != nr || len(v) != 2 || v[1].State != "geändert" || len(v[1].Changes) != 2 ||
		v[1].Changes[0].Column != "kunde_name" || v[1].Changes[0].New != "Erika Mustermann" {
		t.Fatalf("history --auftrag --json: %+v", versions)
	}

	// Every data.csv overwritten with garbage.
	n := 0
	filepath.WalkDir(archiveDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "data.csv" {
			n++
			return os.WriteFile(p, []byte("kaputt\n"), 0o644)
		}
		return err
	})
	if n != 31 {
		t.Fatalf("%d data.csv overwritten", n)
	}
	run(3, "verify")
	at := func(i int) string { return g[i].ArchiveTime.Format(time.RFC3339Nano) }
	run(0, "restore", "--at", at(0), "--force")
	if got := tableRows(t, db); !slices.EqualFunc(got, first, slices.Equal) {
		t.Fatalf("restore --at the first export:\n got %q\nwant %q", got, first)
	}
	run(0, "restore", "--at", at(1), "--force", "--allow-shrink")
	if got := tableRows(t, db); !slices.EqualFunc(got, second, slices.Equal) {
		t.Fatalf("restore --at the second export:\n got %q\nwant %q", got, second)
	}
	r := run(2, "restore", "--at", "gestern", "--force")
	if !strings.Contains(r.stderr, "--at") || !strings.Contains(r.stderr, "gestern") {
		t.Fatalf("bad --at: %s", r.stderr)
	}

	// The mass-change guard: 9 of 29 backups (31 %) changed.
	run(0, "export")
	execSQL(t, db, "UPDATE auftraege SET kunde_name = 'Massen Änderung' WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 9)")
	r = run(3, "export")
	if !strings.Contains(r.stderr, "9 von 29") || !strings.Contains(r.stderr, "--allow-mass-change") {
		t.Fatalf("mass change: %s", r.stderr)
	}
	run(0, "export", "--allow-mass-change")
	if err := json.Unmarshal([]byte(run(0, "history", "--json").stdout), &list); err != nil || len(list.Generations) != 4 || list.Generations[3].Changed != 9 {
		t.Fatalf("after the confirmed mass change: %v %+v", err, list)
	}

	// forget: the config key retention (here from the environment) by
	// default, --keep-* instead; --dry-run lists and changes nothing.
	r = wbEnv(t, dir, append(env, "ARCHIV_RETENTION=last=3"), append(append([]string{"forget", "--dry-run"}, archiveArgs...), "--db", db)...).expect(t, 0)
	if !strings.Contains(r.stdout, "Regeln: --keep-last 3\n") || !strings.Contains(r.stdout, "Generation 1 vom") || strings.Contains(r.stdout, "Generation 2 vom") {
		t.Fatalf("forget --dry-run with retention last=3:\n%s", r.stdout)
	}
	r = run(0, "forget", "--keep-last", "2")
	if !strings.Contains(r.stdout, "Generation 1 vom") || !strings.Contains(r.stdout, "Generation 2 vom") || !strings.Contains(r.stdout, "entfernt") {
		t.Fatalf("forget --keep-last 2:\n%s", r.stdout)
	}
	if err := json.Unmarshal([]byte(run(0, "history", "--json").stdout), &list); err != nil || len(list.Generations) != 2 || list.Generations[0].Generation != 3 {
		t.Fatalf("after forget: %v %+v", err, list)
	}
	run(2, "forget", "--keep-last", "0")
	run(2, "forget", "--keep-daily", "-2")
	run(0, "restore", "--at", list.Generations[1].ArchiveTime.Format(time.RFC3339Nano), "--force")
	if got := tableRows(t, db); len(got) != 29 {
		t.Fatalf("restore --at after forget: %d rows", len(got))
	}
}

func TestHistoryCycleThroughTheBinary(t *testing.T) {
	dir := workshop(t, 30)
	historyCycle(t, dir, filepath.Join(dir, "test_archiv"), nil, "--archiv", filepath.Join(dir, "test_archiv"))
}

func TestHistoryCycleSMB(t *testing.T) {
	t.Parallel()
	site := newSMBSite(t)
	dir := workshop(t, 30)
	historyCycle(t, dir, site.dir(), site.env, "--archiv", site.url)
}
