package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	iofs "io/fs"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
)

// TestObjectLockCaps: ObjectLock is offered exactly when the bucket has
// Object Lock enabled.
func TestObjectLockCaps(t *testing.T) {
	srv := s3test.Start(t)
	if srv.Open(s3test.Bucket, "").Caps.ObjectLock != nil {
		t.Error("bucket without Object Lock: Caps.ObjectLock set")
	}
	if srv.Open(s3test.LockBucket, "").Caps.ObjectLock == nil {
		t.Error("bucket with Object Lock: Caps.ObjectLock nil")
	}
}

// TestImmutableHistory: a retained history object cannot be destroyed
// with the backup's own credentials: deleting its version is refused, a
// shorter retention is refused, an overwrite or a plain DELETE only adds
// a newer version or a delete marker, and the retained bytes stay
// readable by version ID.
func TestImmutableHistory(t *testing.T) {
	srv := s3test.Start(t)
	a := srv.Open(s3test.LockBucket, "werkstatt")
	ol := a.Caps.ObjectLock
	const name = "history/2024-07-29T103015Z.json"
	const content = `{"generation":1}`
	if err := a.Caps.WriteFile(context.Background(), name, []byte(content), 0o644, true); err != nil {
		t.Fatal(err)
	}
	if until, err := ol.RetainedUntil(context.Background(), name); err != nil || !until.IsZero() {
		t.Errorf("RetainedUntil before Retain = %v, %v; want the zero time", until, err)
	}
	until := time.Now().Add(time.Hour).Truncate(time.Second).UTC()
	if err := ol.Retain(context.Background(), name, until); err != nil {
		t.Fatalf("Retain: %v", err)
	}
	got, err := ol.RetainedUntil(context.Background(), name)
	if err != nil || !got.Equal(until) {
		t.Errorf("RetainedUntil = %v, %v; want %v", got, err, until)
	}
	if err := ol.Retain(context.Background(), name, until.Add(-time.Minute)); !errors.Is(err, iofs.ErrPermission) {
		t.Errorf("shortening the retention: %v, want a refusal (ErrPermission)", err)
	}
	if err := ol.Retain(context.Background(), name, until.Add(time.Hour)); err != nil {
		t.Errorf("lengthening the retention: %v", err)
	}
	if _, err := ol.RetainedUntil(context.Background(), "history/fehlt.json"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("RetainedUntil of a missing file: %v, want ErrNotExist", err)
	}

	// The attacker holds the backup's own credentials.
	c := srv.Client()
	ctx := context.Background()
	key := "werkstatt/" + name
	info, err := c.StatObject(ctx, s3test.LockBucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	version := info.VersionID
	err = c.RemoveObject(ctx, s3test.LockBucket, key, minio.RemoveObjectOptions{VersionID: version})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Errorf("deleting the retained version: %v, want AccessDenied", err)
	}
	err = c.RemoveObject(ctx, s3test.LockBucket, key, minio.RemoveObjectOptions{VersionID: version, GovernanceBypass: true})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Errorf("deleting the retained version with governance bypass: %v, want AccessDenied", err)
	}
	// Through the archive: overwrite, then delete. Both "succeed" ...
	if err := a.Caps.WriteFile(context.Background(), name, []byte("kaputt"), 0o644, true); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if err := a.Fs.Remove(name); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := a.Fs.Stat(name); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Stat after delete: %v, want ErrNotExist (hidden by a delete marker)", err)
	}
	// ... but the retained version is still there, byte for byte.
	obj, err := c.GetObject(ctx, s3test.LockBucket, key, minio.GetObjectOptions{VersionID: version})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil || !bytes.Equal(data, []byte(content)) {
		t.Errorf("retained version after overwrite and delete = %q, %v; want %q", data, err, content)
	}
}
