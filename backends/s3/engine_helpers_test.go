package s3_test

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/backup"
	"werkstatt-backup/lock"
	"werkstatt-backup/sample"
	"werkstatt-backup/storage"
	"werkstatt-backup/store"
)

// recorder is a proxy in front of the server that records every request
// as "METHOD key" (key relative to the bucket; a listing as "LIST
// prefix"), so a test can say which objects a run read or wrote.
type recorder struct {
	srv    *httptest.Server
	bucket string
	mu     sync.Mutex
	reqs   []string
	refuse string // a request ("PUT key") answered with 403 instead of passed on
}

func newRecorder(t testing.TB, target, bucket string) *recorder {
	t.Helper()
	u, err := url.Parse("http://" + target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{bucket: bucket}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a listing ended early cancels its request
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec.note(r) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// note records r and reports whether it is to be refused.
func (rec *recorder) note(r *http.Request) bool {
	k := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+rec.bucket), "/")
	q := r.URL.Query()
	what := r.Method + " " + k
	switch {
	case r.Method == http.MethodGet && (q.Has("list-type") || q.Has("prefix") || q.Has("delimiter")):
		what = "LIST " + q.Get("prefix")
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		what = "COPY " + k
	case q.Has("retention"):
		what = r.Method + "-RETENTION " + k
	case r.Method == http.MethodPost && q.Has("delete"):
		// A batch delete: "DELETE-BATCH key@version key@version …", in
		// the order of the request's body.
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		what = "DELETE-BATCH"
		for _, m := range batchObject.FindAllStringSubmatch(string(body), -1) {
			what += " " + m[1]
			if m[2] != "" {
				what += "@" + m[2]
			}
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.reqs = append(rec.reqs, what)
	return rec.refuse != "" && what == rec.refuse
}

// refusing makes the recorder answer the request what ("PUT key") with
// 403 Access Denied, as a stop of the run before it would; "" ends that.
func (rec *recorder) refusing(what string) {
	rec.mu.Lock()
	rec.refuse = what
	rec.mu.Unlock()
}

// batchObject matches an <Object> of a batch delete's body: its key and,
// if given, its version.
var batchObject = regexp.MustCompile(`<Object><Key>([^<]*)</Key>(?:<VersionId>([^<]*)</VersionId>)?</Object>`)

// take returns the requests recorded since the last take.
func (rec *recorder) take() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := rec.reqs
	rec.reqs = nil
	return out
}

// matching returns the requests with the given prefix ("GET ") whose key
// contains sub.
func matching(reqs []string, prefix, sub string) []string {
	var out []string
	for _, r := range reqs {
		if strings.HasPrefix(r, prefix) && strings.Contains(strings.TrimPrefix(r, prefix), sub) {
			out = append(out, r)
		}
	}
	return out
}

// s3Fixture is an engine on an S3 archive behind a recorder, with a
// sample database of n orders.
type s3Fixture struct {
	srv *s3test.Server
	rec *recorder
	a   *storage.Archive
	e   *backup.Engine
	log *bytes.Buffer
	dir string
	bkt string
	pfx string
}

// newS3Fixture starts a server (or uses srv) and opens prefix in bucket
// through a recording proxy, with a sample database of n orders.
func newS3Fixture(t *testing.T, srv *s3test.Server, bucket, prefix string, n int) *s3Fixture {
	t.Helper()
	if srv == nil {
		srv = s3test.Start(t)
	}
	rec := newRecorder(t, srv.Addr(), bucket)
	a := open(t, context.Background(), location(t, srv, rec.srv.Listener.Addr().String(), bucket, prefix), srv.Options(true, 0))
	e, buf, dir := newEngine(t, a, srv.URL(bucket, prefix), n)
	return &s3Fixture{srv: srv, rec: rec, a: a, e: e, log: buf, dir: dir, bkt: bucket, pfx: prefix}
}

// newEngine is an engine on a with a sample database of n orders in a
// new temp dir, logging to the returned buffer.
func newEngine(t testing.TB, a *storage.Archive, url string, n int) (*backup.Engine, *bytes.Buffer, string) {
	t.Helper()
	dir := t.TempDir()
	db := filepath.Join(dir, "werkstatt.db")
	if err := sample.CreateDB(context.Background(), db, sample.Rows(n, 11)); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	e := &backup.Engine{
		Arch: a, Archive: url, DBPath: db,
		Log:     slog.New(slog.NewTextHandler(&syncWriter{w: &buf}, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Workers: a.Caps.DefaultWorkers,
	}
	return e, &buf, dir
}

// syncWriter serialises the engine's log writes (workers log at once).
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// key is the object key of an archive name.
func (f *s3Fixture) key(name string) string {
	if f.pfx == "" {
		return name
	}
	return f.pfx + "/" + name
}

// exec runs SQL on the fixture's database.
func (f *s3Fixture) exec(t testing.TB, sql string) {
	t.Helper()
	db, err := store.OpenWrite(context.Background(), f.e.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}

// rows reads every row of auftraege at path, sorted.
func rows(t testing.TB, path string) [][]string {
	t.Helper()
	db, err := store.OpenRead(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out [][]string
	if _, err := db.Scan(context.Background(), backup.Table, func(_, vals []string) error {
		out = append(out, slices.Clone(vals))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b []string) int { return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00")) })
	return out
}

// clearLock checks that a run on a versioned bucket left its lock free:
// no object (the exclusive-create lock deletes it, every version, since
// versitygw 1.8.0 answers a PUT with If-None-Match: * on a key whose
// current version is a delete marker with 412, so a marker left by the
// release kept every later run from creating the lock), or a free record
// as the current version (the compare-and-swap lock never deletes), and
// never a delete marker as the current version.
func (f *s3Fixture) clearLock(t testing.TB) {
	t.Helper()
	if f.bkt != s3test.LockBucket {
		return
	}
	c := f.srv.Client()
	k := f.key(".backup.lock")
	for o := range c.ListObjects(context.Background(), f.bkt, minio.ListObjectsOptions{Prefix: k, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.Key != k || f.a.Caps.CompareAndSwap && !o.IsLatest {
			continue
		}
		if o.IsDeleteMarker || !f.a.Caps.CompareAndSwap {
			t.Fatalf("the released lock left version %s (delete marker %v): the next run could not create it", o.VersionID, o.IsDeleteMarker)
		}
		held, info, err := lock.Held(context.Background(), f.a)
		if err != nil || held {
			t.Fatalf("the lock is still held after the run: %+v, %v", info, err)
		}
	}
}
