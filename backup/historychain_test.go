package backup

import (
	"context"
	"errors"
	"testing"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
)

// A history that vanished (every file of _historie deleted, as a DELETE
// with the backup's own key does on an Object-Lock bucket) is an ERROR of
// verify (exit 3), and export refuses to start a new one, writing
// nothing, unless --new-history; then the numbering goes on.
func TestVanishedHistoryRefusedUntilNewHistory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, sample.Rows(20, 3))
	f.export(ExportOptions{})
	f.export(ExportOptions{})
	if err := f.fs.RemoveAll(HistoryDir); err != nil {
		t.Fatal(err)
	}
	r, err := f.e.Verify(ctx, VerifyOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("verify: %v\n%v", err, problems(r))
	}
	hasProblem(t, r, LevelError, history.HeadFile, "Generation 2")
	r, err = f.e.Export(ctx, ExportOptions{})
	if !errors.Is(err, ErrHistoryLost) || !errors.Is(err, ErrValidation) {
		t.Fatalf("export: %v\n%v", err, problems(r))
	}
	hasProblem(t, r, LevelError, history.HeadFile, "--new-history")
	if f.exists(HistoryDir + "/gen") {
		t.Fatal("refused export wrote a generation")
	}
	r = f.export(ExportOptions{NewHistory: true})
	if r.Generation != 3 {
		t.Fatalf("new history starts at generation %d, want 3", r.Generation)
	}
	if r, err := f.e.Verify(ctx, VerifyOptions{}); err != nil {
		t.Fatalf("verify after --new-history: %v\n%v", err, problems(r))
	}
}
