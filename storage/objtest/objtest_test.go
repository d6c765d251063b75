package objtest

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

func TestObjectStoreSemantics(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := New(func() time.Time { return now })
	a := s.Archive(true)
	if err := afero.WriteFile(a.Fs, "2024/1/data.csv", []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := a.Fs.Stat("2024"); err != nil || !fi.IsDir() {
		t.Fatalf("implicit folder 2024: %v %v", fi, err)
	}
	var got []storage.Entry
	if err := a.Caps.List(context.Background(), "", func(e storage.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "2024/1/data.csv" || got[0].Hash != a.Caps.ContentHash([]byte("abc")) || got[0].Size != 3 || !got[0].ModTime.Equal(now) {
		t.Fatalf("listing %+v", got)
	}
	if got[0].Hash != "900150983cd24fb0d6963f7d28e17f72" {
		t.Fatalf("hash %s is not the MD5 of abc", got[0].Hash)
	}
	if _, err := a.Fs.OpenFile("2024/1/data.csv", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, iofs.ErrExist) {
		t.Fatalf("exclusive create of an existing object: %v", err)
	}
	until := now.Add(48 * time.Hour)
	if err := a.Caps.ObjectLock.Retain(context.Background(), "2024/1/data.csv", until); err != nil {
		t.Fatal(err)
	}
	if err := a.Caps.ObjectLock.Retain(context.Background(), "2024/1/data.csv", until.Add(-time.Hour)); !errors.Is(err, iofs.ErrPermission) {
		t.Fatalf("shortening a retention: %v", err)
	}
	// Versioned, as S3 with Object Lock is: an overwrite is a new version,
	// a plain delete a delete marker; both succeed and the retained
	// version stays, hidden, readable by its version ID.
	if err := afero.WriteFile(a.Fs, "2024/1/data.csv", []byte("x"), 0o644); err != nil {
		t.Fatalf("overwrite of a retained object: %v", err)
	}
	if u, err := a.Caps.ObjectLock.RetainedUntil(context.Background(), "2024/1/data.csv"); err != nil || !u.IsZero() {
		t.Fatalf("RetainedUntil of the new version = %v, %v; want none", u, err)
	}
	if err := a.Fs.Remove("2024/1/data.csv"); err != nil {
		t.Fatalf("plain delete of a name with a retained version: %v", err)
	}
	if _, err := a.Fs.Stat("2024/1/data.csv"); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("Stat after delete: %v", err)
	}
	if _, err := a.Caps.ObjectLock.RetainedUntil(context.Background(), "2024/1/data.csv"); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("RetainedUntil behind a delete marker: %v", err)
	}
	if err := a.Fs.Remove("2024/fehlt.csv"); err != nil {
		t.Fatalf("remove of a missing key: %v", err)
	}
	if got := s.Hidden(""); len(got) != 1 || got[0] != "2024/1/data.csv" {
		t.Fatalf("Hidden = %v", got)
	}
	vs := s.Versions("2024/1/data.csv")
	if len(vs) != 3 || string(vs[0].Data) != "abc" || !vs[0].RetainUntil.Equal(until) || string(vs[1].Data) != "x" || !vs[2].DeleteMarker || !vs[2].Current {
		t.Fatalf("versions %+v", vs)
	}
	if err := s.DeleteVersion("2024/1/data.csv", vs[0].ID); !errors.Is(err, iofs.ErrPermission) {
		t.Fatalf("deleting the retained version: %v", err)
	}
	if err := s.DeleteVersion("2024/1/data.csv", vs[2].ID); err != nil {
		t.Fatalf("deleting the delete marker: %v", err)
	}
	if b, err := afero.ReadFile(a.Fs, "2024/1/data.csv"); err != nil || string(b) != "x" {
		t.Fatalf("after removing the delete marker: %q, %v; want the newest version back", b, err)
	}
	if err := s.DeleteVersion("2024/1/data.csv", vs[1].ID); err != nil {
		t.Fatal(err)
	}
	if b, err := afero.ReadFile(a.Fs, "2024/1/data.csv"); err != nil || string(b) != "abc" {
		t.Fatalf("after deleting the newest version: %q, %v; want the retained one current", b, err)
	}
	if u, err := a.Caps.ObjectLock.RetainedUntil(context.Background(), "2024/1/data.csv"); err != nil || !u.Equal(until) {
		t.Fatalf("RetainedUntil = %v, %v", u, err)
	}
	now = until
	if len(s.Hidden("")) != 0 {
		t.Fatalf("hidden after the retention: %v", s.Hidden(""))
	}
	if err := s.DeleteVersion("2024/1/data.csv", vs[0].ID); err != nil {
		t.Fatalf("deleting the version after its retention: %v", err)
	}
	if _, err := a.Fs.Stat("2024"); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("emptied folder still there: %v", err)
	}
	c := s.Counts()
	// Puts: two writes; the refused exclusive create is a HEAD.
	if c.Lists != 1 || c.Puts != 2 || c.Gets != 2 || c.Retains != 2 || c.Deletes != 6 {
		t.Fatalf("counts %+v", c)
	}
	if s.Archive(false).Caps.ObjectLock != nil {
		t.Fatal("a bucket without lock declares ObjectLock")
	}
}
