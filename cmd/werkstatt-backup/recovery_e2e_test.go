package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRestoreGuardsThroughTheBinary: an empty or wrong archive, a restore
// that would shrink the table, a linked year folder, and where the old
// database went, as the admin sees them.
func TestRestoreGuardsThroughTheBinary(t *testing.T) {
	const orders = 30
	dir := workshop(t, orders)
	archive := filepath.Join(dir, "test_archiv")
	db := filepath.Join(archive, "werkstatt.db")
	wb(t, dir, "export", "--db", db, "--archiv", archive).expect(t, 0)
	before := fileBytesOf(t, db)
	same := func(what string) {
		t.Helper()
		if !bytes.Equal(before, fileBytesOf(t, db)) {
			t.Fatalf("%s changed the database", what)
		}
		if m, _ := filepath.Glob(db + ".bak-*"); len(m) != 0 {
			t.Fatalf("%s made a copy: %v", what, m)
		}
	}

	// A mistyped --archiv: an empty folder. Used to empty the table, exit 0.
	empty := t.TempDir()
	r := wb(t, dir, "restore", "--archiv", empty, "--db", db, "--force", "--skip-invalid").expect(t, 1)
	if !strings.Contains(r.stderr, empty) || !strings.Contains(r.stderr, "kein einziger Auftragsordner") {
		t.Fatalf("restore from an empty archive: %s", r.stderr)
	}
	same("a restore from an empty archive")
	r = wb(t, dir, "verify", "--archiv", empty).expect(t, 1)
	if !strings.Contains(r.stderr, empty) {
		t.Fatalf("verify of an empty archive: %s", r.stderr)
	}

	// 2024 moved to another disk and linked back: named, verify exit 1,
	// restore aborts (it used to restore the other years, exit 0).
	elsewhere := t.TempDir()
	if err := os.Rename(filepath.Join(archive, "2024"), filepath.Join(elsewhere, "2024")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(elsewhere, "2024"), filepath.Join(archive, "2024")); err != nil {
		t.Fatal(err)
	}
	r = wb(t, dir, "verify", "--archiv", archive).expect(t, 1)
	if !strings.Contains(r.stdout, "ERROR - 2024: ist ein symbolischer Link") {
		t.Fatalf("verify of a linked year:\n%s%s", r.stdout, r.stderr)
	}
	r = wb(t, dir, "restore", "--archiv", archive, "--db", db, "--force", "--skip-invalid", "--allow-shrink").expect(t, 1)
	if !strings.Contains(r.stderr, "nicht vollständig gelesen") || !strings.Contains(r.stderr, "2024") {
		t.Fatalf("restore of a linked year: %s", r.stderr)
	}
	same("a restore with a linked year")
	if err := os.Remove(filepath.Join(archive, "2024")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(elsewhere, "2024"), filepath.Join(archive, "2024")); err != nil {
		t.Fatal(err)
	}

	// Five backups gone: restore --force would lose five orders.
	metas, _ := filepath.Glob(filepath.Join(archive, "*", "*", "meta.json"))
	for _, m := range metas[:5] {
		if err := os.RemoveAll(filepath.Join(filepath.Dir(m), "data.csv")); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
	r = wb(t, dir, "restore", "--archiv", archive, "--db", db, "--force").expect(t, 1)
	if !strings.Contains(r.stderr, "5 gingen verloren") || !strings.Contains(r.stderr, "--allow-shrink") {
		t.Fatalf("shrinking restore: %s", r.stderr)
	}
	same("a shrinking restore")
	r = wb(t, dir, "restore", "--archiv", archive, "--db", db, "--force", "--allow-shrink", "--quiet").expect(t, 0)
	if !strings.HasPrefix(r.stderr, "Alte Datenbank gesichert als "+db+".bak-") {
		t.Fatalf("the kept copy is not named on the terminal: %q", r.stderr)
	}
	r = wb(t, dir, "restore", "--archiv", archive, "--db", db, "--force", "--json").expect(t, 0)
	var rep struct {
		BackupDB string `json:"backup_db"`
		Folders  struct {
			Seen, Valid int
		} `json:"folders"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !strings.HasPrefix(rep.BackupDB, db+".bak-") || rep.Folders.Seen != orders-5 || rep.Folders.Valid != orders-5 {
		t.Fatalf("--json: %v %+v\n%s", err, rep, r.stdout)
	}
	if _, err := os.Stat(rep.BackupDB); err != nil || !strings.Contains(r.stderr, rep.BackupDB) {
		t.Fatalf("backup_db %s: %v, stderr %q", rep.BackupDB, err, r.stderr)
	}
}

// TestReadOnlyBindMount: the archive on a read-only mount (a NAS snapshot,
// write-protected media). Verify, restore and restore --dry-run used to
// fail with "Lock anlegen: read-only file system"; now they work with one
// WARNING. Export still fails with a clear error.
func TestReadOnlyBindMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("braucht root für mount --bind (CI läuft als root)")
	}
	const orders = 12
	dir := workshop(t, orders)
	archive := filepath.Join(dir, "test_archiv")
	db := filepath.Join(archive, "werkstatt.db")
	wb(t, dir, "export", "--db", db, "--archiv", archive).expect(t, 0)
	ro := filepath.Join(t.TempDir(), "snapshot")
	if err := os.Mkdir(ro, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "--bind", archive, ro).CombinedOutput(); err != nil {
		t.Skipf("mount --bind geht hier nicht (Container ohne CAP_SYS_ADMIN?): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", ro).Run() })
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", ro).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(ro, "probe"), nil, 0o644); err == nil {
		t.Fatal("the bind mount is writable")
	}
	oneLockWarning := func(what string, r result) {
		t.Helper()
		if n := strings.Count(r.stdout, "WARNING - "); n != 1 || !strings.Contains(r.stdout, "WARNING - .backup.lock: Archiv ist schreibgeschützt") {
			t.Errorf("%s: want exactly one WARNING about the lock:\n%s", what, r.stdout)
		}
	}
	oneLockWarning("verify", wb(t, dir, "verify", "--archiv", ro).expect(t, 0))
	fresh := filepath.Join(t.TempDir(), "neu.db")
	oneLockWarning("restore --dry-run", wb(t, dir, "restore", "--archiv", ro, "--db", fresh, "--dry-run").expect(t, 0))
	oneLockWarning("restore", wb(t, dir, "restore", "--archiv", ro, "--db", fresh).expect(t, 0))
	if got := crashTableRows(t, fresh); got != orders {
		t.Fatalf("restored %d rows", got)
	}
	r := wb(t, dir, "export", "--archiv", ro, "--db", db, "--full").expect(t, 1)
	if !strings.Contains(r.stderr, ".backup.lock") || !strings.Contains(r.stderr, "Dateisystem schreibgeschützt") {
		t.Fatalf("export on a read-only mount: %s", r.stderr)
	}
}
