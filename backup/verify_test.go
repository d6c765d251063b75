package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/codec"
	v1 "werkstatt-backup/codec/v1"
)

// put writes a backup the way the original Python tool did: csv.writer bytes
// and json.dump with its default separators, unless meta is given.
func put(f *fixture, dir string, data string, meta string) {
	if meta == "" {
		sum := sha256.Sum256([]byte(data))
		rows, err := v1.Codec{}.Decode([]byte(data))
		id := codec.Identity{RecordID: 0, AuftragNr: ""}
		if err == nil {
			id = v1.Codec{}.Identity(rows[0])
		}
		meta = fmt.Sprintf(`{"schema_version": "1.0", "checksum": "%s", "exported_at": "2024-07-29T10:30:00", "auftrag_nr": "%s", "record_id": %d, "file_size": %d}`,
			hex.EncodeToString(sum[:]), id.AuftragNr, id.RecordID, len(data))
	}
	f.write(dir+"/data.csv", data)
	f.write(dir+"/meta.json", meta)
}

func csvOf(rows ...[]string) string { return string(v1.Codec{}.Encode(rows...)) }

func TestVerifyReadsPythonArchive(t *testing.T) {
	f := newFixture(t, nil)
	put(f, "2024/076329", csvOf(row("12", "076329", "kunde_name", "Meier, \"Hans\"\r\nzweite Zeile")), "")
	put(f, "2023/076330", "\ufeff"+strings.ReplaceAll(csvOf(row("13", "076330", "datum", "2023-01-01")), "\r\n", "\n"), "")
	r, err := f.e.Verify(context.Background(), VerifyOptions{})
	if err != nil || r.OK != 2 || r.Errors != 0 {
		t.Fatalf("verify: %v, %+v\n%s", err, r, problems(r))
	}
}

func TestVerifyFindsEveryKindOfProblem(t *testing.T) {
	f := newFixture(t, nil)
	good := csvOf(row("1", "000001"))
	put(f, "2024/000001", good, "")
	cases := []struct {
		dir, file string
		setup     func(dir string)
		words     []string
	}{
		{"2024/000002", "data.csv", func(d string) { f.write(d+"/data.csv", csvOf(row("2", "000002"))) }, []string{"meta.json fehlt"}},
		{"2024/000003", "data.csv", func(d string) { f.write(d+"/meta.json", `{}`) }, []string{"fehlt"}},
		{"2024/000004", "meta.json", func(d string) { put(f, d, csvOf(row("4", "000004")), "{kaputt") }, []string{"JSON"}},
		{"2024/000005", "data.csv", func(d string) {
			put(f, d, csvOf(row("5", "000005")), "")
			f.write(d+"/data.csv", strings.Replace(csvOf(row("5", "000005")), "Müller", "Müllex", 1))
		}, []string{"Checksumme ungültig"}},
		{"2024/000006", "data.csv", func(d string) {
			put(f, d, csvOf(row("6", "000006")), "")
			f.write(d+"/data.csv", csvOf(row("6", "000006"))+"x")
		}, []string{"Dateigröße"}},
		{"2024/000007", "meta.json", func(d string) {
			data := csvOf(row("7", "000007"))
			sum := sha256.Sum256([]byte(data))
			put(f, d, data, fmt.Sprintf(`{"schema_version":"9.0","checksum":"%x","exported_at":"","auftrag_nr":"000007","record_id":7,"file_size":%d}`, sum, len(data)))
		}, []string{"9.0", "neuer"}},
		{"2024/000008", "meta.json", func(d string) {
			data := csvOf(row("8", "000008"))
			sum := sha256.Sum256([]byte(data))
			put(f, d, data, fmt.Sprintf(`{"schema_version":"0.5","checksum":"%x","exported_at":"","auftrag_nr":"000008","record_id":8,"file_size":%d}`, sum, len(data)))
		}, []string{"0.5", "unbekannt"}},
		{"2024/000009", "data.csv", func(d string) { put(f, d, strings.Replace(csvOf(row("9", "000009")), "record_id", "id", 1), "") }, []string{"Kopfzeile"}},
		{"2024/000010", "data.csv", func(d string) { put(f, d, csvOf(row("1O", "000010")), "") }, []string{"record_id", "keine ganze Zahl"}},
		{"2024/000011", "data.csv", func(d string) { put(f, d, strings.Replace(csvOf(row("11", "000011")), "Müller", `Mü"ller`, 1), "") }, []string{"Anführungszeichen"}},
		{"2024/000012", "data.csv", func(d string) {
			f.write(d+"/meta.json", string(codec.EncodeMeta(codec.Meta{SchemaVersion: "1.0", Checksum: strings.Repeat("a", 64)})))
		}, []string{"fehlt", "meta.json ist vorhanden"}},
		{"2024/000013", "data.csv", func(d string) { put(f, d, "", "") }, []string{"leer"}},
		{"2024/000014", "meta.json", func(d string) {
			data := csvOf(row("14", "000014"))
			sum := sha256.Sum256([]byte(data))
			put(f, d, data, fmt.Sprintf(`{"schema_version":"1.0","checksum":"%x","exported_at":"","auftrag_nr":"000099","record_id":99,"file_size":%d}`, sum, len(data)))
		}, []string{"passt nicht"}},
		{"2024/000015", "data.csv", func(d string) { put(f, d, csvOf(row("15", "000015", "kunde_name", "a\x00b")), "") }, []string{"NUL"}},
		{"2024/000016", "data.csv", func(d string) { put(f, d, csvOf(row("16", "000016", "kunde_name", "a\xffb")), "") }, []string{"UTF-8"}},
		{"2024/000017", "data.csv", func(d string) {
			f.write(d+"/meta.json", "{}")
			if err := f.fs.MkdirAll(d+"/data.csv", 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"keine normale Datei"}},
	}
	for _, c := range cases {
		c.setup(c.dir)
	}
	f.write("2024/000001/data.tmp.csv", "halb")
	r, err := f.e.Verify(context.Background(), VerifyOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("err = %v, want ErrValidation", err)
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) { hasProblem(t, r, LevelError, c.dir+"/"+c.file, c.words...) })
	}
	hasProblem(t, r, LevelWarning, "2024/000001/data.tmp.csv", "abgebrochen")
	if r.OK != 1 || r.Errors != len(cases) {
		t.Fatalf("ok %d errors %d, want 1 and %d\n%s", r.OK, r.Errors, len(cases), problems(r))
	}
}

func TestVerifyDuplicatesAreWarnings(t *testing.T) {
	f := newFixture(t, nil)
	put(f, "2024/000001", csvOf(row("1", "000001", "updated_at", "2024-07-29T12:00:00+02:00")), "")
	put(f, "2023/000001", csvOf(row("1", "000001", "updated_at", "2024-07-29T11:00:00Z")), "")
	r, err := f.e.Verify(context.Background(), VerifyOptions{})
	if err != nil {
		t.Fatalf("duplicates must not fail verify: %v", err)
	}
	// 12:00+02:00 is 10:00Z, so the copy in 2023 is newer, compared as times.
	hasProblem(t, r, LevelWarning, "", "2024/000001/data.csv", "Restore nimmt 2023/000001/data.csv", "updated_at")
}

func TestVerifyWithDatabase(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001"), row("2", "000002"), row("3", "000003", "kunde_name", "neu")})
	f.export(ExportOptions{})
	// Record 2 lost its backup, record 3's backup is older than its row,
	// record 4 is in the archive but not in the database.
	if err := f.fs.RemoveAll("2024/000002"); err != nil {
		t.Fatal(err)
	}
	put(f, "2024/000003", csvOf(row("3", "000003", "kunde_name", "alt")), "")
	put(f, "2024/000004", csvOf(row("4", "000004")), "")
	r, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("err = %v", err)
	}
	hasProblem(t, r, LevelError, "", "000002", "fehlt im Archiv")
	hasProblem(t, r, LevelError, "2024/000003/data.csv", "veraltet")
	hasProblem(t, r, LevelError, "2024/000004/data.csv", "verwaist")
	if r.Errors != 3 {
		t.Fatalf("errors = %d\n%s", r.Errors, problems(r))
	}
	// Without --db the archive alone is fine.
	if _, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil {
		t.Fatalf("verify without db: %v", err)
	}
}

// TestVerifyEmptyArchive: an archive without a single backup (a mistyped
// --archiv, an unmounted share) is not "all good": exit 1 naming the path.
func TestVerifyEmptyArchive(t *testing.T) {
	f := newFixture(t, nil)
	f.e.Archive = "/mnt/nas/archiv"
	f.write("2024/000001/000001_Auftrag.pdf", "%PDF")
	_, err := f.e.Verify(context.Background(), VerifyOptions{})
	if !errors.Is(err, ErrNoBackup) || errors.Is(err, ErrValidation) || !strings.Contains(err.Error(), "/mnt/nas/archiv") {
		t.Fatalf("verify of an archive without backups: %v", err)
	}
}

func TestVerifyReadOnlyArchiveWithoutLock(t *testing.T) {
	f := newFixture(t, nil)
	put(f, "2024/000001", csvOf(row("1", "000001")), "")
	f.e.setFs(afero.NewReadOnlyFs(f.fs))
	r, err := f.e.Verify(context.Background(), VerifyOptions{})
	if err != nil || r.OK != 1 {
		t.Fatalf("verify of a read-only archive: %v\n%s", err, problems(r))
	}
	hasProblem(t, r, LevelWarning, ".backup.lock", "schreibgeschützt")
	// Export needs the lock and says why it cannot have it.
	if _, err := f.e.Export(context.Background(), ExportOptions{}); err == nil {
		t.Fatal("export on a read-only archive succeeded")
	}
}
