package backup

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/codec"
	"werkstatt-backup/codec/csvfmt"
	v1 "werkstatt-backup/codec/v1"
	"werkstatt-backup/migrate"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// testCodec is a test-only schema version: v1's 14 columns, renamed and
// extended. Rules and identity are v1's, looked up by position.
type testCodec struct {
	version string
	cols    []codec.Column
}

func (c testCodec) Version() string         { return c.version }
func (c testCodec) Columns() []codec.Column { return c.cols }
func (c testCodec) Encode(rows ...[]string) []byte {
	b := csvfmt.AppendRow(nil, codec.Names(c))
	for _, r := range rows {
		b = csvfmt.AppendRow(b, r)
	}
	return b
}
func (c testCodec) Decode(data []byte) ([][]string, error) {
	return codec.DecodeRows(data, codec.Names(c))
}
func (c testCodec) Validate(vals []string) []codec.FieldError {
	if len(vals) != len(c.cols) {
		return []codec.FieldError{{Column: "*", Reason: "falsche Feldzahl"}}
	}
	return v1.Codec{}.Validate(vals[:14])
}
func (c testCodec) Identity(vals []string) codec.Identity { return v1.Codec{}.Identity(vals[:14]) }

// chainSchema knows 1.0, 2.0 (adds werkstatt, default "Zentrale") and 3.0
// (renames kennzeichen to amtliches_kennzeichen) and writes current.
func chainSchema(current string, steps ...migrate.Step) Schema {
	v2cols := append(slices.Clone(v1.Codec{}.Columns()), codec.Column{Name: "werkstatt", Type: "TEXT"})
	v3cols := slices.Clone(v2cols)
	v3cols[v1.Kennzeichen].Name = "amtliches_kennzeichen"
	s := Schema{Codecs: codec.NewRegistry(), Migrations: migrate.NewRegistry()}
	s.Codecs.Register(v1.Codec{})
	s.Codecs.Register(testCodec{"2.0", v2cols})
	s.Codecs.Register(testCodec{"3.0", v3cols})
	s.Codecs.SetCurrent(current)
	if steps == nil {
		steps = []migrate.Step{step12, step23}
	}
	for _, st := range steps {
		s.Migrations.Register(st)
	}
	return s
}

var (
	step12 = migrate.Step{From: "1.0", To: "2.0", Apply: func(v []string) ([]string, error) {
		return append(slices.Clone(v), "Zentrale"), nil
	}}
	step23 = migrate.Step{From: "2.0", To: "3.0", Apply: func(v []string) ([]string, error) {
		return slices.Clone(v), nil // same values, one column renamed
	}}
)

// mixedArchive puts backups of 1.0 and 2.0 into f's archive.
func mixedArchive(t *testing.T, f *fixture) {
	t.Helper()
	s := chainSchema("3.0")
	for i, version := range []string{"1.0", "2.0", "1.0", "2.0"} {
		c, _ := s.Codecs.Lookup(version)
		nr := []string{"000001", "000002", "000003", "000004"}[i]
		vals := row(nr[5:], nr, "kennzeichen", "HH-A "+nr[5:])
		if version == "2.0" {
			vals = append(vals, "Filiale Nord")
		}
		data := c.Encode(vals)
		putMeta(f, "2024/"+nr, data, version)
	}
}

func putMeta(f *fixture, dir string, data []byte, version string) {
	f.write(dir+"/data.csv", string(data))
	id := v1.Codec{}.Identity(must(codec.DecodeRows(data, strings.Split(strings.SplitN(string(data), "\r\n", 2)[0], ",")))[0][:14])
	f.write(dir+"/meta.json", string(codec.EncodeMeta(codec.Meta{SchemaVersion: version, Checksum: sha(data),
		ExportedAt: "2024-07-29T10:30:00", AuftragNr: id.AuftragNr, RecordID: id.RecordID, FileSize: int64(len(data))})))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// golden compares got with the file at path (rewritten with -update).
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("%s:\n%q\nwant\n%q", path, got, want)
	}
}

func TestRestoreMigratesAMixedArchiveThroughTwoSteps(t *testing.T) {
	f := newFixture(t, nil)
	mixedArchive(t, f)
	f.e.Schema = chainSchema("3.0")
	if r, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil || r.OK != 4 {
		t.Fatalf("verify: %v\n%s", err, problems(r))
	}
	if _, err := f.e.Restore(context.Background(), RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	db, _ := openWrite(f.e.DBPath)
	cols, _ := db.Columns(context.Background(), Table)
	db.Close()
	if cols[v1.Kennzeichen] != "amtliches_kennzeichen" || cols[len(cols)-1] != "werkstatt" {
		t.Fatalf("table has columns %v", cols)
	}
	got := dbRows(t, f.e.DBPath)
	want := map[string]string{"1": "Zentrale", "2": "Filiale Nord", "3": "Zentrale", "4": "Filiale Nord"}
	for _, r := range got {
		if r[14] != want[r[0]] || r[v1.Kennzeichen] != "HH-A "+r[0] {
			t.Fatalf("row %v", r)
		}
	}
}

func TestMigrateRewritesOlderVersionsToGolden(t *testing.T) {
	f := newFixture(t, nil)
	mixedArchive(t, f)
	f.e.Schema = chainSchema("3.0")
	// The inputs, one golden file per version and order: 1.0 and 2.0.
	for _, nr := range []string{"000001", "000002", "000003", "000004"} {
		golden(t, filepath.Join("testdata", "chain", "in-"+nr+".csv"), f.read("2024/"+nr+"/data.csv"))
	}
	r, err := f.e.Migrate(context.Background(), MigrateOptions{})
	if err != nil || r.OK != 4 {
		t.Fatalf("migrate: %v %+v", err, r)
	}
	for _, nr := range []string{"000001", "000002", "000003", "000004"} {
		golden(t, filepath.Join("testdata", "chain", nr+".csv"), f.read("2024/"+nr+"/data.csv"))
		if m := must(codec.DecodeMeta([]byte(f.read("2024/" + nr + "/meta.json")))); m.SchemaVersion != "3.0" || m.ExportedAt != "2024-07-29T10:30:00" {
			t.Errorf("%s meta after migrate: %+v", nr, m)
		}
	}
	if r, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil || len(r.Problems) != 0 {
		t.Fatalf("verify after migrate: %v\n%s", err, problems(r))
	}
	if r, err := f.e.Migrate(context.Background(), MigrateOptions{}); err != nil || r.OK != 0 {
		t.Fatalf("second migrate: %v, rewrote %d", err, r.OK)
	}
}

func TestMigrateStoppedHalfwayLeavesOldOrNew(t *testing.T) {
	f := newFixture(t, nil)
	mixedArchive(t, f)
	f.e.Schema = chainSchema("3.0")
	mem := f.e.Arch.Fs
	for after := int64(0); after < 4; after++ {
		f.e.setFs(&stopAt{Fs: mem, suffix: "/data.csv", after: after})
		if _, err := f.e.Migrate(context.Background(), MigrateOptions{}); err == nil && after < 3 {
			t.Fatalf("migrate with a failing rename after %d succeeded", after)
		}
		f.e.setFs(mem)
		if r, err := f.e.Verify(context.Background(), VerifyOptions{}); err != nil || r.OK != 4 {
			t.Fatalf("verify after a stop at %d: %v\n%s", after, err, problems(r))
		}
	}
	f.e.Migrate(context.Background(), MigrateOptions{})
	if r, _ := f.e.Verify(context.Background(), VerifyOptions{}); len(r.Problems) != 0 {
		t.Fatalf("after completing:\n%s", problems(r))
	}
}

func TestVersionsOutsideTheChainAreRefused(t *testing.T) {
	f := newFixture(t, nil)
	data := testCodec{"4.0", v1.Codec{}.Columns()}.Encode(row("1", "000001"))
	putMeta(f, "2024/000001", data, "4.0")
	putMeta(f, "2024/000002", v1.Codec{}.Encode(row("2", "000002")), "1.0")
	f.e.Schema = chainSchema("3.0", step23) // no step from 1.0
	r, err := f.e.Restore(context.Background(), RestoreOptions{})
	if !errors.Is(err, ErrValidation) {
		t.Fatalf("err = %v", err)
	}
	hasProblem(t, r, LevelError, "2024/000001/meta.json", `"4.0"`, "neuer", "1.0 bis 3.0")
	hasProblem(t, r, LevelError, "2024/000002/meta.json", "keine Migration", "1.0")
}

func TestExportWithNewerSchemaNamesMissingColumns(t *testing.T) {
	f := newFixture(t, [][]string{row("1", "000001")})
	f.e.Schema = chainSchema("3.0")
	_, err := f.e.Export(context.Background(), ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "amtliches_kennzeichen") || !strings.Contains(err.Error(), "werkstatt") {
		t.Fatalf("err = %v", err)
	}
}
