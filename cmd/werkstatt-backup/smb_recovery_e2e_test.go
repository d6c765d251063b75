package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"werkstatt-backup/sample"
)

// The restore and verify faults of a Samba archive: the server dying in
// the middle of a restore, names in upper case, a read-only share, and
// what Samba shows of symbolic links.

var yearName = regexp.MustCompile(`^[0-9]{4}$`)

// TestSMBOutageDuringRestore kills smbd at several moments of `restore
// --force --skip-invalid` (aimed through inotify on the share's disk: the
// first year folder listed, the 10th, 150th and 290th data.csv opened),
// once left dead and once restarted at once. The table then holds exactly
// the old rows or exactly the archive's rows, never fewer (it used to be
// left with 1 of 3000 rows: the failed reads counted as invalid backups
// and --skip-invalid skipped them).
func TestSMBOutageDuringRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("kills smbd")
	}
	t.Parallel() // its own smbd; waits out the outage's timeouts
	site := newSMBSite(t)
	const orders = 300
	dir := workshop(t, orders)
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	wbEnv(t, dir, site.env, "export", "--archiv", site.url, "--db", db).expect(t, 0)
	// One invalid backup, so that --skip-invalid has something to skip.
	csvs, _ := filepath.Glob(filepath.Join(site.dir(), "*", "*", "data.csv"))
	if len(csvs) != orders {
		t.Fatalf("%d backups on the share", len(csvs))
	}
	b := fileBytesOf(t, csvs[0])
	if err := os.WriteFile(csvs[0], bytes.Replace(b, []byte("2"), []byte("3"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	probe := filepath.Join(t.TempDir(), "probe.db")
	wbEnv(t, dir, site.env, "restore", "--archiv", site.url, "--db", probe, "--skip-invalid").expect(t, 3)
	want := crashTableDigest(t, probe)

	target := filepath.Join(t.TempDir(), "alt.db")
	if err := sample.CreateDB(context.Background(), target, sample.Rows(200, 9)); err != nil {
		t.Fatal(err)
	}
	pristine := fileBytesOf(t, target)
	old := crashTableDigest(t, target)
	years, _ := filepath.Glob(filepath.Join(site.dir(), "[0-9][0-9][0-9][0-9]"))
	folders, _ := filepath.Glob(filepath.Join(site.dir(), "[0-9][0-9][0-9][0-9]", "*"))
	watched := append(append([]string{site.dir()}, years...), folders...)

	type moment struct {
		name  string
		n     int
		match func(mask uint32, name string) bool
	}
	opened := func(file string) func(uint32, string) bool {
		return func(mask uint32, name string) bool { return mask&unix.IN_OPEN != 0 && name == file }
	}
	moments := []moment{
		{"first year folder listed", 1, func(mask uint32, name string) bool {
			return mask&unix.IN_OPEN != 0 && mask&unix.IN_ISDIR != 0 && yearName.MatchString(name)
		}},
		{"10th data.csv read", 10, opened("data.csv")},
		{"150th data.csv read", 150, opened("data.csv")},
		{"290th data.csv read", 290, opened("data.csv")},
	}
	outcomes := map[string]int{}
	for _, m := range moments {
		for _, restart := range []bool{false, true} {
			os.Remove(target + "-journal")
			if err := os.WriteFile(target, pristine, 0o644); err != nil {
				t.Fatal(err)
			}
			fire, stop := crashWatchEvents(t, watched, m.n, m.match)
			wait := startWB(t, dir, site.env, "restore", "--archiv", site.url, "--db", target, "--force", "--skip-invalid", "--lock-timeout", "30s")
			select {
			case <-fire:
			case <-time.After(time.Minute):
				t.Fatalf("%s: never happened", m.name)
			}
			site.srv.Kill()
			if restart {
				site.srv.Restart()
			}
			r := wait()
			stop()
			if !restart {
				site.srv.Restart()
			}
			got := crashTableDigest(t, target)
			what := fmt.Sprintf("%s, restarted %v: exit %d", m.name, restart, r.code)
			switch {
			case bytes.Equal(fileBytesOf(t, target), pristine):
				if r.code != 1 || !strings.Contains(r.stderr, "unverändert") {
					t.Errorf("%s, the old table is kept but the run does not say so:\n%s%s", what, r.stdout, r.stderr)
				}
				outcomes["alte Tabelle"]++
			case got == want:
				if r.code != 3 && r.code != 1 {
					t.Errorf("%s after a complete restore:\n%s%s", what, r.stdout, r.stderr)
				}
				outcomes["Archiv vollständig"]++
			default:
				t.Fatalf("%s: the table holds %s, neither the old %s nor the archive's %s\n%s%s", what, got, old, want, r.stdout, r.stderr)
			}
			t.Logf("%s, table %s", what, got)
		}
	}
	if outcomes["alte Tabelle"] == 0 {
		t.Error("no kill struck the restore before its transaction")
	}
	t.Logf("outcomes: %v", outcomes)
}

// TestSMBUpperCaseNames: order folders holding only DATA.CSV and META.JSON
// (Windows tools and people write such names). Verify and restore used to
// skip them silently, and export rewrote DATA.CSV every night without its
// name ever becoming data.csv. Now verify and restore take them (SMB names
// are case-insensitive) and export renames them.
func TestSMBUpperCaseNames(t *testing.T) {
	site := newSMBSite(t)
	const orders = 20
	dir := workshop(t, orders)
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	wbEnv(t, dir, site.env, "export", "--archiv", site.url, "--db", db).expect(t, 0)
	metas, _ := filepath.Glob(filepath.Join(site.dir(), "*", "*", "meta.json"))
	upper := []string{filepath.Dir(metas[0]), filepath.Dir(metas[7])}
	for _, d := range upper {
		for _, n := range []string{"data.csv", "meta.json"} {
			if err := os.Rename(filepath.Join(d, n), filepath.Join(d, strings.ToUpper(n))); err != nil {
				t.Fatal(err)
			}
		}
	}
	r := wbEnv(t, dir, site.env, "verify", "--archiv", site.url).expect(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("Verify abgeschlossen: %d gültig, 0 Fehler", orders)) {
		t.Fatalf("verify:\n%s", r.stdout)
	}
	fresh := filepath.Join(t.TempDir(), "neu.db")
	r = wbEnv(t, dir, site.env, "restore", "--archiv", site.url, "--db", fresh).expect(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("%d Datensätze wiederhergestellt", orders)) {
		t.Fatalf("restore:\n%s", r.stdout)
	}
	wbEnv(t, dir, site.env, "export", "--archiv", site.url, "--db", db).expect(t, 0)
	for _, d := range upper {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, " ") != "data.csv meta.json" {
			t.Fatalf("export left %v in %s, want data.csv and meta.json", names, d)
		}
	}
	wbEnv(t, dir, site.env, "verify", "--archiv", site.url, "--db", db).expect(t, 0)
}

// TestSMBReadOnlyShare: the archive through a share with "read only =
// yes". Verify, restore and restore --dry-run work with one WARNING about
// the lock (restore used to fail with "permission denied"); export fails
// naming the lock.
func TestSMBReadOnlyShare(t *testing.T) {
	site := newSMBSite(t)
	const orders = 10
	dir := workshop(t, orders)
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	wbEnv(t, dir, site.env, "export", "--archiv", site.url, "--db", db).expect(t, 0)
	ro := site.srv.URLReadOnly("sub")
	oneLockWarning := func(what string, r result) {
		t.Helper()
		if n := strings.Count(r.stdout, "WARNING - "); n != 1 || !strings.Contains(r.stdout, "WARNING - .backup.lock: Archiv ist schreibgeschützt") {
			t.Errorf("%s: want exactly one WARNING about the lock:\n%s", what, r.stdout)
		}
	}
	r := wbEnv(t, dir, site.env, "verify", "--archiv", ro, "--db", db).expect(t, 0)
	oneLockWarning("verify", r)
	fresh := filepath.Join(t.TempDir(), "neu.db")
	oneLockWarning("restore --dry-run", wbEnv(t, dir, site.env, "restore", "--archiv", ro, "--db", fresh, "--dry-run").expect(t, 0))
	r = wbEnv(t, dir, site.env, "restore", "--archiv", ro, "--db", fresh).expect(t, 0)
	oneLockWarning("restore", r)
	if got := crashTableRows(t, fresh); got != orders {
		t.Fatalf("restored %d rows", got)
	}
	r = wbEnv(t, dir, site.env, "export", "--archiv", ro, "--db", db, "--full").expect(t, 1)
	if !strings.Contains(r.stderr, ".backup.lock") {
		t.Fatalf("export on the read-only share: %s", r.stderr)
	}
}

// TestSMBSymbolicLinks: what the SMB client sees of symbolic links on the
// server. Samba (default "follow symlinks = yes", "wide links = no")
// resolves a link inside the share itself and presents it as a plain
// folder, so its backups are read like any other (here as duplicates,
// which verify names); a link leading out of the share (/etc) is not
// listed at all. Nothing under /etc is ever read.
func TestSMBSymbolicLinks(t *testing.T) {
	site := newSMBSite(t)
	dir := workshop(t, 10)
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	wbEnv(t, dir, site.env, "export", "--archiv", site.url, "--db", db).expect(t, 0)
	for link, target := range map[string]string{"2030": "/etc", "2031": "2024"} {
		if err := os.Symlink(target, filepath.Join(site.dir(), link)); err != nil {
			t.Fatal(err)
		}
	}
	n2024, _ := filepath.Glob(filepath.Join(site.dir(), "2024", "*", "data.csv"))
	r := wbEnv(t, dir, site.env, "verify", "--archiv", site.url).expect(t, 0)
	if strings.Contains(r.stdout, "2030") || !strings.Contains(r.stdout, fmt.Sprintf("%d Duplikate", len(n2024))) || !strings.Contains(r.stdout, "2031/") {
		t.Fatalf("verify over Samba's links:\n%s", r.stdout)
	}
}
