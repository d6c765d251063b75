package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
)

// siteSection returns the lines stdout prints for site between its heading
// "[site] Archiv …" and the next blank, heading or summary line; heading is
// the heading line itself ("" if there is none).
func siteSection(stdout, site string) (heading string, body []string) {
	lines := strings.Split(stdout, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "["+site+"] ") {
			continue
		}
		for _, b := range lines[i+1:] {
			if b == "" || strings.HasPrefix(b, "[") || strings.HasPrefix(b, "Standort ") {
				break
			}
			body = append(body, b)
		}
		return l, body
	}
	return "", nil
}

// generationRows counts the rows of a generation table (lines after its header
// that start with a generation number).
func generationRows(body []string) int {
	n := 0
	for _, l := range body {
		if l != "" && l[0] >= '0' && l[0] <= '9' {
			n++
		}
	}
	return n
}

// historySites is what history --all-sites --json prints.
type historySites struct {
	Command   string `json:"command"`
	AuftragNr string `json:"auftrag_nr"`
	ExitCode  int    `json:"exit_code"`
	Error     string `json:"error"`
	Sites     []struct {
		Site        string            `json:"site"`
		Archive     string            `json:"archive"`
		ExitCode    int               `json:"exit_code"`
		Skipped     bool              `json:"skipped"`
		Error       string            `json:"error"`
		Generations []json.RawMessage `json:"generations"`
		Versions    []struct {
			Generation uint64 `json:"generation"`
			State      string `json:"state"`
		} `json:"versions"`
	} `json:"sites"`
}

// TestHistoryAllSites: history --all-sites lists the generations of every
// site under a heading naming the site and its archive (zentrale has two,
// nord and sued one each), then one line per site. A site whose archive is
// missing, or whose history is damaged, fails alone; the exit code is the
// worst site's. --json is one object with an entry per site, --auftrag
// lists the order's versions per site, and the invocations that would hit
// every site with one value are refused.
func TestHistoryAllSites(t *testing.T) {
	zentrale, nord, sued := workshop(t, 5), workshop(t, 3), workshop(t, 2)
	missing := filepath.Join(t.TempDir(), "fehlt")
	site := func(name, dir string) map[string]any {
		return map[string]any{"name": name, "db": filepath.Join(dir, "test_archiv", "werkstatt.db"), "archiv": filepath.Join(dir, "test_archiv")}
	}
	cfg := sitesConfig(t, map[string]any{
		"log_file": "werkstatt.log",
		"sites": []map[string]any{
			site("zentrale", zentrale),
			{"name": "fehlt", "archiv": missing},
			site("nord", nord),
			site("sued", sued),
		},
	})
	elsewhere := t.TempDir()
	for _, s := range []string{"zentrale", "nord", "sued"} {
		wb(t, elsewhere, "export", "--config", cfg, "--site", s).expect(t, 0)
	}
	zentraleDB := filepath.Join(zentrale, "test_archiv", "werkstatt.db")
	rows := tableRows(t, zentraleDB)
	nr := rows[0][1]
	execSQL(t, zentraleDB, "UPDATE auftraege SET kunde_name = 'Erika Mustermann' WHERE record_id = "+rows[0][0])
	wb(t, elsewhere, "export", "--config", cfg, "--site", "zentrale").expect(t, 0)

	r := wb(t, elsewhere, "history", "--config", cfg, "--all-sites").expect(t, 1)
	expectLines(t, r,
		"Standort zentrale: 2 Generationen, die neueste vom ",
		"Standort fehlt: Fehler: Archiv "+missing,
		"Standort nord: 1 Generation, vom ",
		"Standort sued: 1 Generation, vom ",
	)
	for i, code := range []string{"0", "1", "0", "0"} {
		if l := siteLines(r.stdout)[i]; !strings.HasSuffix(l, "(Exit-Code "+code+")") {
			t.Errorf("line %d: %q, want exit code %s", i, l, code)
		}
	}
	for _, c := range []struct {
		site, archive string
		gens          int
	}{{"zentrale", filepath.Join(zentrale, "test_archiv"), 2}, {"nord", filepath.Join(nord, "test_archiv"), 1}, {"sued", filepath.Join(sued, "test_archiv"), 1}} {
		heading, body := siteSection(r.stdout, c.site)
		if heading != "["+c.site+"] Archiv "+c.archive+":" || len(body) == 0 || !strings.HasPrefix(body[0], "Generation") || generationRows(body) != c.gens {
			t.Errorf("%s: heading %q, %d generations listed, want %d:\n%s", c.site, heading, generationRows(body), c.gens, r.stdout)
		}
	}
	if heading, _ := siteSection(r.stdout, "fehlt"); heading != "" {
		t.Errorf("a site whose archive is missing has a list: %q", heading)
	}
	if stderr := strings.TrimSpace(r.stderr); strings.Contains(stderr, "\n") || !strings.HasPrefix(stderr, "werkstatt-backup: Standort fehlt: Archiv "+missing) {
		t.Errorf("stderr should name the one failing site: %q", r.stderr)
	}
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "werkstatt.log"))
	if !strings.Contains(string(log), "werkstatt_backup.fehlt - ERROR - history: Archiv "+missing) {
		t.Errorf("the failing site is not in the log:\n%s", log)
	}

	// --quiet: only the failing site's line, no lists.
	r = wb(t, elsewhere, "history", "--config", cfg, "--all-sites", "-q").expect(t, 1)
	if r.stdout != siteLines(r.stdout)[0]+"\n" || !strings.HasPrefix(r.stdout, "Standort fehlt: Fehler: ") {
		t.Errorf("--quiet:\n%s", r.stdout)
	}

	// --json: one object, one entry per site.
	r = wb(t, elsewhere, "history", "--config", cfg, "--all-sites", "--json").expect(t, 1)
	var all historySites
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if all.Command != "history" || all.ExitCode != 1 || len(all.Sites) != 4 {
		t.Fatalf("--json: %+v", all)
	}
	for i, want := range []struct {
		site, archive string
		code, gens    int
	}{{"zentrale", filepath.Join(zentrale, "test_archiv"), 0, 2}, {"fehlt", missing, 1, 0}, {"nord", filepath.Join(nord, "test_archiv"), 0, 1}, {"sued", filepath.Join(sued, "test_archiv"), 0, 1}} {
		s := all.Sites[i]
		if s.Site != want.site || s.Archive != want.archive || s.ExitCode != want.code || len(s.Generations) != want.gens || (s.Error != "") != (want.code != 0) || s.Generations == nil {
			t.Errorf("--json site %d: %+v", i, s)
		}
	}

	// --auftrag: the order's versions at each site.
	r = wb(t, elsewhere, "history", "--config", cfg, "--all-sites", "--auftrag", nr).expect(t, 1)
	expectLines(t, r,
		"Standort zentrale: Auftrag "+nr+": 2 Fassungen, die neueste in Generation 2 (Exit-Code 0)",
		"Standort fehlt: Fehler: Archiv "+missing,
		"Standort nord: Auftrag "+nr,
		"Standort sued: Auftrag "+nr,
	)
	if heading, body := siteSection(r.stdout, "zentrale"); heading != "[zentrale] Archiv "+filepath.Join(zentrale, "test_archiv")+", Auftrag "+nr+":" ||
		len(body) < 3 || !strings.Contains(strings.Join(body, "\n"), `→ "Erika Mustermann"`) {
		t.Errorf("--auftrag at zentrale:\n%s", r.stdout)
	}
	r = wb(t, elsewhere, "history", "--config", cfg, "--all-sites", "--auftrag", nr, "--json").expect(t, 1)
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatalf("--auftrag --json: %v\n%s", err, r.stdout)
	}
	if v := all.Sites[0].Versions; all.AuftragNr != nr || len(all.Sites) != 4 || len(v) != 2 || v[1].State != "geändert" || all.Sites[1].ExitCode != 1 || all.Sites[1].Versions == nil {
		t.Errorf("--auftrag --json: %+v", all)
	}

	// sued's generation file damaged: sued fails with 3, the others are
	// still listed; without the missing archive, 3 is the worst.
	gens, _ := filepath.Glob(filepath.Join(sued, "test_archiv", "_historie", "gen", "*"))
	if len(gens) != 1 {
		t.Fatalf("sued's generation files: %q", gens)
	}
	if err := os.WriteFile(gens[0], []byte("kaputt"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = wb(t, elsewhere, "history", "--config", cfg, "--all-sites").expect(t, 1)
	expectLines(t, r,
		"Standort zentrale: 2 Generationen, die neueste vom ",
		"Standort fehlt: Fehler: Archiv "+missing,
		"Standort nord: 1 Generation, vom ",
		"Standort sued: Fehler: Historie beschädigt: ",
	)
	if l := siteLines(r.stdout)[3]; !strings.HasSuffix(l, "(Exit-Code 3)") {
		t.Errorf("sued line: %q", l)
	}
	healthy := sitesConfig(t, map[string]any{"sites": []map[string]any{site("zentrale", zentrale), site("sued", sued)}})
	r = wb(t, elsewhere, "history", "--config", healthy, "--all-sites", "--log-file", filepath.Join(t.TempDir(), "wb.log")).expect(t, 3)
	expectLines(t, r,
		"Standort zentrale: 2 Generationen, die neueste vom ",
		"Standort sued: Fehler: Historie beschädigt: ",
	)

	// An archiv at the top level of the file is not what --all-sites lists.
	topLevel := sitesConfig(t, map[string]any{"archiv": filepath.Join(zentrale, "test_archiv"), "log_file": "werkstatt.log",
		"sites": []map[string]any{site("nord", nord), site("sued", sued)}})
	r = wb(t, elsewhere, "history", "--config", topLevel, "--all-sites").expect(t, 3)
	expectLines(t, r,
		"Standort nord: 1 Generation, vom ",
		"Standort sued: Fehler: Historie beschädigt: ",
	)
	if heading, _ := siteSection(r.stdout, "nord"); heading != "[nord] Archiv "+filepath.Join(nord, "test_archiv")+":" || strings.Contains(r.stdout, zentrale) {
		t.Errorf("top-level archiv listed, or nord's not:\n%s", r.stdout)
	}

	// What would hit every site with one value, or pick one, is refused.
	for _, args := range [][]string{{"--site", "nord"}, {"--archiv", missing}, {"--db", "x.db"}} {
		r = wb(t, elsewhere, append([]string{"history", "--config", cfg, "--all-sites"}, args...)...).expect(t, 2)
		if !strings.Contains(r.stderr, "--all-sites") || len(siteLines(r.stdout)) != 0 {
			t.Errorf("history --all-sites %v: %q", args, r.stderr)
		}
	}
}

// deadLock writes a lock of a process on this host that no longer exists
// into the archive folder dir.
func deadLock(t *testing.T, dir string) lock.LockInfo {
	t.Helper()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	return writeLock(t, dir, dead.Process.Pid)
}

// writeLock writes a lock held by pid on this host into the folder dir.
func writeLock(t *testing.T, dir string, pid int) lock.LockInfo {
	t.Helper()
	me := lock.LocalIdentity()
	if me.MachineID == "" || me.BootID == "" || me.PidNS == "" {
		t.Skip("this OS does not say which machine, boot and pid namespace a process runs in")
	}
	now := time.Now()
	info := lock.LockInfo{PID: pid, Host: me.Host, MachineID: me.MachineID, BootID: me.BootID, PidNS: me.PidNS,
		Operation: "export", Created: now, Refreshed: now, Token: "x"}
	b, _ := json.Marshal(info)
	if err := os.WriteFile(filepath.Join(dir, lock.LockFileName), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return info
}

// TestUnlockAllSites: unlock --all-sites removes the stale lock of each
// site, leaves a live one (that site exits 4) and still handles the sites
// after it; --remove-all removes every lock, --json has an entry per site.
func TestUnlockAllSites(t *testing.T) {
	dirs := map[string]string{}
	var sites []map[string]any
	for _, name := range []string{"a", "b", "c", "d"} {
		dirs[name] = t.TempDir()
		sites = append(sites, map[string]any{"name": name, "archiv": dirs[name]})
	}
	// The top level's archive has a stale lock too: --all-sites is not about it.
	top := t.TempDir()
	cfg := sitesConfig(t, map[string]any{"archiv": top, "log_file": "werkstatt.log", "sites": sites})
	elsewhere := t.TempDir()
	deadLock(t, top)
	// held: the site's lock is held (a free record, which the lock leaves
	// where the store can compare and swap, is no lock).
	held := func(site string) bool {
		t.Helper()
		h, _, err := lock.Held(context.Background(), localArchive(afero.NewBasePathFs(afero.NewOsFs(), dirs[site])))
		if err != nil {
			t.Fatalf("site %s: %v", site, err)
		}
		return h
	}

	// a and d: stale locks; b: a live one, refreshed every 50ms; c: none.
	staleA, staleD := deadLock(t, dirs["a"]), deadLock(t, dirs["d"])
	holder, err := lock.AcquireLock(context.Background(), localArchive(afero.NewBasePathFs(afero.NewOsFs(), dirs["b"])),
		lock.LockOptions{Operation: "restore", Version: "test", Refresh: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r := wb(t, elsewhere, "unlock", "--config", cfg, "--all-sites").expect(t, 4)
	expectLines(t, r,
		"Standort a: Lock entfernt: "+lock.DescribeHolder(&staleA),
		"Standort b: Fehler: ",
		"Standort c: Kein Lock vorhanden: "+dirs["c"]+" (Exit-Code 0)",
		"Standort d: Lock entfernt: "+lock.DescribeHolder(&staleD),
	)
	for i, code := range []string{"0", "4", "0", "0"} {
		if l := siteLines(r.stdout)[i]; !strings.HasSuffix(l, "(Exit-Code "+code+")") {
			t.Errorf("line %d: %q, want exit code %s", i, l, code)
		}
	}
	if !strings.Contains(r.stderr, "[b] ") || !strings.Contains(r.stderr, "wird 3m0s lang beobachtet") ||
		!strings.Contains(r.stderr, "werkstatt-backup: Standort b: ") || !strings.Contains(r.stderr, "unlock --remove-all") {
		t.Errorf("stderr should name the live lock of b: %q", r.stderr)
	}
	if !strings.Contains(r.stderr, "unlock --site b --remove-all") {
		t.Errorf("stderr should say how to remove b's lock alone: %q", r.stderr)
	}
	for site, wantLock := range map[string]bool{"a": false, "b": true, "c": false, "d": false} {
		if h := held(site); h != wantLock {
			t.Errorf("site %s: lock held: %v, want %v", site, h, wantLock)
		}
	}
	holder.Release()
	if _, err := os.Stat(filepath.Join(top, lock.LockFileName)); err != nil {
		t.Errorf("the top level's lock was removed: %v", err)
	}

	// --remove-all: also a lock whose holder is alive (this test) goes at
	// once; --json lists each site.
	writeLock(t, dirs["b"], os.Getpid())
	writeLock(t, dirs["c"], os.Getpid())
	r = wb(t, elsewhere, "unlock", "--config", cfg, "--all-sites", "--remove-all", "--json").expect(t, 0)
	var out struct {
		Command  string `json:"command"`
		ExitCode int    `json:"exit_code"`
		Sites    []struct {
			Site     string         `json:"site"`
			Archive  string         `json:"archive"`
			ExitCode int            `json:"exit_code"`
			Removed  *lock.LockInfo `json:"removed"`
		} `json:"sites"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	if out.Command != "unlock" || out.ExitCode != 0 || len(out.Sites) != 4 {
		t.Fatalf("--json: %s", r.stdout)
	}
	for i, want := range []struct {
		site    string
		removed bool
	}{{"a", false}, {"b", true}, {"c", true}, {"d", false}} {
		s := out.Sites[i]
		if s.Site != want.site || s.Archive != dirs[want.site] || s.ExitCode != 0 || (s.Removed != nil) != want.removed ||
			want.removed && s.Removed.PID != os.Getpid() {
			t.Errorf("--json site %d: %+v", i, s)
		}
	}
	for site := range dirs {
		if held(site) {
			t.Errorf("site %s: lock left behind", site)
		}
	}

	// A site whose archive is missing fails alone.
	os.RemoveAll(dirs["c"])
	deadLock(t, dirs["d"])
	r = wb(t, elsewhere, "unlock", "--config", cfg, "--all-sites").expect(t, 1)
	expectLines(t, r,
		"Standort a: Kein Lock vorhanden: ",
		"Standort b: Kein Lock vorhanden: ",
		"Standort c: Fehler: Archiv "+dirs["c"],
		"Standort d: Lock entfernt: ",
	)

	for _, args := range [][]string{{"--site", "a"}, {"--archiv", dirs["a"]}} {
		r = wb(t, elsewhere, append([]string{"unlock", "--config", cfg, "--all-sites"}, args...)...).expect(t, 2)
		if !strings.Contains(r.stderr, "--all-sites") || len(siteLines(r.stdout)) != 0 {
			t.Errorf("unlock --all-sites %v: %q", args, r.stderr)
		}
	}
}

// TestHistoryAndUnlockAllSitesInterrupted: interrupted before a site, that
// site and the ones after it are skipped, each with its line; exit 130.
func TestHistoryAndUnlockAllSitesInterrupted(t *testing.T) {
	cfg := sitesConfig(t, map[string]any{"sites": []map[string]any{
		{"name": "a", "archiv": "mem://interrupted-history-a"},
		{"name": "b", "archiv": "mem://interrupted-history-b"},
	}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, command := range []string{"history", "unlock"} {
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{command, "--config", cfg, "--all-sites", "--log-file", filepath.Join(t.TempDir(), "wb.log")}, &stdout, &stderr)
		if code != exitInterrupt {
			t.Errorf("%s: exit code %d, want %d; stderr %q", command, code, exitInterrupt, stderr.String())
		}
		expectLines(t, result{code, stdout.String(), stderr.String()},
			"Standort a: übersprungen (abgebrochen) (Exit-Code 130)",
			"Standort b: übersprungen (abgebrochen) (Exit-Code 130)")

		stdout.Reset()
		code = run(ctx, []string{command, "--config", cfg, "--all-sites", "--json", "--log-file", filepath.Join(t.TempDir(), "wb.log")}, &stdout, &stderr)
		var rep struct {
			ExitCode int `json:"exit_code"`
			Sites    []struct {
				Site    string `json:"site"`
				Archive string `json:"archive"`
				Skipped bool   `json:"skipped"`
			} `json:"sites"`
		}
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil || code != exitInterrupt || rep.ExitCode != exitInterrupt ||
			len(rep.Sites) != 2 || !rep.Sites[0].Skipped || !rep.Sites[1].Skipped || rep.Sites[1].Archive != "mem://interrupted-history-b" {
			t.Errorf("%s --json: exit %d, %v\n%s", command, code, err, stdout.String())
		}
	}
}

// TestAllSitesNoSecret: history and unlock --all-sites name each site's
// archive (also in --json) without the password a URL in the file holds,
// whether the archive could be opened or not.
func TestAllSitesNoSecret(t *testing.T) {
	host := fmt.Sprintf("127.0.0.1:%d", closedPort(t))
	cfg := sitesConfig(t, map[string]any{"log_file": "werkstatt.log", "sites": []map[string]any{
		{"name": "smb", "archiv": "smb://backup:" + secSecret + "@" + host + "/archiv"},
		{"name": "ftp", "archiv": "ftp://backup:" + secSecret + "@" + host + "/archiv"},
	}})
	for _, c := range [][]string{{"history"}, {"history", "--json"}, {"history", "--auftrag", "076329", "--json"}, {"unlock"}, {"unlock", "--json"}} {
		r := wb(t, t.TempDir(), append(c, "--config", cfg, "--all-sites")...).expect(t, 2)
		if strings.Contains(r.stdout+r.stderr, secSecret) {
			t.Errorf("%v: the password shows:\n%s%s", c, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "smb://backup:***@"+host) || strings.Count(r.stdout, "Standort ")+strings.Count(r.stdout, `"site"`) != 2 {
			t.Errorf("%v: the sites are not named:\n%s", c, r.stdout)
		}
	}
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(cfg), "werkstatt.log"))
	if strings.Contains(string(log), secSecret) {
		t.Errorf("the log holds the password:\n%s", log)
	}
}
