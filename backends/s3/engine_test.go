package s3_test

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/backup"
	"werkstatt-backup/storage"
)

// The engine on a real S3 server (versitygw), in a bucket without and
// one with Object Lock: export → verify → restore of 100 orders; an
// unchanged export decides from one listing whose ETags are the
// ContentHash of what export wrote; a changed row is caught and costs
// only its own writes.
func TestEngineOnS3(t *testing.T) {
	srv := s3test.Start(t)
	// 100 orders: several year folders for the one listing, more
	// folders than workers; more orders prove nothing further.
	const orders = 100
	for _, bucket := range []string{s3test.Bucket, s3test.LockBucket} {
		t.Run(bucket, func(t *testing.T) {
			ctx := t.Context()
			f := newS3Fixture(t, srv, bucket, "filiale-1", orders)
			want := rows(t, f.e.DBPath)
			r, err := f.e.Export(ctx, backup.ExportOptions{})
			f.clearLock(t)
			if err != nil || r.Written != orders {
				t.Fatalf("first export: %v, %d written\n%s", err, r.Written, f.log)
			}

			// The listing's size and ETag are those of the bytes export wrote.
			files := 0
			err = f.a.Caps.List(context.Background(), "", func(en storage.Entry) error {
				if strings.HasPrefix(en.Name, backup.HistoryDir+"/") || !strings.Contains(en.Name, "/") {
					return nil // the history, the lock
				}
				data, err := f.a.Caps.ReadFile(context.Background(), en.Name, 1<<20)
				if err != nil {
					return err
				}
				if en.Size != int64(len(data)) || en.Hash != f.a.Caps.ContentHash(data) {
					return fmt.Errorf("%s: listed %d bytes, ETag %s; stored %d bytes, ContentHash %s",
						en.Name, en.Size, en.Hash, len(data), f.a.Caps.ContentHash(data))
				}
				files++
				return nil
			})
			if err != nil || files != 2*orders {
				t.Fatalf("listing: %v, %d backup files, want %d", err, files, 2*orders)
			}

			v, err := f.e.Verify(ctx, backup.VerifyOptions{WithDB: true})
			f.clearLock(t)
			if err != nil || v.OK != orders || v.Errors+v.Warnings != 0 {
				t.Fatalf("verify: %v, %d OK, %v", err, v.OK, v.Problems)
			}
			restoreInto(t, f, "neu.db", backup.RestoreOptions{}, want)

			// Unchanged: one listing of the archive, no backup read.
			f.rec.take()
			r, err = f.e.Export(ctx, backup.ExportOptions{})
			reqs := f.rec.take()
			f.clearLock(t)
			if err != nil || r.Unchanged != orders || r.Written != 0 {
				t.Fatalf("unchanged export: %v, %d unchanged, %d written", err, r.Unchanged, r.Written)
			}
			if got := matching(reqs, "GET ", "/"+backup.DataFile); len(got) > 0 {
				t.Fatalf("unchanged export read %d data.csv: %v", len(got), got[:min(3, len(got))])
			}
			if got := matching(reqs, "GET ", "/"+backup.MetaFile); len(got) > 0 {
				t.Fatalf("unchanged export read %d meta.json: %v", len(got), got[:min(3, len(got))])
			}
			lists := slices.DeleteFunc(matching(reqs, "LIST ", ""), func(s string) bool {
				return strings.Contains(s, backup.HistoryDir) || strings.Contains(s, ".backup.lock") // the lock's release
			})
			// One listing of the archive: the level below its root, then
			// each folder there (the years) at the same time; no order's
			// folder on its own.
			wantLists := []string{"LIST filiale-1/"}
			for _, y := range years(t, f) {
				wantLists = append(wantLists, "LIST filiale-1/"+y+"/")
			}
			slices.Sort(lists)
			if !slices.Equal(lists, wantLists) {
				t.Fatalf("unchanged export listed %v outside the history, want one listing of the archive %v", lists, wantLists)
			}
			t.Logf("unchanged export of %d orders: %d requests (%s)", orders, len(reqs), tally(reqs))

			// A changed row is caught, and costs the writes of its pair.
			f.exec(t, "UPDATE auftraege SET kunde_name = 'Geändert GmbH' WHERE record_id = (SELECT min(record_id) FROM auftraege)")
			want = rows(t, f.e.DBPath)
			r, err = f.e.Export(ctx, backup.ExportOptions{})
			reqs = f.rec.take()
			f.clearLock(t)
			if err != nil || r.Written != 1 || r.Unchanged != orders-1 {
				t.Fatalf("export after a change: %v, %d written, %d unchanged", err, r.Written, r.Unchanged)
			}
			// In place (AtomicWrite), not temp names and renames (copy +
			// delete each); the folder is not listed again, nothing read.
			folder := changedFolder(t, reqs)
			mine := matching(reqs, "", folder+"/")
			wantReqs := []string{"PUT " + folder + "/" + backup.MetaTemp, "PUT " + folder + "/" + backup.DataFile,
				"PUT " + folder + "/" + backup.MetaFile,
				"LIST " + folder + "/" + backup.MetaTemp + "/", // Remove asks whether it is a folder first
				"DELETE " + folder + "/" + backup.MetaTemp}
			if bucket == s3test.LockBucket {
				// A versioned bucket: Remove lists the key's versions, which
				// also shows whether it is a folder, and deletes them all in
				// one POST to the bucket (no delete marker).
				wantReqs = append(wantReqs[:3], "LIST "+folder+"/"+backup.MetaTemp, "DELETE-BATCH "+folder+"/"+backup.MetaTemp)
				for i, r := range mine { // the version deleted is the one just written
					if k, _, ok := strings.Cut(r, "@"); ok {
						mine[i] = k
					}
				}
			}
			if !slices.Equal(mine, wantReqs) {
				t.Fatalf("changed order %s: %d requests %v, want %v", folder, len(mine), mine, wantReqs)
			}
			v, err = f.e.Verify(ctx, backup.VerifyOptions{WithDB: true})
			f.clearLock(t)
			if err != nil || v.OK != orders || v.Errors+v.Warnings != 0 {
				t.Fatalf("verify after the change: %v, %d OK, %v", err, v.OK, v.Problems)
			}
			restoreInto(t, f, "neu2.db", backup.RestoreOptions{}, want)
		})
	}
}

// changedFolder is the order folder whose data.csv the requests wrote.
func changedFolder(t *testing.T, reqs []string) string {
	t.Helper()
	for _, r := range reqs {
		method, key, _ := strings.Cut(r, " ")
		if (method == "PUT" || method == "COPY") && path.Base(key) == backup.DataFile {
			return path.Dir(key)
		}
	}
	t.Fatalf("no data.csv written: %v", reqs)
	return ""
}

// restoreInto restores the archive into a new database name in the
// fixture's folder and compares its rows with want.
func restoreInto(t *testing.T, f *s3Fixture, name string, opts backup.RestoreOptions, want [][]string) {
	t.Helper()
	re := *f.e
	re.DBPath = filepath.Join(f.dir, name)
	r, err := re.Restore(t.Context(), opts)
	f.clearLock(t)
	if err != nil {
		t.Fatalf("restore: %v\n%v", err, r.Problems)
	}
	if got := rows(t, re.DBPath); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("restored %d rows differ from the %d wanted", len(got), len(want))
	}
}

// tally counts requests by kind: "GET 3, LIST 2, PUT 4".
func tally(reqs []string) string {
	n := map[string]int{}
	for _, r := range reqs {
		method, _, _ := strings.Cut(r, " ")
		n[method]++
	}
	var parts []string
	for _, m := range []string{"LIST", "GET", "HEAD", "PUT", "COPY", "DELETE", "POST", "PUT-RETENTION"} {
		if n[m] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", m, n[m]))
		}
	}
	return strings.Join(parts, ", ")
}

// BenchmarkUnchangedExport10k: an unchanged export of 10,000 orders on
// versitygw over loopback (target ≤ 1 s).
func BenchmarkUnchangedExport10k(b *testing.B) {
	srv := s3test.Start(b)
	a := srv.Open(s3test.Bucket, "bench")
	e, log, _ := newEngine(b, a, srv.URL(s3test.Bucket, "bench"), 10000)
	if r, err := e.Export(context.Background(), backup.ExportOptions{}); err != nil || r.Written != 10000 {
		b.Fatalf("first export: %v\n%s", err, log)
	}
	for b.Loop() {
		r, err := e.Export(context.Background(), backup.ExportOptions{})
		if err != nil || r.Unchanged != 10000 {
			b.Fatalf("unchanged export: %v, %d unchanged", err, r.Unchanged)
		}
	}
}

// years are the year folders at the archive's root.
func years(t *testing.T, f *s3Fixture) []string {
	t.Helper()
	entries, err := afero.ReadDir(f.a.Fs, ".")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != backup.HistoryDir {
			out = append(out, e.Name())
		}
	}
	return out
}
