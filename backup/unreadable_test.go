package backup

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/faultfs"
)

// checkCounts: the folder counts add up.
func checkCounts(t *testing.T, r *Report, seen, valid, invalid, unreadable int) {
	t.Helper()
	c := r.Folders
	if c.Seen != c.Valid+c.Invalid+c.Unreadable {
		t.Fatalf("counts do not add up: %+v", c)
	}
	if c.Seen != seen || c.Valid != valid || c.Invalid != invalid || c.Unreadable != unreadable {
		t.Fatalf("counts %+v, want seen %d valid %d invalid %d unreadable %d\n%s", c, seen, valid, invalid, unreadable, problems(r))
	}
}

// unchangedDB: the database file is byte-identical and no copy was made.
func unchangedDB(t *testing.T, path string, before []byte) {
	t.Helper()
	if !bytes.Equal(before, fileBytes(t, path)) {
		t.Fatal("the database changed")
	}
	if m, _ := filepath.Glob(path + ".bak-*"); len(m) != 0 {
		t.Fatalf("a copy was made although nothing was restored: %v", m)
	}
}

// TestUnreadableIsNotInvalid: a folder that cannot be listed or a file that
// cannot be read (the share dropped, a permission) is not an invalid
// backup: restore --force --skip-invalid aborts with the database
// byte-identical (it used to skip them and commit a table missing those
// orders, a whole year for one failed listing), verify says "not fully
// checked" (exit 1) instead of "invalid" (3), and the counts add up.
func TestUnreadableIsNotInvalid(t *testing.T) {
	for _, c := range []struct {
		name, path string
		fault      faultfs.Fault
		unreadable int
	}{
		{"year folder not listed", "2023", faultfs.Fault{Op: faultfs.OpReaddir, Name: "2023", Err: faultfs.EIO}, 1},
		{"data.csv not read", "2024/000002/data.csv", faultfs.Fault{Op: faultfs.OpOpen, Name: "2024/000002/data.csv", Err: faultfs.EACCES}, 1},
		{"meta.json read fails", "2024/000003/meta.json", faultfs.Fault{Op: faultfs.OpRead, Name: "2024/000003/meta.json", Err: faultfs.EIO}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, sample.Rows(3, 5))
			put(f, "2024/000001", csvOf(row("1", "000001")), "")
			put(f, "2024/000002", csvOf(row("2", "000002")), "")
			put(f, "2024/000003", csvOf(row("3", "000003")), "")
			put(f, "2023/000004", csvOf(row("4", "000004", "datum", "2023-01-01")), "")
			put(f, "2023/000005", csvOf(row("5", "000005", "datum", "2023-01-01")), "")
			put(f, "2024/000006", csvOf(row("sechs", "000006")), "") // invalid
			f.e.use(faultfs.New(archiveOf(f.e.Arch.Fs), c.fault).Archive())
			before := fileBytes(t, f.e.DBPath)

			r, err := f.e.Restore(context.Background(), RestoreOptions{Force: true, SkipInvalid: true, AllowShrink: true})
			var ue *UnreadableError
			if !errors.As(err, &ue) || errors.Is(err, ErrValidation) {
				t.Fatalf("restore: %v, want an UnreadableError\n%s", err, problems(r))
			}
			if !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), "unverändert") || !strings.Contains(err.Error(), "nicht vollständig gelesen") {
				t.Fatalf("restore error does not name %s: %v", c.path, err)
			}
			unchangedDB(t, f.e.DBPath, before)
			hasProblem(t, r, LevelError, c.path, "nicht lesbar")
			if r.Duration != 0 {
				t.Fatal("an aborted restore logged its summary")
			}

			r, err = f.e.Verify(context.Background(), VerifyOptions{})
			if !errors.As(err, &ue) || errors.Is(err, ErrValidation) {
				t.Fatalf("verify: %v, want an UnreadableError", err)
			}
			// A failed year listing counts once: the year folder.
			if c.path == "2023" {
				checkCounts(t, r, 5, 3, 1, 1)
			} else {
				checkCounts(t, r, 6, 4, 1, 1)
			}
			if !strings.HasPrefix(r.Summary(), "Verify abgeschlossen: ") || !strings.Contains(r.Summary(), "1 nicht lesbar") {
				t.Fatalf("summary %q", r.Summary())
			}
		})
	}
}

// TestSkipInvalidStillSkipsInvalid: without read errors --skip-invalid
// works as before, and the counts add up, duplicates counted.
func TestSkipInvalidStillSkipsInvalid(t *testing.T) {
	f := newFixture(t, nil)
	put(f, "2024/000001", csvOf(row("1", "000001")), "")
	put(f, "2023/000001", csvOf(row("1", "000001", "updated_at", "2020-01-01T00:00:00")), "")
	put(f, "2024/000002", csvOf(row("zwei", "000002")), "")
	r, err := f.e.Restore(context.Background(), RestoreOptions{SkipInvalid: true})
	if !errors.Is(err, ErrValidation) || r.OK != 1 {
		t.Fatalf("%v %+v", err, r)
	}
	checkCounts(t, r, 3, 2, 1, 0)
	if r.Folders.Duplicates != 1 {
		t.Fatalf("duplicates %d", r.Folders.Duplicates)
	}
	want := "Restore abgeschlossen: 1 Datensätze wiederhergestellt, 1 Fehler (3 Ordner: 2 gültig, 1 ungültig, 0 nicht lesbar, 1 Duplikate)"
	if r.Summary() != want {
		t.Fatalf("summary %q", r.Summary())
	}
}

// localArchive opens root through the local backend, wrapped in a faultfs
// that records every call.
func localArchive(t *testing.T, root string) (*faultfs.Fs, *storage.Archive) {
	t.Helper()
	a, err := local.Backend{}.Open(context.Background(), local.Location{Path: root}, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return faultfs.New(a), a
}

// TestLinkedYearFolder: an admin moved 2024/ to another disk and linked it
// back. Verify and restore used to skip it silently (exit 0 with the other
// years only); now the link is named as unreadable: verify exits 1,
// restore aborts with the database unchanged, export refuses to write
// through it. A link to /etc is named the same way and nothing below it is
// ever touched.
func TestLinkedYearFolder(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	db := filepath.Join(t.TempDir(), "werkstatt.db")
	rows := [][]string{row("1", "000001"), row("2", "000002"),
		row("3", "000003", "file_path", "test_archiv/2023/000003/000003_Auftrag.pdf", "datum", "2023-05-01")}
	if err := sample.CreateDB(context.Background(), db, rows); err != nil {
		t.Fatal(err)
	}
	rec, plain := localArchive(t, root)
	e := &Engine{Arch: plain, DBPath: db, Workers: 2}
	if _, err := e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "2024"), filepath.Join(elsewhere, "2024")); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join(elsewhere, "2024"), filepath.Join(root, "2024"))
	symlink(t, "/etc", filepath.Join(root, "2022"))

	e = &Engine{Arch: &storage.Archive{Fs: rec, Caps: rec.Caps()}, DBPath: db, Workers: 2}
	r, err := e.Verify(context.Background(), VerifyOptions{})
	var ue *UnreadableError
	if !errors.As(err, &ue) {
		t.Fatalf("verify: %v, want an UnreadableError\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelError, "2024", "symbolischer Link", "durch den echten Ordner")
	hasProblem(t, r, LevelError, "2022", "symbolischer Link")
	checkCounts(t, r, 3, 1, 0, 2)

	before := fileBytes(t, db)
	_, err = e.Restore(context.Background(), RestoreOptions{Force: true, SkipInvalid: true, AllowShrink: true})
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "2024") {
		t.Fatalf("restore: %v", err)
	}
	unchangedDB(t, db, before)

	r, err = e.Export(context.Background(), ExportOptions{})
	if err == nil || !strings.Contains(problems(r), "2024 ist ein symbolischer Link") {
		t.Fatalf("export: %v\n%s", err, problems(r))
	}
	for _, c := range rec.Calls() {
		if strings.HasPrefix(c.Name, "2022/") || strings.HasPrefix(c.Name, "2024/") {
			t.Fatalf("%s went through a link", c)
		}
	}
}

// TestLinkedFileInAnOrderFolder: a PDF that is a symbolic link to a file is
// the workshop's business, not a hidden backup: verify stays at exit 0. A
// link whose target is missing (a year folder on a disk not mounted) may
// hide orders and is not readable.
func TestLinkedFileInAnOrderFolder(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	db := filepath.Join(t.TempDir(), "werkstatt.db")
	if err := sample.CreateDB(context.Background(), db, [][]string{row("1", "000001"), row("2", "000002")}); err != nil {
		t.Fatal(err)
	}
	_, plain := localArchive(t, root)
	e := &Engine{Arch: plain, DBPath: db, Workers: 2}
	if _, err := e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	pdf := filepath.Join(elsewhere, "000001_Auftrag.pdf")
	if err := os.WriteFile(pdf, []byte("%PDF"), 0o644); err != nil {
		t.Fatal(err)
	}
	symlink(t, pdf, filepath.Join(root, "2024", "000001", "000001_Auftrag.pdf"))
	if r, err := e.Verify(context.Background(), VerifyOptions{}); err != nil || r.Errors != 0 {
		t.Fatalf("verify with a linked PDF: %v\n%s", err, problems(r))
	}
	symlink(t, filepath.Join(elsewhere, "nicht-eingehaengt"), filepath.Join(root, "2019"))
	r, err := e.Verify(context.Background(), VerifyOptions{})
	var ue *UnreadableError
	if !errors.As(err, &ue) {
		t.Fatalf("verify with a dangling year link: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelError, "2019", "symbolischer Link")
}

// TestUpperCaseNames: an order folder holding only DATA.CSV and META.JSON.
// On a case-insensitive backend verify and restore take them and export
// renames them to data.csv/meta.json. On a case-sensitive one they are no
// backup: an error naming each (the order would be lost), counted as
// invalid; beside a real data.csv a variant is a warning.
func TestUpperCaseNames(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002")})
	f.export(ExportOptions{})
	for _, n := range []string{"data.csv", "meta.json"} {
		if err := f.fs.Rename("2024/000002/"+n, "2024/000002/"+strings.ToUpper(n)); err != nil {
			t.Fatal(err)
		}
	}
	f.write("2024/000001/Data.csv", "alt")

	r, err := f.e.Verify(context.Background(), VerifyOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("case-sensitive verify: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelError, "2024/000002/DATA.CSV", "Groß-/Kleinschreibung", "in data.csv umbenennen")
	hasProblem(t, r, LevelWarning, "2024/000001/Data.csv", "Groß-/Kleinschreibung")
	checkCounts(t, r, 2, 1, 1, 0)

	f.e.ownCaps().CaseInsensitive = true
	r, err = f.e.Verify(context.Background(), VerifyOptions{WithDB: true})
	if err != nil || r.OK != 2 {
		t.Fatalf("case-insensitive verify: %v\n%s", err, problems(r))
	}
	out := filepath.Join(t.TempDir(), "neu.db")
	f.e.DBPath = out
	if r, err := f.e.Restore(context.Background(), RestoreOptions{}); err != nil || r.OK != 2 {
		t.Fatalf("case-insensitive restore: %v\n%s", err, problems(r))
	}
	f.e.DBPath = filepath.Join(f.dir, "werkstatt.db")
	f.export(ExportOptions{})
	for _, n := range []string{"data.csv", "meta.json"} {
		if !f.exists("2024/000002/"+n) || f.exists("2024/000002/"+strings.ToUpper(n)) {
			t.Fatalf("export did not rename %s", strings.ToUpper(n))
		}
	}
}

// TestVerifyWithDBUnreadableIsNotMissing: with --db, an order whose folder
// could not be read is not "missing from the archive" (it may be there):
// verify says it was not compared, names the unreadable path, exits 1 for
// the unreadable path and counts that problem once, not twice.
func TestVerifyWithDBUnreadableIsNotMissing(t *testing.T) {
	for _, c := range []struct {
		name, path string
		fault      faultfs.Fault
		notChecked []string // orders the database has whose folder was not read
	}{
		{"year folder not listed", "2023", faultfs.Fault{Op: faultfs.OpReaddir, Name: "2023", Err: faultfs.EIO}, []string{"000004", "000005"}},
		{"data.csv not read", "2024/000002/data.csv", faultfs.Fault{Op: faultfs.OpOpen, Name: "2024/000002/data.csv", Err: faultfs.EACCES}, []string{"000002"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows := [][]string{row("1", "000001"), row("2", "000002"), row("3", "000003"),
				row("4", "000004", "datum", "2023-01-01", "file_path", "test_archiv/2023/000004/000004_Auftrag.pdf"),
				row("5", "000005", "datum", "2023-01-01", "file_path", "test_archiv/2023/000005/000005_Auftrag.pdf")}
			f := newFixture(t, rows)
			f.export(ExportOptions{})
			if err := f.fs.RemoveAll("2024/000003"); err != nil { // really missing
				t.Fatal(err)
			}
			f.e.use(faultfs.New(archiveOf(f.e.Arch.Fs), c.fault).Archive())

			r, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true})
			var ue *UnreadableError
			if !errors.As(err, &ue) || errors.Is(err, ErrValidation) {
				t.Fatalf("verify: %v, want an UnreadableError\n%s", err, problems(r))
			}
			for _, nr := range c.notChecked {
				for _, p := range r.Problems {
					if strings.Contains(p.Message, nr) && strings.Contains(p.Message, "fehlt im Archiv") {
						t.Errorf("order %s reported missing although its folder was not read: %s", nr, p)
					}
				}
				hasProblem(t, r, LevelWarning, "", "Auftrag "+nr, "nicht mit dem Archiv verglichen", c.path)
			}
			hasProblem(t, r, LevelError, "", "Auftrag 000003", "fehlt im Archiv")
			hasProblem(t, r, LevelError, c.path, "nicht lesbar")
			if r.Errors != 2 { // the unreadable path and the really missing order
				t.Fatalf("errors = %d, want 2\n%s", r.Errors, problems(r))
			}
		})
	}
}
