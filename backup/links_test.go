package backup

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
)

// TestExportWritesThroughNoLink: an order folder or a year folder that is
// a symbolic link is reported by name and nothing is written where it
// points (verify and restore do not follow links, so a backup there would
// be one nobody checks); the other orders are exported.
func TestExportWritesThroughNoLink(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "2024"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, outside, filepath.Join(root, "2024", "076329"))
	symlink(t, outside, filepath.Join(root, "2023"))
	db := filepath.Join(t.TempDir(), "werkstatt.db")
	rows := [][]string{
		row("12", "076329"),
		row("13", "076330"),
		row("14", "070001", "file_path", "test_archiv/2023/070001/070001_Auftrag.pdf"),
	}
	if err := sample.CreateDB(context.Background(), db, rows); err != nil {
		t.Fatal(err)
	}
	a, err := local.Backend{}.Open(context.Background(), local.Location{Path: root}, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{Arch: a, DBPath: db}
	r, err := e.Export(context.Background(), ExportOptions{})
	if err == nil {
		t.Fatal("export succeeded")
	}
	for _, want := range []string{"2024/076329 ist ein symbolischer Link", "2023 ist ein symbolischer Link"} {
		if !strings.Contains(problems(r), want) {
			t.Errorf("report lacks %q:\n%s", want, problems(r))
		}
	}
	if r.Written != 1 || r.Errors != 2 {
		t.Errorf("written %d, errors %d; want 1 and 2", r.Written, r.Errors)
	}
	if entries, _ := os.ReadDir(outside); len(entries) > 0 {
		t.Errorf("export wrote where a link points: %v", entries)
	}
	if _, err := os.Stat(filepath.Join(root, "2024", "076330", "data.csv")); err != nil {
		t.Errorf("the order beside the link was not exported: %v", err)
	}
}
