package backup

import (
	"context"
	"errors"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
)

func TestVerifyChecksHistory(t *testing.T) {
	f := newFixture(t, sample.Rows(10, 3))
	ctx := context.Background()
	f.export(ExportOptions{})
	changeRows(t, f, "UPDATE auftraege SET kunde_name = 'Neu' WHERE record_id = (SELECT min(record_id) FROM auftraege)")
	f.export(ExportOptions{})
	r, err := f.e.Verify(ctx, VerifyOptions{})
	if err != nil || r.Folders.Seen != 10 || r.Warnings != 0 {
		t.Fatalf("clean archive with a history: %v, %+v\n%s", err, r.Folders, problems(r))
	}

	// A leftover of an interrupted run is a warning.
	if err := afero.WriteFile(f.fs, history.Dir+"/gen/0000000003.tmp", []byte("halb"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = f.e.Verify(ctx, VerifyOptions{})
	if err != nil {
		t.Fatalf("leftover temp file: %v", err)
	}
	hasProblem(t, r, LevelWarning, history.Dir+"/gen/0000000003.tmp", "abgebrochen")

	// A damaged pack: invalid (exit 3), naming the generations affected.
	packs, _ := afero.Glob(f.fs, history.Dir+"/pack/*.pack")
	data, _ := afero.ReadFile(f.fs, packs[0])
	data[len(data)/2] ^= 0xff
	afero.WriteFile(f.fs, packs[0], data, 0o644)
	r, err = f.e.Verify(ctx, VerifyOptions{})
	var ue *UnreadableError
	if !errors.Is(err, ErrValidation) || errors.As(err, &ue) {
		t.Fatalf("damaged pack: %v", err)
	}
	hasProblem(t, r, LevelError, packs[0], "Generation 1, 2")

	// A pack that cannot be read: unreadable (exit 1).
	f.e.setFs(readFailFs{f.fs, packs[0]})
	_, err = f.e.Verify(ctx, VerifyOptions{})
	if !errors.As(err, &ue) {
		t.Fatalf("unreadable pack: %v", err)
	}
}
