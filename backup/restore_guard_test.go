package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"werkstatt-backup/sample"
	"werkstatt-backup/storage/faultfs"
)

// TestRestoreRefusesAnEmptyArchive: restore --force from an empty or wrong
// archive used to empty the table with exit 0. Now it refuses, naming the
// archive, and the database stays byte-identical; a dry run refuses too.
func TestRestoreRefusesAnEmptyArchive(t *testing.T) {
	f := newFixture(t, sample.Rows(20, 3))
	f.e.Archive = "/mnt/falsch"
	f.write("2024/000001/000001_Auftrag.pdf", "%PDF") // PDFs, no backup
	before := fileBytes(t, f.e.DBPath)
	for _, dry := range []bool{false, true} {
		_, err := f.e.Restore(context.Background(), RestoreOptions{Force: true, AllowShrink: true, SkipInvalid: true, DryRun: dry})
		if !errors.Is(err, ErrNoBackup) || errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "/mnt/falsch") {
			t.Fatalf("dry run %v: %v", dry, err)
		}
		unchangedDB(t, f.e.DBPath, before)
	}
	// Only invalid backups and --skip-invalid: nothing to restore either.
	put(f, "2024/000002", csvOf(row("zwei", "000002")), "")
	_, err := f.e.Restore(context.Background(), RestoreOptions{Force: true, AllowShrink: true, SkipInvalid: true})
	if !errors.Is(err, ErrNoBackup) {
		t.Fatalf("only invalid backups: %v", err)
	}
	unchangedDB(t, f.e.DBPath, before)
}

// TestRestoreRefusesToShrink: restore --force that would leave fewer rows
// than the table has names how many would be lost and changes nothing,
// unless --allow-shrink; a dry run warns.
func TestRestoreRefusesToShrink(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002"), row("3", "000003")})
	put(f, "2024/000001", csvOf(row("1", "000001")), "")
	put(f, "2024/000002", csvOf(row("2", "000002")), "")
	before := fileBytes(t, f.e.DBPath)
	r, err := f.e.Restore(context.Background(), RestoreOptions{Force: true})
	if !errors.Is(err, ErrShrink) || errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "3 Datensätze, das Archiv nur 2; 1 gingen verloren") {
		t.Fatalf("shrinking restore: %v\n%s", err, problems(r))
	}
	unchangedDB(t, f.e.DBPath, before)

	r, err = f.e.Restore(context.Background(), RestoreOptions{Force: true, DryRun: true})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	hasProblem(t, r, LevelWarning, "", "1 gingen verloren", "--allow-shrink")
	unchangedDB(t, f.e.DBPath, before)

	r, err = f.e.Restore(context.Background(), RestoreOptions{Force: true, AllowShrink: true})
	if err != nil || len(dbRows(t, f.e.DBPath)) != 2 || r.BackupDB == "" {
		t.Fatalf("--allow-shrink: %v %+v", err, r)
	}
}

// TestRestoreOverExtraColumns: a newer web app added a column. Restore
// used to drop its data without a word; now it refuses without --force
// (also into an empty table) and warns with --force, naming the column and
// the copy that still has it.
func TestRestoreOverExtraColumns(t *testing.T) {
	f := newFixture(t, nil)
	db, err := openWrite(f.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	cols := strings.Join(sample.Columns, ", ")
	if err := db.Exec(context.Background(), "CREATE TABLE auftraege ("+cols+", werkstatt TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	put(f, "2024/000001", csvOf(row("1", "000001")), "")
	before := fileBytes(t, f.e.DBPath)
	_, err = f.e.Restore(context.Background(), RestoreOptions{})
	if !errors.Is(err, ErrNeedForce) || !strings.Contains(err.Error(), "werkstatt") {
		t.Fatalf("restore over an extra column without --force: %v", err)
	}
	unchangedDB(t, f.e.DBPath, before)

	db, _ = openWrite(f.e.DBPath)
	if err := db.Exec(context.Background(), "INSERT INTO auftraege (record_id, auftrag_nr, werkstatt) VALUES (1, '000001', 'Halle 2')"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r, err := f.e.Restore(context.Background(), RestoreOptions{Force: true})
	if err != nil || r.BackupDB == "" {
		t.Fatalf("--force: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelWarning, "", "Spalte werkstatt", r.BackupDB)
}

// TestRestoreRemovesLeftoverCopies: a restore killed while copying the old
// database leaves werkstatt.db.bak-….tmp (full size) and its journal; the
// next restore removes them, naming each, and never a finished copy.
func TestRestoreRemovesLeftoverCopies(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001")})
	put(f, "2024/000001", csvOf(row("1", "000001")), "")
	left := []string{f.e.DBPath + ".bak-20240101-010101.tmp", f.e.DBPath + ".bak-20240101-010101.tmp-journal", f.e.DBPath + ".bak-20240101-010101-2.tmp"}
	keep := []string{f.e.DBPath + ".bak-20240101-010101", f.e.DBPath + ".bak-20240101-010101-2", f.e.DBPath + ".bak-notes.tmp"}
	for _, p := range append(slices.Clone(left), keep...) {
		writeFile(t, p, []byte("x"))
	}
	r, err := f.e.Restore(context.Background(), RestoreOptions{Force: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	hasProblem(t, r, LevelWarning, "", "Rest eines abgebrochenen Restores", left[0])
	r, err = f.e.Restore(context.Background(), RestoreOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range left {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there", filepath.Base(p))
		}
		hasProblem(t, r, LevelWarning, "", "entfernt", p)
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed", filepath.Base(p))
		}
	}
}

// TestReadOnlyArchiveIsReadWithoutLock: the lock cannot be created on a
// read-only mount (EROFS) or without write permission: verify, restore and
// restore --dry-run go on with exactly one WARNING; export and migrate fail.
func TestReadOnlyArchiveIsReadWithoutLock(t *testing.T) {
	for _, cause := range []error{syscall.EROFS, syscall.EACCES, syscall.EPERM} {
		t.Run(cause.Error(), func(t *testing.T) {
			f := newFixture(t, [][]string{row("1", "000001")})
			f.export(ExportOptions{})
			f.e.use(faultfs.New(archiveOf(f.fs), faultfs.Fault{Op: faultfs.OpCreate, Name: ".backup.lock", Err: cause}).Archive())
			if r, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil || r.Warnings != 1 {
				t.Fatalf("verify: %v\n%s", err, problems(r))
			} else {
				hasProblem(t, r, LevelWarning, ".backup.lock", "schreibgeschützt", "ohne Lock")
			}
			for _, dry := range []bool{true, false} {
				if r, err := f.e.Restore(context.Background(), RestoreOptions{Force: true, DryRun: dry}); err != nil || r.Warnings != 1 {
					t.Fatalf("restore (dry run %v): %v\n%s", dry, err, problems(r))
				}
			}
			if _, err := f.e.Export(context.Background(), ExportOptions{}); err == nil || !strings.Contains(err.Error(), ".backup.lock") {
				t.Fatalf("export: %v", err)
			}
			if _, err := f.e.Migrate(context.Background(), MigrateOptions{}); err == nil {
				t.Fatal("migrate succeeded on a read-only archive")
			}
		})
	}
}

// TestExportedAtIsChecked: a changed exported_at ("202t-…") used to pass
// verify and export kept it. Verify names it, export rewrites meta.json; a
// Python isoformat with microseconds is fine.
func TestExportedAtIsChecked(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002")})
	f.export(ExportOptions{})
	meta := f.read("2024/000001/meta.json")
	f.write("2024/000001/meta.json", strings.Replace(meta, `"exported_at": "2024`, `"exported_at": "202t`, 1))
	meta2 := f.read("2024/000002/meta.json")
	f.write("2024/000002/meta.json", strings.Replace(meta2, `:02"`, `:02.123456"`, 1))
	if f.read("2024/000001/meta.json") == meta || f.read("2024/000002/meta.json") == meta2 {
		t.Fatalf("test setup did not change meta.json:\n%s", meta)
	}
	r, err := f.e.Verify(context.Background(), VerifyOptions{})
	if !errors.Is(err, ErrValidation) || r.Errors != 1 {
		t.Fatalf("verify: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelError, "2024/000001/meta.json", "exported_at", "202t")
	r = f.export(ExportOptions{})
	if r.Written != 1 {
		t.Fatalf("export rewrote %d backups, want 1", r.Written)
	}
	if _, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil {
		t.Fatalf("verify after export: %v", err)
	}
}
