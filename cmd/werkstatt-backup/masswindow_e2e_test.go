package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// mass_change_window reaches the export's guard: two exports that each
// change 20 % of the orders pass the 25 % limit against the newest
// generation, but the second is 40 % against the oldest one inside the
// window (a week by default) and is refused; with the window 0
// (ARCHIV_MASS_CHANGE_WINDOW) it passes, and a bad value is exit 2
// naming the variable.
func TestMassChangeWindowFromTheConfiguration(t *testing.T) {
	dir := workshop(t, 10)
	archive := filepath.Join(dir, "test_archiv")
	db := filepath.Join(archive, "werkstatt.db")
	run := func(code int, env []string, args ...string) result {
		t.Helper()
		return wbEnv(t, dir, env, append(args, "--archiv", archive, "--db", db)...).expect(t, code)
	}
	run(0, nil, "export")
	rows := tableRows(t, db)
	execSQL(t, db, "UPDATE auftraege SET kunde_name = 'Erste Nacht' WHERE record_id IN ("+rows[0][0]+", "+rows[1][0]+")")
	run(0, nil, "export")
	execSQL(t, db, "UPDATE auftraege SET kunde_name = 'Zweite Nacht' WHERE record_id IN ("+rows[2][0]+", "+rows[3][0]+")")
	r := run(3, nil, "export")
	if !strings.Contains(r.stderr, "mass_change_window") || !strings.Contains(r.stderr, "4 von 10") {
		t.Fatalf("slow creep within the default window: %s", r.stderr)
	}
	r = run(2, []string{"ARCHIV_MASS_CHANGE_WINDOW=bald"}, "export")
	if !strings.Contains(r.stderr, "ARCHIV_MASS_CHANGE_WINDOW") {
		t.Fatalf("bad ARCHIV_MASS_CHANGE_WINDOW: %s", r.stderr)
	}
	run(0, []string{"ARCHIV_MASS_CHANGE_WINDOW=0"}, "export")
}
