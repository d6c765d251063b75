package s3_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
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
		if err := a.Caps.WriteFile(context.Background(), ".backup.lock", []byte("refreshed"), 0o644, true); err != nil {
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

// TestRemoveFolderOnVersionedBucket: on a versioned bucket Remove learns
// from the listing of a name's versions whether the name is also a
// folder; a folder holding objects is still refused (ENOTEMPTY, nothing
// deleted), a folder marker alone is not "holding objects", and a file
// beside a folder whose name starts the same ("meta.json" next to
// "meta.json.alt/") is removed without touching the other.
func TestRemoveFolderOnVersionedBucket(t *testing.T) {
	srv := s3test.Start(t)
	a := srv.Open(s3test.LockBucket, "rm")
	put := func(name string) {
		t.Helper()
		if err := a.Caps.WriteFile(context.Background(), name, []byte(name), 0o644, true); err != nil {
			t.Fatal(err)
		}
	}
	put("2024/000001/data.csv")
	put("2024/000001/meta.json")
	put("2024/000001/meta.json.alt/x")

	if err := a.Fs.Remove("2024/000001"); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("Remove of a folder holding files = %v, want ENOTEMPTY", err)
	}
	if _, err := a.Fs.Stat("2024/000001/data.csv"); err != nil {
		t.Fatalf("the refused Remove deleted data.csv: %v", err)
	}
	if err := a.Fs.Remove("2024/000001/meta.json"); err != nil {
		t.Fatalf("Remove(meta.json): %v", err)
	}
	if _, err := a.Fs.Stat("2024/000001/meta.json"); !os.IsNotExist(err) {
		t.Fatalf("meta.json after Remove: %v", err)
	}
	if _, err := a.Fs.Stat("2024/000001/meta.json.alt/x"); err != nil {
		t.Fatalf("Remove(meta.json) touched meta.json.alt/x: %v", err)
	}

	// A folder marker another tool left ("leer/") does not make the folder
	// non-empty.
	if _, err := srv.Client().PutObject(context.Background(), s3test.LockBucket, "rm/leer/", bytes.NewReader(nil), 0, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Fs.Remove("leer"); err != nil {
		t.Fatalf("Remove of a folder with only its marker: %v", err)
	}
}

// TestRemoveDeletesTheCurrentVersionLast: on a versioned bucket Remove
// deletes a name's older versions first and its current version last, in
// a request of its own. versitygw 1.8.0, asked to delete the current
// version first, moves the next older one back into place, and a create
// with If-None-Match: * that came in between succeeded too: two runs got
// the archive lock (conformance LockUnderLoad on the Object Lock bucket).
func TestRemoveDeletesTheCurrentVersionLast(t *testing.T) {
	srv := s3test.Start(t)
	rec := newRecorder(t, srv.Addr(), s3test.LockBucket)
	a := open(t, context.Background(), location(t, srv, rec.srv.Listener.Addr().String(), s3test.LockBucket, "order"), srv.Options(true, 0))
	for _, v := range []string{"eins", "zwei", "drei"} { // three versions
		if err := a.Caps.WriteFile(context.Background(), ".backup.lock", []byte(v), 0o644, true); err != nil {
			t.Fatal(err)
		}
	}
	var current string
	var older []string
	for o := range srv.Client().ListObjects(context.Background(), s3test.LockBucket,
		minio.ListObjectsOptions{Prefix: "order/.backup.lock", WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.IsLatest {
			current = "order/.backup.lock@" + o.VersionID
		} else {
			older = append(older, "order/.backup.lock@"+o.VersionID)
		}
	}
	if current == "" || len(older) != 2 {
		t.Fatalf("versions: current %q, older %v", current, older)
	}
	rec.take()
	if err := a.Fs.Remove(".backup.lock"); err != nil {
		t.Fatal(err)
	}
	var batches []string
	for _, r := range rec.take() {
		if strings.HasPrefix(r, "DELETE") {
			batches = append(batches, r)
		}
	}
	slices.Sort(older)
	if len(batches) != 2 {
		t.Fatalf("Remove sent %d delete requests %v, want 2: the older versions, then the current one", len(batches), batches)
	}
	first := strings.Fields(strings.TrimPrefix(batches[0], "DELETE-BATCH"))
	slices.Sort(first)
	if !slices.Equal(first, older) || batches[1] != "DELETE-BATCH "+current {
		t.Fatalf("delete requests %v, want first %v, then %s alone", batches, older, current)
	}
}
