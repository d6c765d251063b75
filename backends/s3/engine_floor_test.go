package s3_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/backup"
)

// What each kind of order costs on a real S3 server, request by request
// (issue 22, "S3 at its request floor"): a new order is two PUTs, data.csv
// then meta.json, and nothing else (no marker, no folder check); a run
// stopped between the two leaves an unfinished backup that verify names
// (a warning, not valid) and that the next export completes with one PUT
// of meta.json, reading nothing; an unchanged export is one listing of
// the archive and reads no object.
func TestEngineOnS3RequestFloor(t *testing.T) {
	srv := s3test.Start(t)
	for _, bucket := range []string{s3test.Bucket, s3test.LockBucket} {
		t.Run(bucket, func(t *testing.T) {
			ctx := t.Context()
			f := newS3Fixture(t, srv, bucket, "boden", 40)
			folders := orderFolders(t, f)
			stopped := folders[7]
			stoppedMeta := f.key(path.Join(stopped, backup.MetaFile))

			// First export; the PUT of one order's meta.json is refused,
			// as if the run had been killed just before it.
			f.rec.take()
			f.rec.refusing("PUT " + stoppedMeta)
			r, err := f.e.Export(ctx, backup.ExportOptions{})
			f.rec.refusing("")
			reqs := f.rec.take()
			f.clearLock(t)
			if err == nil || r.Written != 39 || r.Errors != 1 {
				t.Fatalf("export with %s refused: %v, %d written, %d errors\n%s", stoppedMeta, err, r.Written, r.Errors, f.log)
			}
			for _, dir := range folders {
				mine := matching(reqs, "", f.key(dir)+"/")
				want := []string{"PUT " + f.key(path.Join(dir, backup.DataFile)), "PUT " + f.key(path.Join(dir, backup.MetaFile))}
				if dir == stopped && len(mine) > 2 {
					mine = mine[:2] // then the history asks what the folder holds
				}
				if !slices.Equal(mine, want) {
					t.Fatalf("new order %s: %d requests %v, want %v", dir, len(mine), mine, want)
				}
			}
			if other := outsideOrders(f, reqs, folders); !slices.Equal(other, []string{"LIST " + f.pfx + "/"}) {
				t.Fatalf("first export, besides the orders' PUTs, the lock and the history: %v, want one listing", other)
			}
			t.Logf("first export of 40 orders: %d requests (%s)", len(reqs), tally(reqs))

			v, err := f.e.Verify(ctx, backup.VerifyOptions{})
			f.clearLock(t)
			if err != nil || v.OK != 39 || v.Errors != 0 || v.Folders.Invalid != 1 {
				t.Fatalf("verify after the stop: %v, %d OK, %d errors, %+v\n%v", err, v.OK, v.Errors, v.Folders, v.Problems)
			}
			if !slices.ContainsFunc(v.Problems, func(p backup.Problem) bool {
				return p.Level == backup.LevelWarning && p.Path == path.Join(stopped, backup.MetaFile) && strings.Contains(p.Message, "unvollständig")
			}) {
				t.Fatalf("verify does not call %s unfinished: %v", stopped, v.Problems)
			}

			// The next export completes it: one PUT, nothing read.
			f.rec.take()
			r, err = f.e.Export(ctx, backup.ExportOptions{})
			reqs = f.rec.take()
			f.clearLock(t)
			if err != nil || r.Written != 1 || r.Unchanged != 39 {
				t.Fatalf("next export: %v, %d written, %d unchanged\n%s", err, r.Written, r.Unchanged, f.log)
			}
			if mine := matching(reqs, "", f.key(stopped)+"/"); !slices.Equal(mine, []string{"PUT " + stoppedMeta}) {
				t.Fatalf("completing %s: %v, want one PUT of its meta.json", stopped, mine)
			}
			listing := f.archiveListing(t) // (lists through the recorder)
			other := outsideOrders(f, reqs, folders)
			slices.Sort(other)
			if !slices.Equal(other, listing) {
				t.Fatalf("completing export, besides the one PUT, the lock and the history: %v, want the archive's listing %v", other, listing)
			}

			// Unchanged: the listing only.
			f.rec.take()
			r, err = f.e.Export(ctx, backup.ExportOptions{})
			reqs = f.rec.take()
			f.clearLock(t)
			if err != nil || r.Unchanged != 40 || r.Written != 0 {
				t.Fatalf("unchanged export: %v, %d unchanged, %d written", err, r.Unchanged, r.Written)
			}
			other = outsideOrders(f, reqs, nil)
			slices.Sort(other)
			if !slices.Equal(other, listing) {
				t.Fatalf("unchanged export, besides the lock and the history: %v, want the archive's listing %v", other, listing)
			}
			t.Logf("unchanged export of 40 orders: %d requests (%s)", len(reqs), tally(reqs))

			v, err = f.e.Verify(ctx, backup.VerifyOptions{WithDB: true})
			f.clearLock(t)
			if err != nil || v.OK != 40 || v.Errors+v.Warnings != 0 {
				t.Fatalf("verify at the end: %v, %d OK, %v", err, v.OK, v.Problems)
			}
		})
	}
}

// orderFolders are the order folders of the fixture's database rows.
func orderFolders(t *testing.T, f *s3Fixture) []string {
	t.Helper()
	cur := backup.DefaultSchema().Codecs.Current()
	var out []string
	for _, row := range rows(t, f.e.DBPath) {
		dir, err := backup.Folder(cur.Identity(row))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, dir)
	}
	return out
}

// outsideOrders are the requests that touch neither the history, nor the
// lock, nor one of folders.
func outsideOrders(f *s3Fixture, reqs []string, folders []string) []string {
	var out []string
	for _, r := range reqs {
		if strings.Contains(r, backup.HistoryDir) || strings.Contains(r, ".backup.lock") {
			continue
		}
		if slices.ContainsFunc(folders, func(dir string) bool { return strings.Contains(r, " "+f.key(dir)+"/") }) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// archiveListing is the one listing of the archive, sorted: the level
// below its root, then each year folder there.
func (f *s3Fixture) archiveListing(t *testing.T) []string {
	t.Helper()
	want := []string{"LIST " + f.pfx + "/"}
	for _, y := range years(t, f) {
		want = append(want, "LIST "+f.pfx+"/"+y+"/")
	}
	slices.Sort(want)
	return want
}
