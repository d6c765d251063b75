package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/backends/s3/s3test"
)

// TestExportRemovesTempsOfDeletedRows: a stopped export left temp files
// in an order's folder, and the row is then deleted from the database.
// verify names the temp files and says the next export removes them; it
// does (export settles temp files only in the folders of the rows it
// writes, so those of a deleted row stayed for good), on a local disk
// and on S3 (where export works from a listing of the archive).
func TestExportRemovesTempsOfDeletedRows(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// archive returns the --archiv argument and the folder holding
		// the archive's files on this machine.
		archive func(t *testing.T, dir string) (arg, root string, env []string)
	}{
		{"lokal", func(t *testing.T, dir string) (string, string, []string) {
			root := filepath.Join(dir, "archiv")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			return root, root, nil
		}},
		{"s3", func(t *testing.T, dir string) (string, string, []string) {
			srv := s3test.Start(t)
			return srv.URL(s3test.Bucket, "tmp"), filepath.Join(srv.Dir, s3test.Bucket, "tmp"),
				[]string{"ARCHIV_S3_SECRET_KEY=" + srv.SecretKey, "ARCHIV_S3_INSECURE=1"}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := workshop(t, 12)
			db := filepath.Join(dir, "test_archiv", "werkstatt.db")
			arg, root, env := tc.archive(t, dir)
			run := archiveRun(t, dir, env, arg)
			run("export", "--db", db).expect(t, 0)

			// The first order folder: what a killed export left in it.
			metas, _ := filepath.Glob(filepath.Join(root, "*", "*", "meta.json"))
			if len(metas) != 12 {
				t.Fatalf("%d meta.json in the archive", len(metas))
			}
			raw, err := os.ReadFile(metas[0])
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				RecordID int64 `json:"record_id"`
			}
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			folder := filepath.Dir(metas[0])
			temps := []string{filepath.Join(folder, "data.tmp.csv"), filepath.Join(folder, "meta.tmp.json")}
			for _, p := range temps {
				if err := os.WriteFile(p, []byte("halb geschrieben"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			execSQL(t, db, fmt.Sprintf("DELETE FROM auftraege WHERE record_id = %d", m.RecordID))
			r := run("verify")
			if !strings.Contains(r.stdout, "der nächste Export räumt sie auf") {
				t.Fatalf("verify does not name the temp files:\n%s", r.stdout)
			}
			r = run("export", "--db", db, "--dry-run").expect(t, 0)
			if !strings.Contains(r.stdout, "2 entfernen") {
				t.Fatalf("dry run does not plan the removal:\n%s", r.stdout)
			}
			run("export", "--db", db).expect(t, 0)
			for _, p := range temps {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("%s still there after the export (%v)", p, err)
				}
			}
			r = run("verify")
			if strings.Contains(r.stdout, "tmp") {
				t.Fatalf("verify after the export:\n%s", r.stdout)
			}
		})
	}
}
