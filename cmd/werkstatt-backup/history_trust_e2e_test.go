package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// Helpers of the history-trust tests (issue 21) through the built binary:
// a book of which table each generation must give back, filled as the
// exports run, and checked by restoring every generation.

// genBook maps a generation to the digest (crashTableDigest) of the
// database at the export that wrote it.
type genBook map[uint64]string

// wbRun runs the binary in dir with env; args get archive appended.
type wbRun func(args ...string) result

func archiveRun(t *testing.T, dir string, env []string, archive string) wbRun {
	return func(args ...string) result {
		t.Helper()
		return wbEnv(t, dir, env, append(args, "--archiv", archive)...)
	}
}

// generations lists the generation numbers history --json shows.
func generations(t *testing.T, run wbRun) []uint64 {
	t.Helper()
	r := run("history", "--json").expect(t, 0)
	var list historyList
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("history --json: %v\n%s", err, r.stdout)
	}
	var out []uint64
	for _, g := range list.Generations {
		out = append(out, g.Generation)
	}
	return out
}

// record notes digest for every generation that is not in the book yet.
func (b genBook) record(t *testing.T, run wbRun, digest string) {
	t.Helper()
	for _, g := range generations(t, run) {
		if _, ok := b[g]; !ok {
			b[g] = digest
		}
	}
}

// check restores every generation of the book into a new database file
// in dir and compares its table with the one saved at its export. The
// history must list exactly the generations of the book.
func (b genBook) check(t *testing.T, dir string, run wbRun) {
	t.Helper()
	var want []uint64
	for g := range b {
		want = append(want, g)
	}
	slices.Sort(want)
	if got := generations(t, run); !slices.Equal(got, want) {
		t.Fatalf("history lists generations %v, want %v", got, want)
	}
	for _, g := range want {
		db := filepath.Join(dir, fmt.Sprintf("generation-%d-%d.db", g, len(b)))
		r := run("restore", "--generation", fmt.Sprint(g), "--db", db)
		if r.code != 0 {
			t.Fatalf("restore --generation %d: exit %d\n%s%s", g, r.code, r.stdout, r.stderr)
		}
		if got := crashTableDigest(t, db); got != b[g] {
			t.Fatalf("restore --generation %d: table %s, at its export %s", g, got, b[g])
		}
	}
}

// dailyExports runs n exports of the database at db (changing rows
// before each after the first: two updated, one deleted, one added) and
// books each generation with the table it was given.
func dailyExports(t *testing.T, db string, run wbRun, n int) genBook {
	t.Helper()
	book := genBook{}
	for day := 1; day <= n; day++ {
		if day > 1 {
			execSQL(t, db,
				fmt.Sprintf("UPDATE auftraege SET kunde_name = 'Tag %d' WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 2 OFFSET %d)", day, 3*day),
				fmt.Sprintf("DELETE FROM auftraege WHERE record_id = (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 1 OFFSET %d)", 5*day),
				fmt.Sprintf("INSERT INTO auftraege SELECT record_id + %d, printf('9%%05d', %d), kunde_name, kunden_nr, kennzeichen, vin, datum, formular_version, keywords_json, replace(file_path, auftrag_nr, printf('9%%05d', %d)), hash, data_complete, created_at, updated_at FROM auftraege ORDER BY record_id LIMIT 1",
					100000*day, day, day),
			)
		}
		run("export", "--db", db).expect(t, 0)
		book.record(t, run, crashTableDigest(t, db))
	}
	if len(book) != n {
		t.Fatalf("%d exports wrote %d generations", n, len(book))
	}
	return book
}
