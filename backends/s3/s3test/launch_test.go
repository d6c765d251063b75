package s3test

import (
	"context"
	"testing"
)

// TestLaunch: a server started outside a test serves both buckets and
// is gone after stop.
func TestLaunch(t *testing.T) {
	find(t) // skips (or fails with ARCHIV_REQUIRE_S3=1) without versitygw
	srv, stop, err := Launch(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	for _, b := range []string{Bucket, LockBucket} {
		if ok, err := c.BucketExists(context.Background(), b); err != nil || !ok {
			t.Errorf("bucket %s: %v, %v", b, ok, err)
		}
	}
	stop()
	if _, err := c.ListBuckets(context.Background()); err == nil {
		t.Error("server still answers after stop")
	}
}
