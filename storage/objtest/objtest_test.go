package objtest

import (
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
	if err := a.Caps.List("", func(e storage.Entry) error { got = append(got, e); return nil }); err != nil {
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
	if err := a.Caps.ObjectLock.Retain("2024/1/data.csv", until); err != nil {
		t.Fatal(err)
	}
	if err := a.Caps.ObjectLock.Retain("2024/1/data.csv", until.Add(-time.Hour)); !errors.Is(err, iofs.ErrPermission) {
		t.Fatalf("shortening a retention: %v", err)
	}
	if err := a.Fs.Remove("2024/1/data.csv"); !errors.Is(err, iofs.ErrPermission) {
		t.Fatalf("remove of a retained object: %v", err)
	}
	if err := afero.WriteFile(a.Fs, "2024/1/data.csv", []byte("x"), 0o644); !errors.Is(err, iofs.ErrPermission) {
		t.Fatalf("overwrite of a retained object: %v", err)
	}
	if u, err := a.Caps.ObjectLock.RetainedUntil("2024/1/data.csv"); err != nil || !u.Equal(until) {
		t.Fatalf("RetainedUntil = %v, %v", u, err)
	}
	now = until
	if err := a.Fs.Remove("2024/1/data.csv"); err != nil {
		t.Fatalf("remove after the retention: %v", err)
	}
	if _, err := a.Fs.Stat("2024"); !errors.Is(err, iofs.ErrNotExist) {
		t.Fatalf("emptied folder still there: %v", err)
	}
	c := s.Counts()
	if c.Lists != 1 || c.Puts != 1 || c.Gets != 0 || c.Retains != 2 || c.Deletes != 2 {
		t.Fatalf("counts %+v", c)
	}
	if s.Archive(false).Caps.ObjectLock != nil {
		t.Fatal("a bucket without lock declares ObjectLock")
	}
}
