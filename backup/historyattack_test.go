package backup

import (
	"context"
	"errors"
	iofs "io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/history"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/objtest"
)

// withVersions gives the engine's archive on the bucket the handle's
// version operations (what backends/s3 offers) where the double does not
// declare them itself.
func withVersions(e *Engine, b *objtest.Store) {
	if e.Arch.Versioned() {
		return
	}
	caps := e.ownCaps()
	find := func(name, id string) (objtest.Version, bool) {
		for _, v := range b.Versions(name) {
			if v.ID == id && !v.DeleteMarker {
				return v, true
			}
		}
		return objtest.Version{}, false
	}
	caps.Versions = func(_ context.Context, name string) ([]storage.Version, error) {
		var out []storage.Version
		for _, v := range slices.Backward(b.Versions(name)) {
			out = append(out, storage.Version{ID: v.ID, ModTime: v.ModTime, Current: v.Current, DeleteMarker: v.DeleteMarker})
		}
		return out, nil
	}
	caps.ReadVersion = func(_ context.Context, name, id string, _ int64) ([]byte, error) {
		if v, ok := find(name, id); ok {
			return v.Data, nil
		}
		return nil, iofs.ErrNotExist
	}
	fsys := e.Arch.Fs
	caps.RestoreVersion = func(_ context.Context, name, id string) error {
		if v, ok := find(name, id); ok {
			return afero.WriteFile(fsys, name, v.Data, 0o644)
		}
		return iofs.ErrNotExist
	}
}

// The overwrite attack with the backup's own key on an Object-Lock
// bucket: verify names every attacked history file as ERROR (exit 3)
// with the repair hint, restore --at still rebuilds the first table,
// the nightly export goes on, and history repair makes the retained
// versions current again: verify is clean.
func TestOverwriteAttackVerifyRestoreRepair(t *testing.T) {
	ctx := context.Background()
	f, bucket, clock := objFixture(t, sample.Rows(12, 9), true)
	withVersions(f.e, bucket)
	f.export(ExportOptions{})
	first := dbRows(t, f.e.DBPath)
	*clock = clock.Add(24 * time.Hour)
	changeRows(t, f, "UPDATE auftraege SET kunde_name = 'Zwei' WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 2)")
	f.export(ExportOptions{})
	var keys []string
	_ = afero.Walk(f.fs, history.Dir, func(p string, fi iofs.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			keys = append(keys, strings.TrimPrefix(p, "/"))
		}
		return err
	})
	for _, k := range append(keys, history.HeadFile) {
		if err := afero.WriteFile(f.fs, k, []byte("kaputt"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.e.Verify(ctx, VerifyOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("verify after the attack: %v\n%s", err, problems(r))
	}
	for _, k := range keys {
		hasProblem(t, r, LevelError, k, "history repair")
	}
	r, err = f.e.Restore(ctx, RestoreOptions{Generation: 1, Force: true, AllowShrink: true})
	if err != nil || !slicesEqualRows(dbRows(t, f.e.DBPath), first) {
		t.Fatalf("restore --generation 1 after the attack: %v\n%s", err, problems(r))
	}
	*clock = clock.Add(24 * time.Hour)
	// The nightly export goes on and names what it read from a version
	// (ERROR, exit 3).
	r, err = f.e.Export(ctx, ExportOptions{})
	if !errors.Is(err, ErrValidation) || r.Generation != 3 {
		t.Fatalf("export after the attack: %v (generation %d)\n%s", err, r.Generation, problems(r))
	}
	hasProblem(t, r, LevelError, history.HeadFile, "history repair")
	if r, err := f.e.RepairHistory(ctx); err != nil || r.OK != len(keys) {
		t.Fatalf("history repair: %v (%d of %d)\n%s", err, r.OK, len(keys), problems(r))
	}
	if r, err := f.e.Verify(ctx, VerifyOptions{}); err != nil || r.Errors > 0 {
		t.Fatalf("verify after the repair: %v\n%s", err, problems(r))
	}
}

func slicesEqualRows(a, b [][]string) bool { return slices.EqualFunc(a, b, slices.Equal) }
