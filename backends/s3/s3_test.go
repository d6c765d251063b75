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

// implicitDirs are the conformance subtests that assume folders exist on
// their own: an empty folder made by MkdirAll is listed, creating a file
// needs its folder. On S3 folders are implicit (Capabilities.ImplicitDirs):
// MkdirAll creates nothing and a file can be written anywhere. What the
// subtests check apart from that is covered by TestImplicitDirs.
var implicitDirs = map[string]bool{
	"MkdirAll":        true,
	"ReadDir":         true,
	"NotExist":        true,
	"WriteFileAtomic": true,
	"WalkDirs":        true,
}

// TestConformance runs the storage contract against a real S3 server;
// each subtest gets its own prefix in the bucket as archive root.
func TestConformance(t *testing.T) {
	// LockContention waits for the holder's next refresh (Lease/6, 30 s
	// by default): a short lease keeps it to half a second.
	t.Setenv(lock.TestLeaseEnv, "3s")
	srv := s3test.Start(t)
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) *storage.Archive {
		sub := t.Name()[strings.LastIndex(t.Name(), "/")+1:]
		if implicitDirs[sub] {
			t.Skip("setzt eigenständige Ordner voraus; S3 hat ImplicitDirs (siehe TestImplicitDirs)")
		}
		return srv.Open(s3test.Bucket, fmt.Sprintf("fstest-%d", n.Add(1)))
	})
}
