package s3_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/history"
)

// The history on a versioned bucket against a real server: forget
// removes what it forgets, the files of the generations it rewrites and
// the pack files it repacks with every version (Remove), and none of it
// is taken for an attack: Check finds nothing and reads no older version.
// After a deletion attack (a plain DELETE of every history object and the
// head marker: delete markers) the chain walk from the head marker's
// version finds the kept generations through the files forget wrote,
// Check names exactly the deleted files, and the repair makes it whole.
func TestHistoryForgetOnVersionedBucket(t *testing.T) {
	ctx := t.Context()
	srv := s3test.Start(t)
	const prefix = "vergessen"
	a := srv.Open(s3test.LockBucket, prefix)
	if !a.Versioned() {
		t.Fatal("the Object-Lock bucket keeps no versions")
	}
	s := history.Open(a)
	contents := map[int64][]byte{}
	for id := range int64(12) {
		contents[id+1] = fmt.Appendf(nil, "auftrag;%d;fassung 0\n", id+1)
	}
	for round := range 5 {
		if round > 0 {
			for id := int64(1); id <= 3; id++ { // three records change each time
				contents[id] = fmt.Appendf(nil, "auftrag;%d;fassung %d\n", id, round)
			}
		}
		var recs []history.Record
		for id := int64(1); id <= 12; id++ {
			recs = append(recs, history.Record{RecordID: id, AuftragNr: fmt.Sprint(1000 + id), Folder: fmt.Sprintf("2026/%06d", 1000+id),
				Hash: history.Sum(contents[id]), Size: int64(len(contents[id])), Schema: "1.0"})
		}
		if _, err := s.Commit(ctx, recs, func(r history.Record) ([]byte, error) { return contents[r.RecordID], nil }); err != nil {
			t.Fatalf("commit %d: %v", round+1, err)
		}
	}
	res, err := s.Forget(ctx, history.Retention{Last: 2}, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Removed) != 3 || len(res.Rewritten) == 0 || len(res.PacksRepacked) == 0 {
		t.Fatalf("forget removed %d, rewrote %v, repacked %v: want 3 and some of each", len(res.Removed), res.Rewritten, res.PacksRepacked)
	}
	s = history.Open(a)
	if d, err := s.Check(ctx); err != nil || len(d) != 0 || len(s.Attacked()) != 0 {
		t.Fatalf("check after forget: %v %v (read from versions: %v)", err, d, s.Attacked())
	}

	c := srv.Client()
	var keys []string
	for o := range c.ListObjects(ctx, s3test.LockBucket, minio.ListObjectsOptions{Prefix: prefix + "/" + history.Dir + "/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	keys = append(keys, prefix+"/"+history.HeadFile)
	for _, k := range keys {
		if err := c.RemoveObject(ctx, s3test.LockBucket, k, minio.RemoveObjectOptions{}); err != nil {
			t.Fatalf("plain delete of %s: %v", k, err)
		}
	}
	s = history.Open(a)
	gens, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for _, g := range gens {
		seqs = append(seqs, g.Seq)
		if _, err := s.Load(ctx, g.Seq); err != nil {
			t.Fatalf("generation %d after the deletion: %v", g.Seq, err)
		}
	}
	if !slices.Equal(seqs, []uint64{4, 5}) {
		t.Fatalf("generations found after the deletion %v, want 4 and 5", seqs)
	}
	d, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range d {
		if !x.Attacked || len(x.Gens) > 0 || !slices.Contains(keys, prefix+"/"+x.Path) {
			t.Fatalf("damage after the deletion: %v (deleted: %v)", x, keys)
		}
	}
	if len(d) != len(keys) {
		t.Fatalf("%d of %d deleted files named: %v", len(d), len(keys), d)
	}
	if _, err := history.Open(a).RestoreVersions(context.WithoutCancel(ctx)); err != nil {
		t.Fatal(err)
	}
	if d, err := history.Open(a).Check(ctx); err != nil || len(d) != 0 {
		t.Fatalf("check after the repair: %v %v", d, err)
	}
}
