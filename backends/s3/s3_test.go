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

// TestConformance runs the storage contract against a real S3 server;
// each subtest gets its own prefix in the bucket as archive root.
func TestConformance(t *testing.T) {
	// LockContention waits for the holder's next refresh (Lease/6, 30 s
	// by default): a short lease keeps it to half a second.
	t.Setenv(lock.TestLeaseEnv, "3s")
	srv := s3test.Start(t)
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) *storage.Archive {
		return srv.Open(s3test.Bucket, fmt.Sprintf("fstest-%d", n.Add(1)))
	})
}
