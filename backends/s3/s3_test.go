package s3_test

import (
	"fmt"
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
				return srv.Open(bucket, fmt.Sprintf("fstest-%d", n.Add(1)))
			})
		})
	}
}
