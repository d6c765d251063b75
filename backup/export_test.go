package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"werkstatt-backup/codec"
	"werkstatt-backup/lock"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
)

func TestExportWritesDataAndMeta(t *testing.T) {
	f := newFixture(t, [][]string{row("12", "076329", "kunden_nr", "")})
	r := f.export(ExportOptions{})
	if r.OK != 1 || r.Written != 1 || r.Errors != 0 {
		t.Fatalf("report = %+v", r)
	}
	data := f.read("2024/076329/data.csv")
	wantData := "record_id,auftrag_nr,kunde_name,kunden_nr,kennzeichen,vin,datum,formular_version,keywords_json,file_path,hash,data_complete,created_at,updated_at\r\n" +
		`12,076329,Müller,,B-AB 1234,WVW1234567890ABCD,2024-07-29,neu,"{""Garantie"": [2]}",test_archiv/2024/076329/076329_Auftrag.pdf,abc123,1,2024-07-29T10:00:00,2024-07-29T10:00:00` + "\r\n"
	if data != wantData {
		t.Fatalf("data.csv =\n%q\nwant\n%q", data, wantData)
	}
	m, err := codec.DecodeMeta([]byte(f.read("2024/076329/meta.json")))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(data))
	if m.Checksum != hex.EncodeToString(sum[:]) || m.FileSize != int64(len(data)) || m.RecordID != 12 ||
		m.AuftragNr != "076329" || m.SchemaVersion != "1.0" || m.ExportedAt == "" {
		t.Fatalf("meta = %+v", m)
	}
	if f.exists("2024/076329/data.tmp.csv") || f.exists("2024/076329/meta.tmp.json") || f.exists(lock.LockFileName) {
		t.Fatal("temp or lock file left behind")
	}
}

func TestExportSkipsUnchangedAndFullRewrites(t *testing.T) {
	f := newFixture(t, sample.Rows(20, 3))
	if r := f.export(ExportOptions{}); r.Written != 20 {
		t.Fatalf("first export wrote %d", r.Written)
	}
	r := f.export(ExportOptions{})
	if r.Written != 0 || r.Unchanged != 20 || r.OK != 20 {
		t.Fatalf("second export: %+v", r)
	}
	r = f.export(ExportOptions{Full: true})
	if r.Written != 20 {
		t.Fatalf("--full wrote %d", r.Written)
	}
}

func TestExportRepairsDamagedBackups(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002"), row("3", "000003"), row("4", "000004")})
	f.export(ExportOptions{})
	good := f.read("2024/000001/data.csv")
	// Same size, one byte flipped: meta.json still "matches" by size.
	f.write("2024/000001/data.csv", strings.Replace(good, "Müller", "Müllar", 1))
	// Out of step: meta.json of an older version.
	f.write("2024/000002/meta.json", string(codec.EncodeMeta(codec.Meta{
		SchemaVersion: "1.0", Checksum: strings.Repeat("0", 64), AuftragNr: "000002", RecordID: 2, FileSize: 1})))
	// Leftovers of a crashed run.
	f.write("2024/000003/data.tmp.csv", "half a fi")
	f.write("2024/000003/meta.tmp.json", "{")
	// meta.json missing.
	if err := f.fs.Remove("2024/000004/meta.json"); err != nil {
		t.Fatal(err)
	}
	r := f.export(ExportOptions{})
	if r.Written != 3 || r.Unchanged != 1 {
		t.Fatalf("export after damage: written %d, unchanged %d", r.Written, r.Unchanged)
	}
	if f.read("2024/000001/data.csv") != good {
		t.Fatal("flipped byte not repaired")
	}
	if f.exists("2024/000003/data.tmp.csv") || f.exists("2024/000003/meta.tmp.json") {
		t.Fatal("temp files not removed")
	}
	if r, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true}); err != nil {
		t.Fatalf("verify after repair: %v\n%s", err, problems(r))
	}
}

func TestExportDryRunWritesNothing(t *testing.T) {
	f := newFixture(t, sample.Rows(5, 1))
	r, err := f.e.Export(context.Background(), ExportOptions{DryRun: true})
	if err != nil || r.Written != 5 {
		t.Fatalf("dry run: %v %+v", err, r)
	}
	entries, _ := f.fs.Open(".")
	names, _ := entries.Readdirnames(-1)
	if len(names) != 0 {
		t.Fatalf("dry run wrote %v", names)
	}
}

func TestExportMissingDatabase(t *testing.T) {
	f := newFixture(t, nil)
	_, err := f.e.Export(context.Background(), ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "werkstatt.db") {
		t.Fatalf("err = %v", err)
	}
}

func TestExportWaitsForLockThenGivesUp(t *testing.T) {
	f := newFixture(t, sample.Rows(1, 1))
	held, err := lock.AcquireLock(context.Background(), &storage.Archive{Fs: f.fs, Caps: testCaps}, lock.LockOptions{Operation: "restore"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	_, err = f.e.Export(context.Background(), ExportOptions{})
	var le *lock.LockError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.Operation != "restore" {
		t.Fatalf("err = %v, want LockError naming the holder", err)
	}
}
