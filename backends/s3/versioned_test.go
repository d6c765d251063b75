package s3_test

import (
	"context"
	"os"
	"testing"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
)

// TestRemoveThenExclusiveCreateOnVersionedBucket: the archive lock is
// created exclusively, removed at release and created again by the next
// run. On a versioned bucket (every Object-Lock bucket is one) a plain
// DELETE leaves a delete marker, and versitygw answers the next
// If-None-Match: * with 412 as if the key existed: the second export
// waited for a lock nobody held. Remove deletes every version instead.
func TestRemoveThenExclusiveCreateOnVersionedBucket(t *testing.T) {
	srv := s3test.Start(t)
	a := srv.Open(s3test.LockBucket, "werkstatt")
	for round := range 3 {
		f, err := a.Fs.OpenFile(".backup.lock", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			t.Fatalf("round %d: exclusive create after Remove: %v", round, err)
		}
		if _, err := f.Write([]byte("lock")); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		// A refresh rewrites it: a second version.
		if err := a.Caps.WriteFile(".backup.lock", []byte("refreshed"), 0o644, true); err != nil {
			t.Fatal(err)
		}
		if err := a.Fs.Remove(".backup.lock"); err != nil {
			t.Fatalf("round %d: Remove: %v", round, err)
		}
		if _, err := a.Fs.Stat(".backup.lock"); !os.IsNotExist(err) {
			t.Fatalf("round %d: Stat after Remove = %v, want not exist (no older version may come back)", round, err)
		}
	}
	// No version and no delete marker is left behind.
	n := 0
	for o := range srv.Client().ListObjects(context.Background(), s3test.LockBucket,
		minio.ListObjectsOptions{Prefix: "werkstatt/.backup.lock", WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
	}
	if n != 0 {
		t.Errorf("%d versions or delete markers left of the removed lock file", n)
	}
}
