package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
)

// remotePDFCycle runs the PDF features against an archive at url (Samba
// or versitygw) whose files lie below serverDir on disk: export --all-sites
// copies every PDF there byte-identical (3-2-1: site nas is the seed's
// layout, site offsite the remote archive with pdfs = the NAS's tree); an
// unchanged export reads none; a PDF that no longer matches is refused
// and the good copy stays; restore --pdfs gives them back; restored into
// the remote archive itself (the seed's layout there), verify --pdfs reads
// them over the network and names a changed one.
func remotePDFCycle(t *testing.T, url string, env []string, serverDir string) {
	dir := workshop(t, 12)
	cfg := `{"db": "test_archiv/werkstatt.db", "log_file": "wb.log", "workers": 4,
  "sites": [
    {"name": "nas", "archiv": "test_archiv"},
    {"name": "offsite", "archiv": "` + url + `", "pdfs": "test_archiv"}
  ]}`
	if err := os.WriteFile(filepath.Join(dir, "wb.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(code int, args ...string) result {
		t.Helper()
		return wbEnv(t, dir, env, append([]string{"--config", "wb.json"}, args...)...).expect(t, code)
	}
	r := run(0, "export", "--all-sites")
	if !strings.Contains(r.stdout, "PDFs: 12 kopiert") {
		t.Fatalf("export --all-sites:\n%s", r.stdout)
	}
	pdfs, _ := filepath.Glob(filepath.Join(dir, "test_archiv", "*", "*", "*.pdf"))
	orig := map[string][]byte{}
	want := map[string]bool{}
	for _, p := range pdfs {
		orig[p], _ = os.ReadFile(p)
		want[sha(orig[p])] = true
	}
	copies, _ := filepath.Glob(filepath.Join(serverDir, "_pdfs", "*", "*.pdf"))
	if len(copies) != len(pdfs) || len(pdfs) != 12 {
		t.Fatalf("%d copies on the server for %d PDFs", len(copies), len(pdfs))
	}
	for _, c := range copies {
		b, _ := os.ReadFile(c)
		if !want[sha(b)] || filepath.Base(c) != sha(b)+".pdf" {
			t.Fatalf("copy %s is not one of the PDFs byte for byte", c)
		}
	}
	r = run(0, "export", "--site", "offsite", "--json")
	var rep struct {
		PDFs struct{ Stored, Unchanged int } `json:"pdfs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.PDFs.Unchanged != 12 || rep.PDFs.Stored != 0 {
		t.Fatalf("unchanged export: %v %+v\n%s", err, rep.PDFs, r.stdout)
	}

	// One PDF overwritten on the NAS: refused (exit 3), the copy stays.
	victim := completePDFs(t, pdfs)[0]
	os.WriteFile(victim, []byte("überschrieben"), 0o644)
	r = run(3, "export", "--site", "offsite")
	rel := filepath.ToSlash(strings.TrimPrefix(victim, filepath.Join(dir, "test_archiv")+string(filepath.Separator)))
	if !strings.Contains(r.stdout, "WARNING - "+rel+": PDF von Auftrag") || !strings.Contains(r.stdout, "bleibt") {
		t.Fatalf("refused PDF not named:\n%s", r.stdout)
	}

	// Now and as the first generation (before the damage) had them.
	for _, how := range [][]string{nil, {"--generation", "1"}} {
		target := "zurueck" + strings.Join(how, "")
		r = run(0, append([]string{"restore", "--site", "offsite", "--pdfs", target}, how...)...)
		if !strings.Contains(r.stdout, "PDF-Restore abgeschlossen: 12 PDFs wiederhergestellt") {
			t.Fatalf("restore --pdfs %v:\n%s", how, r.stdout)
		}
		for p, b := range orig {
			got, err := os.ReadFile(filepath.Join(dir, target, strings.TrimPrefix(p, filepath.Join(dir, "test_archiv"))))
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("restore --pdfs %v: %s not restored byte-identical: %v", how, p, err)
			}
		}
	}

	// The seed's layout on the remote archive: verify --pdfs over the network.
	run(0, "restore", "--site", "offsite", "--pdfs", url)
	run(0, "verify", "--archiv", url, "--pdfs")
	onServer := filepath.Join(serverDir, filepath.FromSlash(rel))
	if err := os.WriteFile(onServer, []byte("kaputt"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(1, "verify", "--archiv", url, "--pdfs")
	if !strings.Contains(r.stdout, "ERROR - "+rel+": PDF von Auftrag") {
		t.Fatalf("verify --pdfs over the network did not name %s:\n%s", rel, r.stdout)
	}
}

func TestPDFsOnSMB(t *testing.T) {
	site := newSMBSite(t)
	remotePDFCycle(t, site.url, site.env, site.dir())
}

// TestPDFsOnS3ObjectLock: the same on versitygw's Object Lock bucket;
// also, a stored PDF cannot be deleted with the backup's own key.
func TestPDFsOnS3ObjectLock(t *testing.T) {
	site := newS3Site(t, s3test.LockBucket, "pdfs")
	remotePDFCycle(t, site.url, site.env, site.dir())
	c := site.srv.Client()
	ctx := context.Background()
	var key string
	for obj := range c.ListObjects(ctx, site.bucket, minio.ListObjectsOptions{Prefix: site.prefix + "/_pdfs/", Recursive: true}) {
		if strings.HasSuffix(obj.Key, ".pdf") {
			key = obj.Key
			break
		}
	}
	if key == "" {
		t.Fatal("no PDF copy in the bucket")
	}
	info, err := c.StatObject(ctx, site.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = c.RemoveObject(ctx, site.bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("deleting a stored PDF's version with the backup's key: %v, want AccessDenied", err)
	}
	err = c.RemoveObject(ctx, site.bucket, key, minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true})
	if minio.ToErrorResponse(err).Code != "AccessDenied" {
		t.Fatalf("with governance bypass: %v, want AccessDenied", err)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
