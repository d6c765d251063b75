package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// changesOut is history --changes --json.
type changesOut struct {
	Archive string `json:"archive"`
	From    struct {
		Seq     uint64    `json:"seq"`
		Time    time.Time `json:"time"`
		Records int       `json:"records"`
	} `json:"from"`
	To struct {
		Seq     uint64    `json:"seq"`
		Time    time.Time `json:"time"`
		Records int       `json:"records"`
	} `json:"to"`
	Added, Changed, Removed []struct {
		AuftragNr string `json:"auftrag_nr"`
		RecordID  int64  `json:"record_id"`
		Fields    []struct {
			Field string `json:"field"`
			Old   string `json:"old"`
			New   string `json:"new"`
		} `json:"fields"`
	}
	ExitCode int `json:"exit_code"`
}

// TestHistoryChangesThroughTheBinary: three exports, between the first
// and the second one order changed, one removed and one added, between
// the second and the third one more changed. history --changes lists the
// last two by default, --from/--to (numbers, #N, times) and --since any
// two, in text (a line per order, the fields indented, a summary) and
// --json; flags that conflict or name no generation are exit 2 naming
// the flag.
func TestHistoryChangesThroughTheBinary(t *testing.T) {
	dir := workshop(t, 20)
	archive := filepath.Join(dir, "test_archiv")
	db := filepath.Join(archive, "werkstatt.db")
	run := func(code int, args ...string) result {
		t.Helper()
		return wb(t, dir, append(args, "--archiv", archive, "--db", db)...).expect(t, code)
	}
	run(0, "export")
	r := run(2, "history", "--changes")
	if !strings.Contains(r.stderr, "noch keine zwei Generationen") || !strings.Contains(r.stderr, "--changes") {
		t.Fatalf("one generation: %s", r.stderr)
	}
	rows := tableRows(t, db)
	execSQL(t, db,
		"UPDATE auftraege SET kunde_name = 'Erika Mustermann' WHERE record_id = "+rows[0][0],
		"DELETE FROM auftraege WHERE record_id = "+rows[1][0],
		"INSERT INTO auftraege SELECT record_id + 100000, '999999', kunde_name, kunden_nr, kennzeichen, vin, datum, formular_version, keywords_json, replace(file_path, auftrag_nr, '999999'), hash, data_complete, created_at, updated_at FROM auftraege WHERE record_id = "+rows[2][0],
	)
	run(0, "export")
	execSQL(t, db, "UPDATE auftraege SET kennzeichen = 'M-XY 1' WHERE record_id = "+rows[3][0])
	run(0, "export")
	var list historyList
	if err := json.Unmarshal([]byte(run(0, "history", "--json").stdout), &list); err != nil || len(list.Generations) != 3 {
		t.Fatalf("history --json: %v %+v", err, list)
	}
	gens := list.Generations

	// Default: the last two, in text.
	text := run(0, "history", "--changes").stdout
	want := []string{
		"geändert  Auftrag " + rows[3][1] + " (record_id " + rows[3][0] + ", ",
		`  kennzeichen: "` + rows[3][4] + `" → "M-XY 1"`,
		"0 neu, 1 geändert, 0 entfernt zwischen Generation 2 (" + gens[1].ArchiveTime.Local().Format("2006-01-02 15:04:05.000") +
			") und 3 (" + gens[2].ArchiveTime.Local().Format("2006-01-02 15:04:05.000") + ")",
	}
	if lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], want[0]) || lines[1] != want[1] || lines[2] != want[2] {
		t.Fatalf("history --changes:\n%s\nwant:\n%s", text, strings.Join(want, "\n"))
	}

	changes := func(args ...string) changesOut {
		t.Helper()
		var out changesOut
		r := run(0, append([]string{"history", "--changes", "--json"}, args...)...)
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, r.stdout)
		}
		return out
	}
	// By number: what the second export did.
	one := func(name string, c changesOut) {
		t.Helper()
		if c.From.Seq != 1 || c.To.Seq != 2 || c.From.Records != 20 || c.To.Records != 20 ||
			len(c.Added) != 1 || c.Added[0].AuftragNr != "999999" ||
			len(c.Removed) != 1 || c.Removed[0].AuftragNr != rows[1][1] ||
			len(c.Changed) != 1 || c.Changed[0].AuftragNr != rows[0][1] || len(c.Changed[0].Fields) != 1 ||
			c.Changed[0].Fields[0].Field != "kunde_name" || c.Changed[0].Fields[0].Old != rows[0][2] || c.Changed[0].Fields[0].New != "Erika Mustermann" {
			t.Fatalf("%s: %+v", name, c)
		}
	}
	one("--from 1 --to 2", changes("--from", "1", "--to", "2"))
	one("--from #1 --to #2", changes("--from", "#1", "--to", "#2"))
	one("--from/--to by time", changes("--from", gens[0].ArchiveTime.Format(time.RFC3339Nano), "--to", gens[1].ArchiveTime.Format(time.RFC3339Nano)))
	one("--to 2 alone", changes("--to", "2"))
	// --since the first export's time: everything to the newest.
	c := changes("--since", gens[0].ArchiveTime.Format(time.RFC3339Nano))
	if c.From.Seq != 1 || c.To.Seq != 3 || len(c.Added) != 1 || len(c.Changed) != 2 || len(c.Removed) != 1 ||
		c.Changed[0].RecordID > c.Changed[1].RecordID || !strings.HasPrefix(c.Archive, archive) {
		t.Fatalf("--since: %+v", c)
	}
	// Stable keys: lists are lists, also when empty.
	raw := run(0, "history", "--changes", "--json").stdout
	for _, k := range []string{`"from":{"seq":2,`, `"to":{"seq":3,`, `"added":[]`, `"removed":[]`, `"fields":[{"field":"kennzeichen"`} {
		if !strings.Contains(strings.Join(strings.Fields(raw), ""), k) {
			t.Fatalf("--json lacks %s:\n%s", k, raw)
		}
	}

	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"--since", "2026-11-01"}, "--since gilt nur mit --changes"},
		{[]string{"--changes", "--since", "2026-11-01", "--from", "1"}, "--since und --from"},
		{[]string{"--changes", "--auftrag", rows[0][1]}, "--changes und --auftrag"},
		{[]string{"--changes", "--from", "9"}, "--from: "},
		{[]string{"--changes", "--to", "#9"}, "--to: "},
		{[]string{"--changes", "--from", "gestern"}, "--from: "},
		{[]string{"--changes", "--from", "3", "--to", "1"}, "--from/--to: "},
		{[]string{"--changes", "--since", "2001-01-01"}, "--since: "},
		{[]string{"--changes", "--to", "1"}, "--to: "},
	} {
		r := run(2, append([]string{"history"}, c.args...)...)
		if !strings.Contains(r.stderr, c.flag) {
			t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, c.flag)
		}
	}
}

// history --all-sites --changes: each site's changes under its heading,
// one line per site with its summary, one JSON object with an entry per
// site; a site with a single generation fails alone (exit 2).
func TestHistoryChangesAllSites(t *testing.T) {
	nord, sued := workshop(t, 5), workshop(t, 3)
	site := func(name, dir string) map[string]any {
		return map[string]any{"name": name, "db": filepath.Join(dir, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(dir, "test_archiv")}
	}
	cfg := sitesConfig(t, map[string]any{"log_file": "werkstatt.log", "sites": []map[string]any{site("nord", nord), site("sued", sued)}})
	elsewhere := t.TempDir()
	for _, s := range []string{"nord", "sued"} {
		wb(t, elsewhere, "export", "--config", cfg, "--site", s).expect(t, 0)
	}
	nordDB := filepath.Join(nord, "test_archiv", "werkstatt.db")
	rows := tableRows(t, nordDB)
	execSQL(t, nordDB, "UPDATE auftraege SET kunde_name = 'Erika Mustermann' WHERE record_id = "+rows[0][0])
	wb(t, elsewhere, "export", "--config", cfg, "--site", "nord").expect(t, 0)

	r := wb(t, elsewhere, "history", "--config", cfg, "--all-sites", "--changes").expect(t, 2)
	for _, w := range []string{"[nord] Archiv ", `  kunde_name: "` + rows[0][2] + `" → "Erika Mustermann"`,
		"Standort nord: 0 neu, 1 geändert, 0 entfernt zwischen Generation 1 (", "Standort sued: Fehler: --changes: "} {
		if !strings.Contains(r.stdout, w) {
			t.Fatalf("history --all-sites --changes lacks %q:\n%s", w, r.stdout)
		}
	}
	var out struct {
		Sites []struct {
			Site     string `json:"site"`
			ExitCode int    `json:"exit_code"`
			changesOut
		} `json:"sites"`
	}
	r = wb(t, elsewhere, "history", "--config", cfg, "--all-sites", "--changes", "--json").expect(t, 2)
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Sites) != 2 || out.Sites[0].ExitCode != 0 ||
		len(out.Sites[0].Changed) != 1 || out.Sites[0].To.Seq != 2 || out.Sites[1].ExitCode != 2 {
		t.Fatalf("--all-sites --changes --json: %v %+v\n%s", err, out, r.stdout)
	}
}
