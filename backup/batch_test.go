package backup

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/sample"
)

// batchFs is an archive with the SyncAll ability; it counts calls and
// can fail the first one.
type batchFs struct {
	afero.Fs
	calls  int
	fail   bool
	onSync func() // called at each SyncAll, if set
}

func (b *batchFs) SyncAll(context.Context) error {
	b.calls++
	if b.onSync != nil {
		b.onSync()
	}
	if b.fail && b.calls == 1 {
		return errors.New("Gerät nicht bereit")
	}
	return nil
}

func TestExportBatchSync(t *testing.T) {
	f := newFixture(t, sample.Rows(12, 9))
	b := &batchFs{Fs: f.fs}
	f.e.setFs(b)
	f.e.ownCaps().SyncAll = b.SyncAll
	r := f.export(ExportOptions{})
	if r.Written != 12 || b.calls != 2 {
		t.Fatalf("written %d with %d SyncAll calls, want 12 and 2", r.Written, b.calls)
	}
	if r, err := f.e.Verify(context.Background(), VerifyOptions{WithDB: true}); err != nil || len(r.Problems) != 0 {
		t.Fatalf("verify: %v\n%s", err, problems(r))
	}
	// Nothing changed: no sync at all.
	b.calls = 0
	if r := f.export(ExportOptions{}); r.Unchanged != 12 || b.calls != 0 {
		t.Fatalf("unchanged export: %+v, %d syncs", r, b.calls)
	}
}

func TestExportBatchSyncFailureCommitsNothing(t *testing.T) {
	f := newFixture(t, sample.Rows(5, 9))
	f.export(ExportOptions{})
	before := map[string]string{}
	for _, row := range sample.Rows(5, 9) {
		dir := row[6][:4] + "/" + row[1]
		before[dir] = f.read(dir + "/data.csv")
	}
	db, _ := openWrite(f.e.DBPath)
	db.Exec(context.Background(), `UPDATE auftraege SET hash = 'geändert'`)
	db.Close()
	b := &batchFs{Fs: f.fs, fail: true}
	f.e.setFs(b)
	f.e.ownCaps().SyncAll = b.SyncAll
	r, err := f.e.Export(context.Background(), ExportOptions{})
	if err == nil || r.Errors != 5 || r.Written != 0 {
		t.Fatalf("err %v, report %+v", err, r)
	}
	hasProblem(t, r, LevelError, "", "nicht bereit")
	for dir, data := range before {
		if got := f.read(dir + "/data.csv"); got != data || strings.Contains(got, "geändert") {
			t.Fatalf("%s changed although its temp file was never made durable", dir)
		}
	}
}

// A web app writing to a database on the archive's disk waited half a
// second for one sync after 300,000 renames: export makes its renames
// durable every renameChunk pairs instead of once at the end.
func TestExportSyncsRenamesInChunks(t *testing.T) {
	f := newFixture(t, sample.Rows(12, 9))
	b := &batchFs{Fs: f.fs}
	f.e.setFs(b)
	f.e.ownCaps().SyncAll = b.SyncAll
	f.e.renameChunk = 5
	var committed []int // data.csv files at each SyncAll
	b.onSync = func() {
		n := 0
		afero.Walk(f.fs, ".", func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Name() == DataFile {
				n++
			}
			return nil
		})
		committed = append(committed, n)
	}
	if r := f.export(ExportOptions{}); r.Written != 12 {
		t.Fatalf("written %d, want 12", r.Written)
	}
	// One sync of the staged files, then one after 5, 10 and 12 renames.
	if want := []int{0, 5, 10, 12}; !slices.Equal(committed, want) {
		t.Fatalf("data.csv files at each SyncAll: %v, want %v", committed, want)
	}
}
