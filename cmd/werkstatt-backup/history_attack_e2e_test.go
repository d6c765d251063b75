package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/history"
	"werkstatt-backup/lock"
)

// TestS3HistoryAttacksThenExport: on an Object-Lock bucket, an attacker
// with the backup's own key deletes every current object (delete markers)
// or PUTs garbage over every object. The next nightly export goes on
// (reading the retained versions, continuing the numbering), history
// repair makes the retained versions current, verify is clean, and every
// generation, before the attack and after, restores exactly the table
// of the database at its export.
func TestS3HistoryAttacksThenExport(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	c := srv.Client()
	ctx := context.Background()
	attacks := []struct {
		name string
		hit  func(key string) error
	}{
		{"loeschen", func(key string) error {
			return c.RemoveObject(ctx, s3test.LockBucket, key, minio.RemoveObjectOptions{})
		}},
		{"ueberschreiben", func(key string) error {
			junk := []byte("kaputt")
			_, err := c.PutObject(ctx, s3test.LockBucket, key, bytes.NewReader(junk), int64(len(junk)), minio.PutObjectOptions{})
			return err
		}},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			dir := workshop(t, 60)
			db := filepath.Join(dir, "test_archiv", "werkstatt.db")
			// The overwrite attack leaves a lock record nobody can read: a
			// run takes it over once it saw it unchanged for a lease (2s
			// here instead of minutes), within its --lock-timeout.
			env := []string{"ARCHIV_S3_SECRET_KEY=" + srv.SecretKey, "ARCHIV_S3_INSECURE=1", lock.TestLeaseEnv + "=2s"}
			run := archiveRun(t, dir, env, srv.URL(s3test.LockBucket, a.name))
			book := dailyExports(t, db, run, 4)

			n := 0
			for o := range c.ListObjects(ctx, s3test.LockBucket, minio.ListObjectsOptions{Prefix: a.name + "/", Recursive: true}) {
				if o.Err != nil {
					t.Fatal(o.Err)
				}
				if err := a.hit(o.Key); err != nil {
					t.Fatalf("attack on %s: %v", o.Key, err)
				}
				n++
			}
			if n < 60 {
				t.Fatalf("the attack hit only %d objects", n)
			}

			r := run("export", "--db", db)
			t.Logf("export after the attack: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			if r.code != 0 && r.code != 3 {
				t.Fatalf("export after the attack: exit %d", r.code)
			}
			book.record(t, run, crashTableDigest(t, db))
			if len(book) != 5 {
				t.Fatalf("after the nightly export: %d generations, want 5", len(book))
			}
			r = run("history", "repair")
			t.Logf("history repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			r.expect(t, 0)
			// verify: nothing about the history (folders of rows deleted
			// from the database before the attack hold only delete
			// markers now, which verify names on its own).
			r = run("verify")
			if strings.Contains(r.stdout, history.Dir) || strings.Contains(r.stdout, history.HeadFile) {
				t.Fatalf("verify after history repair names the history:\n%s", r.stdout)
			}
			book.check(t, dir, run)
		})
	}
}

// TestSMBHistoryAttacksThenExport: on a share there is no older version
// to go back to. When the history files are deleted or overwritten (the
// head marker outside _historie too, or not), the nightly export does not start a new history in
// silence: it exits 3 naming the history, and writes over nothing that
// was there. export --new-history then starts again on purpose, with
// numbers above every one used.
func TestSMBHistoryAttacksThenExport(t *testing.T) {
	t.Parallel()
	site := newSMBSite(t)
	overwrite := func(p string) error { return os.WriteFile(p, []byte("kaputt"), 0o644) }
	attacks := []struct {
		name string
		hit  func(p string) error
		head bool // the head marker too
		// refused: the export writes no generation (the head marker names
		// generations that are gone, or is damaged itself), and
		// export --new-history exits with newCode; else it writes a full
		// generation 5 after an ERROR naming the damaged newest one.
		refused bool
		newCode int
	}{
		{"loeschen", os.Remove, false, true, 0},
		{"ueberschreiben", overwrite, false, false, 0},
		{"ueberschreiben-mit-kopf", overwrite, true, true, 3},
	}
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			site.srv.MkdirAll(a.name)
			root := filepath.Join(site.srv.Dir, a.name)
			dir := workshop(t, 60)
			db := filepath.Join(dir, "test_archiv", "werkstatt.db")
			run := archiveRun(t, dir, site.env, site.srv.URL(a.name))
			dailyExports(t, db, run, 4)

			var hit []string
			err := filepath.WalkDir(filepath.Join(root, history.Dir), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					hit = append(hit, p)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if a.head {
				hit = append(hit, filepath.Join(root, history.HeadFile))
			}
			for _, p := range hit {
				if err := a.hit(p); err != nil {
					t.Fatal(err)
				}
			}
			before := archiveFiles(t, filepath.Join(root, history.Dir))

			r := run("export", "--db", db)
			if r.code != 3 || !strings.Contains(r.stdout+r.stderr, history.Dir) {
				t.Fatalf("export after the attack: exit %d, want 3 naming %s\n%s%s", r.code, history.Dir, r.stdout, r.stderr)
			}
			after := archiveFiles(t, filepath.Join(root, history.Dir))
			for name, data := range before {
				if !bytes.Equal(after[name], data) {
					t.Errorf("export after the attack changed %s", name)
				}
			}
			if a.refused {
				run("export", "--db", db, "--new-history").expect(t, a.newCode)
			}
			// The damaged files stay damage (history exits 3 naming them);
			// the new generation is listed, numbered above them.
			var list historyList
			r = run("history", "--json")
			if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
				t.Fatalf("history --json: %v\n%s", err, r.stdout)
			}
			if g := list.Generations; len(g) != 1 || g[0].Generation != 5 || g[0].Records != 60 {
				t.Fatalf("after export --new-history: %+v", list)
			}
		})
	}
}
