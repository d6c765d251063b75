package s3_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/storagetest"
)

// TestConformance runs the storage contract against a real S3 server, on
// a plain bucket and on a versioned one with Object Lock (where Remove
// deletes versions and decides "is it a folder" from the same listing);
// each subtest gets its own prefix in the bucket as archive root.
func TestConformance(t *testing.T) {
	// LockContention waits for the holder's next refresh (Lease/6, 30 s
	// by default): a short lease keeps it to half a second.
	t.Setenv(lock.TestLeaseEnv, "3s")
	srv := s3test.Start(t)
	var n atomic.Int64
	for _, bucket := range []string{s3test.Bucket, s3test.LockBucket} {
		t.Run(bucket, func(t *testing.T) {
			storagetest.Run(t, func(t *testing.T) *storage.Archive {
				if bucket == s3test.LockBucket && strings.HasSuffix(t.Name(), "/LockUnderLoad") {
					// Ten runs in one process racing for the lock, each
					// release a delete of the lock's versions: versitygw
					// 1.8.0 does not order a version delete and a
					// conditional create (If-None-Match: *) that meet, and
					// now and then two creates succeed (README, "Backing up
					// to S3"). TestRemoveDeletesTheCurrentVersionLast covers
					// what the client can do about it.
					t.Skip("versitygw 1.8.0: Löschen einer Version und bedingtes Anlegen nicht atomar (siehe README)")
				}
				return srv.Open(bucket, fmt.Sprintf("fstest-%d", n.Add(1)))
			})
		})
	}
}
