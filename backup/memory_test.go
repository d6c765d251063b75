//go:build unix

package backup

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/codec"
	v1 "werkstatt-backup/codec/v1"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
)

// TestHugeFilesAreNotReadWhole puts a 10 MB data.csv (one huge field, with
// a matching meta.json), a 100 MB sparse data.csv and a 10 MB meta.json into
// an archive beside normal backups. Verify, a strict restore and an export
// must refuse them by name without reading them whole: the bytes they
// allocate stay far below the size of the files.
func TestHugeFilesAreNotReadWhole(t *testing.T) {
	root := t.TempDir()
	rows := sample.Rows(20, 8)
	db := filepath.Join(t.TempDir(), "werkstatt.db")
	if err := sample.CreateDB(context.Background(), db, rows); err != nil {
		t.Fatal(err)
	}
	a := local.NewArchive(root)
	fsys := a.Fs
	e := &Engine{Arch: &storage.Archive{Fs: fsys, Caps: a.Caps}, DBPath: db, Workers: 2}
	if _, err := e.Export(context.Background(), ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	put := func(dir string, data, meta []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(root, dir, "data.csv"), data)
		writeFile(t, filepath.Join(root, dir, "meta.json"), meta)
	}
	huge := v1.Codec{}.Encode(row("900", "900000", "kunde_name", strings.Repeat("M", 10<<20)))
	put("2024/900000", huge, codec.EncodeMeta(codec.Meta{SchemaVersion: "1.0", Checksum: sha(huge),
		ExportedAt: "2024-07-29T10:30:00", AuftragNr: "900000", RecordID: 900, FileSize: int64(len(huge))}))
	put("2024/900001", nil, codec.EncodeMeta(codec.Meta{SchemaVersion: "1.0", Checksum: strings.Repeat("0", 64),
		ExportedAt: "2024-07-29T10:30:00", AuftragNr: "900001", RecordID: 901, FileSize: 100 << 20}))
	if err := os.Truncate(filepath.Join(root, "2024/900001/data.csv"), 100<<20); err != nil {
		t.Fatal(err)
	}
	small := v1.Codec{}.Encode(row("902", "900002"))
	put("2024/900002", small, []byte(`{"x": "`+strings.Repeat("x", 10<<20)+`"}`))
	huge = nil

	measure := func(what string, fn func() (*Report, error)) *Report {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		r, _ := fn()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s allocated %.1f MB for 120 MB of oversized files", what, float64(alloc)/(1<<20))
		// The smallest oversized file is 10 MB: reading any of them whole
		// allocates more than 8 MB; a run of 23 orders with its history
		// allocates about 4.5 MB.
		if alloc > 8<<20 {
			t.Errorf("%s allocated %d bytes: it read an oversized file whole", what, alloc)
		}
		return r
	}
	r := measure("verify", func() (*Report, error) { return e.Verify(context.Background(), VerifyOptions{}) })
	hasProblem(t, r, LevelError, "2024/900000/data.csv", "größer als 1048576 Bytes")
	hasProblem(t, r, LevelError, "2024/900001/data.csv", "größer als 1048576 Bytes")
	hasProblem(t, r, LevelError, "2024/900002/meta.json", "größer als 65536 Bytes")
	if r.OK != 20 || r.Errors != 3 {
		t.Fatalf("verify: %d valid, %d errors\n%s", r.OK, r.Errors, problems(r))
	}
	r = measure("restore", func() (*Report, error) { return e.Restore(context.Background(), RestoreOptions{Force: true}) })
	if r.Errors != 3 || r.BackupDB != "" {
		t.Fatalf("strict restore: %+v", r)
	}
	// The database gets rows for the huge folders: export must replace
	// them without reading them.
	dbw, err := openWrite(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := dbw.Exec(context.Background(), `INSERT INTO auftraege SELECT 899 + rowid, printf('9000%02d', rowid - 1), kunde_name, kunden_nr,
		kennzeichen, vin, datum, formular_version, keywords_json, printf('x/2024/9000%02d/a.pdf', rowid - 1), hash, data_complete, created_at, updated_at
		FROM auftraege WHERE rowid <= 3`); err != nil {
		t.Fatal(err)
	}
	dbw.Close()
	r = measure("export", func() (*Report, error) { return e.Export(context.Background(), ExportOptions{}) })
	if r.Written != 3 || r.Errors != 0 {
		t.Fatalf("export: %+v\n%s", r, problems(r))
	}
	if r, err := e.Verify(context.Background(), VerifyOptions{WithDB: true}); err != nil || len(r.Problems) > 0 {
		t.Fatalf("verify after the export: %v\n%s", err, problems(r))
	}
}
