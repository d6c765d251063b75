package s3_test

import (
	"context"
	"errors"
	iofs "io/fs"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	s3backend "werkstatt-backup/backends/s3"
	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/storage"
)

// TestRequestFloor: what each operation of the handle costs on S3,
// counted at a proxy: a plain or conditional write is one PUT (no HEAD,
// no folder check, no empty object first), a read with its tag one GET,
// removing a file one DELETE on a plain bucket; on a versioned bucket
// removing a file lists its versions and deletes them (a delete marker
// would make a later If-None-Match create fail there).
func TestRequestFloor(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	p := newProxy(t, srv.Addr())
	for _, tc := range []struct {
		bucket string
		remove []string
	}{
		{s3test.Bucket, []string{"DELETE"}},
		{s3test.LockBucket, []string{"GET ?versions", "POST ?delete"}},
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			a := open(t, ctx, location(t, srv, p.addr(), tc.bucket, "boden"), srv.Options(true, 0))
			step := func(what string, want []string, fn func() error) {
				t.Helper()
				stop := p.record()
				err := fn()
				got := stop()
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: requests %q, want %q", what, got, want)
				}
			}
			step("WriteFile", []string{"PUT"}, func() error {
				_, err := a.WriteFile(ctx, "2024/000001/data.csv", []byte("a;b\n"), storage.WriteOpts{Sync: true})
				return err
			})
			step("WriteFile IfAbsent", []string{"PUT If-None-Match"}, func() error {
				_, err := a.WriteFile(ctx, ".backup.lock", []byte("eins"), storage.WriteOpts{Cond: storage.IfAbsent()})
				return err
			})
			var tag storage.Tag
			step("ReadFileTag", []string{"GET"}, func() (err error) {
				_, tag, err = a.ReadFileTag(ctx, ".backup.lock", 1<<20)
				return err
			})
			step("WriteFile IfMatch", []string{"PUT If-Match"}, func() error {
				_, err := a.WriteFile(ctx, ".backup.lock", []byte("zwei"), storage.WriteOpts{Cond: storage.IfMatch(tag)})
				return err
			})
			step("RemoveFile", tc.remove, func() error { return a.RemoveFile(ctx, "2024/000001/data.csv") })
			if _, err := a.Stat(ctx, "2024/000001/data.csv"); !errors.Is(err, iofs.ErrNotExist) {
				t.Errorf("after RemoveFile: Stat = %v, want fs.ErrNotExist", err)
			}
		})
	}
}

// TestCondPutAnswerLost: when the answer to a conditional PUT is lost, it
// is not retried (a retry would fail its own condition and report our
// own object as someone else's): the error says the server was not
// reachable, not that the name exists or changed.
func TestCondPutAnswerLost(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	p := newProxy(t, srv.Addr())
	a := open(t, ctx, location(t, srv, p.addr(), s3test.Bucket, "verloren"), srv.Options(true, 0))
	var lost atomic.Int64
	p.loseAnswer = func(r *http.Request) bool {
		return r.Method == http.MethodPut && (r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Match") != "") && lost.Add(1) == 1
	}
	_, err := a.WriteFile(ctx, ".backup.lock", []byte("eins"), storage.WriteOpts{Cond: storage.IfAbsent()})
	if errors.Is(err, iofs.ErrExist) || !errors.Is(err, s3backend.ErrUnreachable) {
		t.Fatalf("IfAbsent whose answer was lost: %v, want ErrUnreachable, not fs.ErrExist", err)
	}
	if n := lost.Load(); n != 1 {
		t.Errorf("%d conditional PUTs sent, want 1 (no retry)", n)
	}
	data, tag, err := a.ReadFileTag(ctx, ".backup.lock", 1<<20)
	if err != nil || string(data) != "eins" {
		t.Fatalf("the lost PUT was done on the server: %q, %v", data, err)
	}
	lost.Store(0)
	_, err = a.WriteFile(ctx, ".backup.lock", []byte("zwei"), storage.WriteOpts{Cond: storage.IfMatch(tag)})
	if errors.Is(err, storage.ErrChanged) || !errors.Is(err, s3backend.ErrUnreachable) {
		t.Fatalf("IfMatch whose answer was lost: %v, want ErrUnreachable, not ErrChanged", err)
	}
	if n := lost.Load(); n != 1 {
		t.Errorf("%d conditional PUTs sent, want 1 (no retry)", n)
	}
}
