package backup

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/backends/mem"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
)

// The pipeline without a disk: the engine on the strict in-memory backend,
// so these measure the engine's own cost per record (read rows, encode,
// check, write, walk, decode, validate, insert). `make bench` measures the
// real thing against a disk and a Samba server.

const benchOrders = 1000

// benchDB creates a sample database of n orders, once per benchmark.
func benchDB(b *testing.B, n int) string {
	b.Helper()
	db := filepath.Join(b.TempDir(), "werkstatt.db")
	if err := sample.CreateDB(context.Background(), db, sample.Rows(n, 1)); err != nil {
		b.Fatal(err)
	}
	return db
}

func benchExport(b *testing.B, e *Engine) {
	b.Helper()
	r, err := e.Export(context.Background(), ExportOptions{})
	if err != nil || r.OK != benchOrders {
		b.Fatalf("export: %v, %d ok\n%s", err, r.OK, problems(r))
	}
}

func perRecord(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*benchOrders), "µs/record")
}

// BenchmarkExportFresh writes 1,000 orders into an empty archive on the
// local disk (b.TempDir), one syncfs for the run. Not in memory: afero's
// MemMapFs renames in time proportional to all files it holds, which
// would be most of what this measured.
func BenchmarkExportFresh(b *testing.B) {
	db := benchDB(b, benchOrders)
	b.ReportAllocs()
	for b.Loop() {
		a, err := local.Backend{}.Open(context.Background(), local.Location{Path: b.TempDir()}, storage.Options{})
		if err != nil {
			b.Fatal(err)
		}
		benchExport(b, &Engine{Arch: a, DBPath: db})
	}
	perRecord(b)
}

// BenchmarkExportUnchanged checks 1,000 orders that are all up to date.
func BenchmarkExportUnchanged(b *testing.B) {
	e := &Engine{Arch: &storage.Archive{Fs: mem.New(), Caps: mem.Caps()}, DBPath: benchDB(b, benchOrders)}
	benchExport(b, e)
	b.ReportAllocs()
	for b.Loop() {
		benchExport(b, e)
	}
	perRecord(b)
}

// BenchmarkVerify checks an archive of 1,000 orders.
func BenchmarkVerify(b *testing.B) {
	e := &Engine{Arch: &storage.Archive{Fs: mem.New(), Caps: mem.Caps()}, DBPath: benchDB(b, benchOrders)}
	benchExport(b, e)
	b.ReportAllocs()
	for b.Loop() {
		if r, err := e.Verify(context.Background(), VerifyOptions{}); err != nil || r.OK != benchOrders {
			b.Fatalf("verify: %v\n%s", err, problems(r))
		}
	}
	perRecord(b)
}

// BenchmarkRestore rebuilds a new SQLite database from 1,000 orders.
func BenchmarkRestore(b *testing.B) {
	fsys := mem.New()
	benchExport(b, &Engine{Arch: &storage.Archive{Fs: fsys, Caps: mem.Caps()}, DBPath: benchDB(b, benchOrders)})
	dir := b.TempDir()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		e := &Engine{Arch: &storage.Archive{Fs: fsys, Caps: mem.Caps()}, DBPath: filepath.Join(dir, strconv.Itoa(i)+".db")}
		if r, err := e.Restore(context.Background(), RestoreOptions{}); err != nil || r.OK != benchOrders {
			b.Fatalf("restore: %v\n%s", err, problems(r))
		}
	}
	perRecord(b)
}
