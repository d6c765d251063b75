package s3_test

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/backup"
	"werkstatt-backup/history"
)

// The history on a bucket with Object Lock, against a real server: every
// history object gets a compliance retention of at least history_lock; a
// plain DELETE with the backup's own credentials only adds a delete
// marker (the version stays, deleting it is refused, removing the marker
// brings it back); forget skips what is retained (by the store's clock,
// also when the client's runs ahead), says so and hides nothing; verify names a file locked too short (one set by hand);
// restore --at rebuilds an older generation from the history.
func TestEngineHistoryOnObjectLock(t *testing.T) {
	ctx := t.Context()
	const period = 2 * 24 * time.Hour
	f := newS3Fixture(t, nil, s3test.LockBucket, "werkstatt", 120)
	f.e.HistoryLock = period
	first := rows(t, f.e.DBPath)
	if _, err := f.e.Export(ctx, backup.ExportOptions{}); err != nil {
		t.Fatalf("export: %v\n%s", err, f.log)
	}
	f.clearLock(t)
	// S3 keeps an object's time to the second: the second generation
	// must get a later one than the first for restore --at to tell them
	// apart.
	g1, err := history.Open(f.a).List(ctx)
	if err != nil || len(g1) != 1 {
		t.Fatalf("%d generations, %v", len(g1), err)
	}
	storePassed(t, f, g1[0].ArchiveTime)
	f.exec(t, "UPDATE auftraege SET kunde_name = 'Zweite Fassung' WHERE record_id IN (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 3)")
	if _, err := f.e.Export(ctx, backup.ExportOptions{}); err != nil {
		t.Fatalf("second export: %v\n%s", err, f.log)
	}
	f.clearLock(t)
	gens, err := history.Open(f.a).List(ctx)
	if err != nil || len(gens) != 2 {
		t.Fatalf("%d generations, %v", len(gens), err)
	}

	// Every history object is retained in compliance mode for the period.
	c := f.srv.Client()
	prefix := f.key(backup.HistoryDir) + "/"
	var keys []string
	for o := range c.ListObjects(ctx, f.bkt, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
		info, err := c.StatObject(ctx, f.bkt, o.Key, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		mode := info.Metadata.Get("X-Amz-Object-Lock-Mode")
		until, err := time.Parse(time.RFC3339, info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"))
		// The generation file is copied to its name after its time was
		// taken: allow the second that may take.
		if err != nil || mode != "COMPLIANCE" || until.Before(info.LastModified.Add(period-2*time.Second)) {
			t.Fatalf("%s: mode %q, retained until %v (%v), stored %v; want COMPLIANCE for %v", o.Key, mode, until, err, info.LastModified, period)
		}
	}
	if len(keys) != 4 { // two packs, two generations
		t.Fatalf("history objects %v, want 2 packs and 2 generations", keys)
	}

	// The backup's own credentials: a plain DELETE "succeeds" …
	head := f.key(gens[1].File)
	orig := getVersion(t, c, f.bkt, head, "")
	if err := c.RemoveObject(ctx, f.bkt, head, minio.RemoveObjectOptions{}); err != nil {
		t.Fatalf("plain delete: %v", err)
	}
	if _, err := c.StatObject(ctx, f.bkt, head, minio.StatObjectOptions{}); minio.ToErrorResponse(err).StatusCode != 404 {
		t.Fatalf("after the delete: %v, want it hidden", err)
	}
	// … but the version stays, and deleting it is refused.
	var kept, marker string
	for o := range c.ListObjects(ctx, f.bkt, minio.ListObjectsOptions{Prefix: head, WithVersions: true}) {
		switch {
		case o.Err != nil:
			t.Fatal(o.Err)
		case o.IsDeleteMarker:
			marker = o.VersionID
		case kept == "":
			// the newest version (a create-if-absent without WriteCond
			// stores an empty version first)
			kept = o.VersionID
		}
	}
	if got := getVersion(t, c, f.bkt, head, kept); !bytes.Equal(got, orig) {
		t.Fatal("the retained version changed")
	}
	err = c.RemoveObject(ctx, f.bkt, head, minio.RemoveObjectOptions{VersionID: kept})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("deleting the retained version: %v, want AccessDenied", err)
	}
	// Recovery: removing the delete marker brings the generation back.
	if err := c.RemoveObject(ctx, f.bkt, head, minio.RemoveObjectOptions{VersionID: marker}); err != nil {
		t.Fatalf("removing the delete marker: %v", err)
	}
	if _, err := history.Open(f.a).Load(ctx, gens[1].Seq); err != nil {
		t.Fatalf("generation after removing the delete marker: %v", err)
	}

	// forget, on a machine whose clock runs 30 days ahead: by the
	// store's clock everything is still retained; it says so and hides
	// nothing (the server would accept the DELETEs and hide the versions).
	f.log.Reset()
	ahead := *f.e
	ahead.Now = func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }
	r, err := ahead.Forget(ctx, backup.ForgetOptions{Policy: history.Retention{Last: 1}})
	f.clearLock(t)
	if err != nil || len(r.Forget.Removed) != 0 || len(r.Forget.Retained) == 0 {
		t.Fatalf("forget: %v, removed %v, retained %v", err, r.Forget.Removed, r.Forget.Retained)
	}
	if !strings.Contains(f.log.String(), "Object Lock: ") || !strings.Contains(f.log.String(), r.Forget.Retained[0]) {
		t.Fatalf("forget does not say what stays locked:\n%s", f.log)
	}
	if hidden := hiddenHistory(t, c, f.bkt, prefix); len(hidden) > 0 {
		t.Fatalf("forget left delete markers or old versions of history files: %v", hidden)
	}

	// A generation written without a lock, then a short one set by hand:
	// verify names it.
	plain := *f.e
	noLock := *f.e.Arch
	noLock.Caps.ObjectLock = nil
	plain.Arch = &noLock
	f.exec(t, "UPDATE auftraege SET kunde_name = 'Dritte Fassung' WHERE record_id = (SELECT max(record_id) FROM auftraege)")
	if _, err := plain.Export(ctx, backup.ExportOptions{}); err != nil {
		t.Fatalf("export without lock: %v", err)
	}
	f.clearLock(t)
	gens, err = history.Open(f.a).List(ctx)
	if err != nil || len(gens) != 3 {
		t.Fatalf("%d generations, %v", len(gens), err)
	}
	third := gens[2].File
	short := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	mode := minio.Compliance
	if err := c.PutObjectRetention(ctx, f.bkt, f.key(third), minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &short}); err != nil {
		t.Fatalf("setting a short retention by hand: %v", err)
	}
	v, err := f.e.Verify(ctx, backup.VerifyOptions{})
	f.clearLock(t)
	if err != nil {
		t.Fatalf("verify: %v\n%v", err, v.Problems)
	}
	if !slices.ContainsFunc(v.Problems, func(p backup.Problem) bool {
		return p.Level == backup.LevelWarning && p.Path == third && strings.Contains(p.Message, "Object Lock kürzer als konfiguriert") &&
			strings.Contains(p.Message, "gesperrt bis "+short.Local().Format(time.DateTime))
	}) {
		t.Fatalf("verify does not name %s's short lock: %v", third, v.Problems)
	}

	// restore --at the first generation, from the history alone.
	restoreInto(t, f, "damals.db", backup.RestoreOptions{At: gens[0].ArchiveTime}, first)
}

// storePassed waits until the store's clock is past t: it writes a probe
// object until the time the store gives it is later (polling, with a
// minute as a safety net only).
func storePassed(t *testing.T, f *s3Fixture, t0 time.Time) {
	t.Helper()
	c := f.srv.Client()
	probe := f.key("uhr-probe")
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := c.PutObject(t.Context(), f.bkt, probe, bytes.NewReader([]byte("x")), 1, minio.PutObjectOptions{SendContentMd5: true}); err != nil {
			t.Fatal(err)
		}
		info, err := c.StatObject(t.Context(), f.bkt, probe, minio.StatObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if info.LastModified.After(t0) {
			if err := c.RemoveObject(t.Context(), f.bkt, probe, minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store's clock stays at %v, not after %v", info.LastModified, t0)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// getVersion reads key (a version of it, if id is set).
func getVersion(t *testing.T, c *minio.Client, bucket, key, id string) []byte {
	t.Helper()
	obj, err := c.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{VersionID: id})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// hiddenHistory lists the history keys below prefix with a delete marker
// or a noncurrent version; temp names are the history's own business.
func hiddenHistory(t *testing.T, c *minio.Client, bucket, prefix string) []string {
	t.Helper()
	var out []string
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if strings.HasSuffix(o.Key, ".tmp") {
			continue
		}
		if o.IsDeleteMarker || !o.IsLatest {
			out = append(out, o.Key+" "+o.VersionID)
		}
	}
	return out
}
