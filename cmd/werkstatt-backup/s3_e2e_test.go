package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/sample"
)

// The S3 end-to-end tests run the built binary against a versitygw the
// test starts itself (backends/s3/s3test): the secret key only in
// ARCHIV_S3_SECRET_KEY, plain HTTP through ARCHIV_S3_INSECURE. versitygw's
// posix backend keeps each object as a file below Dir/<bucket>/, which
// the tests read to check what the server holds.

type s3Site struct {
	srv    *s3test.Server
	bucket string
	prefix string
	url    string
	env    []string
}

func newS3Site(t *testing.T, bucket, prefix string) s3Site {
	srv := s3test.Start(t)
	return s3Site{srv: srv, bucket: bucket, prefix: prefix, url: srv.URL(bucket, prefix),
		env: []string{"ARCHIV_S3_SECRET_KEY=" + srv.SecretKey, "ARCHIV_S3_INSECURE=1"}}
}

func (s s3Site) dir() string { return filepath.Join(s.srv.Dir, s.bucket, s.prefix) }

func (s s3Site) noSecret(t *testing.T, what string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		if strings.Contains(text, s.srv.SecretKey) {
			t.Fatalf("%s shows the S3 secret key:\n%s", what, text)
		}
	}
}

// TestS3CycleThroughTheBinary: export, an unchanged export, verify,
// restore, history and restore --at, migrate, unlock on an Object-Lock
// bucket; the restored table is the original; the history the run wrote
// cannot be deleted with the backup's own credentials.
func TestS3CycleThroughTheBinary(t *testing.T) {
	t.Parallel()
	site := newS3Site(t, s3test.LockBucket, "filiale-1")
	dir := workshop(t, 60)
	db := "./test_archiv/werkstatt.db"
	run := func(code int, args ...string) result {
		t.Helper()
		r := wbEnv(t, dir, site.env, args...).expect(t, code)
		site.noSecret(t, strings.Join(args, " "), r.stdout, r.stderr)
		return r
	}

	r := run(0, "export", "--archiv", site.url, "--db", db)
	if !strings.Contains(r.stdout, "Export abgeschlossen: 60 erfolgreich, 0 Fehler") {
		t.Fatalf("export: %s", r.stdout)
	}
	// Locally the same export, byte for byte (exported_at aside).
	if err := os.Mkdir(filepath.Join(dir, "lokal"), 0o755); err != nil {
		t.Fatal(err)
	}
	wb(t, dir, "export", "--archiv", "./lokal", "--db", db).expect(t, 0)
	sameOrders(t, site.dir(), filepath.Join(dir, "lokal"))

	r = run(0, "export", "--json", "--archiv", site.url, "--db", db)
	if !strings.Contains(r.stdout, `"unchanged": 60`) {
		t.Fatalf("second export: %s", r.stdout)
	}
	r = run(0, "verify", "--archiv", site.url, "--db", db)
	if !strings.Contains(r.stdout, "Verify abgeschlossen: 60 gültig, 0 Fehler") || !strings.Contains(r.stdout, "Historie unveränderbar (Object Lock) bis ") {
		t.Fatalf("verify: %s", r.stdout)
	}
	run(0, "restore", "--db", "./neu.db", "--archiv", site.url)
	if got, want := crashTableDigest(t, filepath.Join(dir, "neu.db")), crashTableDigest(t, filepath.Join(dir, db)); got != want {
		t.Fatal("restored table differs from the original")
	}
	r = run(0, "history", "--archiv", site.url)
	if !strings.Contains(r.stdout, "\n2 ") {
		t.Fatalf("history lacks generation 2:\n%s", r.stdout)
	}
	run(0, "restore", "--at", time.Now().Format(time.RFC3339), "--db", "./alt.db", "--archiv", site.url)
	if crashTableDigest(t, filepath.Join(dir, "alt.db")) != crashTableDigest(t, filepath.Join(dir, db)) {
		t.Fatal("restore --at 1 differs from the original")
	}
	run(0, "migrate", "--archiv", site.url)
	// forget keeps what Object Lock still retains, and says so.
	r = run(0, "forget", "--keep-last", "1", "--archiv", site.url)
	if !strings.Contains(r.stdout, "Object Lock: ") {
		t.Fatalf("forget on a locked history: %s", r.stdout)
	}
	r = run(0, "history", "--archiv", site.url)
	if !strings.Contains(r.stdout, "\n1 ") {
		t.Fatalf("forget removed a locked generation:\n%s", r.stdout)
	}
	// --all-sites: a second branch in its own prefix of the same bucket.
	cfg := fmt.Sprintf(`{"s3_insecure": true, "sites": [
		{"name": "filiale-1", "db": %q, "archiv": %q},
		{"name": "filiale-2", "db": %q, "archiv": %q}]}`,
		db, site.url, db, site.srv.URL(site.bucket, "filiale-2"))
	if err := os.WriteFile(filepath.Join(dir, ".archiv_config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(0, "export", "--all-sites")
	if !strings.Contains(r.stdout, "[filiale-2] Export abgeschlossen: 60 erfolgreich") || !strings.Contains(r.stdout, "[filiale-1] ") {
		t.Fatalf("export --all-sites: %s", r.stdout)
	}
	run(0, "verify", "--all-sites")
	if err := os.Remove(filepath.Join(dir, ".archiv_config.json")); err != nil {
		t.Fatal(err)
	}
	r = run(0, "unlock", "--archiv", site.url)
	if !strings.Contains(r.stdout, "Kein Lock") {
		t.Fatalf("unlock: %s", r.stdout)
	}

	// Immutable: with the backup's own key no version of the history can
	// be deleted.
	c := site.srv.Client()
	ctx := context.Background()
	n := 0
	for o := range c.ListObjects(ctx, site.bucket, minio.ListObjectsOptions{Prefix: site.prefix + "/_historie/", Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		n++
		err := c.RemoveObject(ctx, site.bucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID})
		if err == nil {
			t.Fatalf("version %s of %s deleted with the backup's own key", o.VersionID, o.Key)
		}
	}
	if n == 0 {
		t.Fatal("no history objects on the bucket")
	}
	run(0, "verify", "--archiv", site.url, "--db", db)
}

// sameOrders: every data.csv and meta.json below got equals the one
// below want (exported_at blanked).
func sameOrders(t *testing.T, got, want string) {
	t.Helper()
	g, w := archiveFiles(t, got), archiveFiles(t, want)
	n := 0
	for name, data := range w {
		if strings.HasPrefix(name, "_historie") || (!strings.HasSuffix(name, "data.csv") && !strings.HasSuffix(name, "meta.json")) {
			continue
		}
		n++
		if string(g[name]) != string(data) {
			t.Errorf("%s differs:\n%s\nwant:\n%s", name, g[name], data)
		}
	}
	if n == 0 {
		t.Fatal("nothing compared")
	}
}

// TestS3Errors: a wrong secret key, a missing bucket and a closed port are
// one clear line and exit 1, without waiting for the lock; the secret is
// in no message.
func TestS3Errors(t *testing.T) {
	t.Parallel()
	site := newS3Site(t, s3test.Bucket, "x")
	dir := workshop(t, 3)
	wrong := []string{"ARCHIV_S3_SECRET_KEY=falsch-" + site.srv.SecretKey[:8], "ARCHIV_S3_INSECURE=1"}
	cases := []struct {
		name, url string
		env       []string
		want      string
	}{
		{"wrong secret", site.url, wrong, "S3-Anmeldung"},
		{"missing bucket", site.srv.URL("gibtsnicht", "x"), site.env, `S3-Bucket "gibtsnicht"`},
		{"closed port", fmt.Sprintf("s3://%s@127.0.0.1:%d/archiv/x", site.srv.AccessKey, freeLoopbackPort(t)), site.env, "nicht erreichbar"},
	}
	for _, tc := range cases {
		for _, cmd := range []string{"export", "verify"} {
			r := wbEnv(t, dir, tc.env, cmd, "--archiv", tc.url, "--db", "./test_archiv/werkstatt.db", "--lock-timeout", "5m").expect(t, 1)
			line := oneLineStderr(t, r)
			if !strings.Contains(line, tc.want) {
				t.Errorf("%s %s: %q, want %q", tc.name, cmd, line, tc.want)
			}
			site.noSecret(t, tc.name, r.stdout, r.stderr)
		}
	}
	r := wbEnv(t, dir, []string{"ARCHIV_S3_INSECURE=1"}, "verify", "--archiv", site.url).expect(t, 2)
	if !strings.Contains(r.stderr, "s3_secret_key") {
		t.Errorf("no secret key: %s", r.stderr)
	}
}

// TestS3ServerStoppedMidExport: the server dies while export writes; the
// run ends with exit 1 naming S3, nothing on the server is torn, and once
// it is back the next export completes and verify agrees.
func TestS3ServerStoppedMidExport(t *testing.T) {
	t.Parallel()
	site := newS3Site(t, s3test.Bucket, "halt")
	const orders = 400
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "test_archiv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sample.CreateDB(context.Background(), filepath.Join(dir, "test_archiv", "werkstatt.db"), sample.Rows(orders, 7)); err != nil {
		t.Fatal(err)
	}
	export := []string{"export", "--archiv", site.url, "--db", "./test_archiv/werkstatt.db", "--workers", "4"}
	wait := startWB(t, dir, site.env, export...)
	deadline := time.Now().Add(time.Minute) // a safety net, not a timing assumption
	for {
		metas, _ := filepath.Glob(filepath.Join(site.dir(), "*", "*", "meta.json"))
		if len(metas) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("export wrote nothing")
		}
		time.Sleep(2 * time.Millisecond)
	}
	site.srv.Stop()
	r := wait()
	switch r.code {
	case 0:
		t.Logf("export finished before the server stopped: %s", r.stdout)
	case 1:
		if !strings.Contains(r.stdout+r.stderr, "S3-") {
			t.Errorf("failure without an S3 reason:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
		}
	default:
		t.Fatalf("exit code %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	site.noSecret(t, "interrupted export", r.stdout, r.stderr)
	checkNotTorn(t, site.dir())
	site.srv.Restart()
	r = wbEnv(t, dir, site.env, export...).expect(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("Export abgeschlossen: %d erfolgreich, 0 Fehler", orders)) {
		t.Fatalf("export after the restart: %s", r.stdout)
	}
	wbEnv(t, dir, site.env, "verify", "--archiv", site.url, "--db", "./test_archiv/werkstatt.db").expect(t, 0)
}

// TestS3KilledExportConverges: export killed (SIGKILL) at random moments,
// rows changing between the runs; every next export takes the dead run's
// lock over at once (same machine, dead pid), and in the end verify
// agrees with the database and restore gives it back.
func TestS3KilledExportConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test")
	}
	t.Parallel()
	site := newS3Site(t, s3test.LockBucket, "kill")
	const orders = 150
	dir := workshop(t, orders)
	env := append(site.env, "ARCHIV_MASS_CHANGE=0")
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	export := []string{"export", "--db", db, "--archiv", site.url, "--workers", "4", "--lock-timeout", "5s"}

	start := time.Now()
	wbEnv(t, dir, env, "export", "--db", db, "--archiv", site.srv.URL(s3test.Bucket, "probe"), "--workers", "4").expect(t, 0)
	budget := time.Since(start)

	pool := sample.Rows(orders+60, 42)[orders:]
	for _, r := range pool {
		r[9] = strings.Replace(r[9], "archiv/", "test_archiv/", 1)
	}
	rng := rand.New(rand.NewPCG(7, 1))
	kills := 0
	const rounds = 24
	for round := 0; round < rounds; round++ {
		if round > 0 {
			pool = crashChangeRows(t, db, round, 1+rng.IntN(40), pool)
		}
		killed, took := crashKillAfter(t, crashSpawnEnv(t, dir, env, export...), time.Duration(rng.Float64()*float64(budget)), nil)
		if killed {
			crashLockAfterKill(t, round, func(args ...string) result { return wbEnv(t, dir, env, args...) }, export)
			kills++
		} else if took < budget {
			budget = took
		}
	}
	t.Logf("%d of %d runs killed", kills, rounds)
	if kills == 0 {
		t.Fatal("no run was killed: the test proved nothing")
	}
	r := wbEnv(t, dir, env, export...)
	if r.code != 0 {
		log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
		t.Logf("log:\n%s", log[max(0, len(log)-4000):])
	}
	r.expect(t, 0)
	site.noSecret(t, "export", r.stdout, r.stderr)
	checkNotTorn(t, site.dir())
	wbEnv(t, dir, env, "verify", "--archiv", site.url, "--db", db).expect(t, 0)
	wbEnv(t, dir, env, "restore", "--archiv", site.url, "--db", "./zurück.db").expect(t, 0)
	if crashTableDigest(t, filepath.Join(dir, "zurück.db")) != crashTableDigest(t, db) {
		t.Fatal("restored table differs from the database")
	}
}
