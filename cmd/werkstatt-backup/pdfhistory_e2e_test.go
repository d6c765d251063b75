package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/pdf"
)

// TestHistoryShowsReplacedPDF: in the seed's layout a PDF replaced on
// disk (its row unchanged) is named by export (WARNING, exit 3) and shows
// in history --auftrag as a PDF change, old → new, also in --json. On
// main the history knew no PDF.
func TestHistoryShowsReplacedPDF(t *testing.T) {
	dir := workshop(t, 6)
	seed := []string{"--db", "./test_archiv/werkstatt.db", "--archiv", "./test_archiv"}
	wb(t, dir, append([]string{"export"}, seed...)...).expect(t, 0)
	pdfs, _ := filepath.Glob(filepath.Join(dir, "test_archiv", "*", "*", "*.pdf"))
	if len(pdfs) != 6 {
		t.Fatalf("%d PDFs", len(pdfs))
	}
	victim := pdfs[0]
	old, _ := os.ReadFile(victim)
	replaced := []byte("%PDF-1.4\n% ausgetauscht\n")
	if err := os.WriteFile(victim, replaced, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(victim, later, later); err != nil {
		t.Fatal(err)
	}
	nr := filepath.Base(filepath.Dir(victim))
	r := wb(t, dir, append([]string{"export"}, seed...)...).expect(t, 3)
	if !strings.Contains(r.stdout, "PDF von Auftrag "+nr+" passt nicht zu seinem Hash") {
		t.Fatalf("export does not name the replaced PDF:\n%s", r.stdout)
	}
	r = wb(t, dir, "history", "--archiv", "./test_archiv", "--auftrag", nr).expect(t, 0)
	want := "PDF ausgetauscht: " + sha(old)[:12] + " → " + sha(replaced)[:12]
	if !strings.Contains(r.stdout, want) {
		t.Fatalf("history --auftrag %s does not show %q:\n%s", nr, want, r.stdout)
	}
	r = wb(t, dir, "history", "--archiv", "./test_archiv", "--auftrag", nr, "--json").expect(t, 0)
	var out struct {
		Versions []struct {
			Generation uint64
			PDF        string                     `json:"pdf"`
			PDFChange  *struct{ Old, New string } `json:"pdf_change"`
		} `json:"versions"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out.Versions) != 2 {
		t.Fatalf("--json: %v\n%s", err, r.stdout)
	}
	first, last := out.Versions[0], out.Versions[1]
	if first.PDF != sha(old) || first.PDFChange != nil || last.PDF != sha(replaced) || last.PDFChange == nil ||
		last.PDFChange.Old != sha(old)[:12] || last.PDFChange.New != sha(replaced)[:12] {
		t.Fatalf("--json versions: %+v\n%s", out.Versions, r.stdout)
	}
	r = wb(t, dir, "history", "--archiv", "./test_archiv", "--changes").expect(t, 0)
	if !strings.Contains(r.stdout, "Auftrag "+nr) || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "0 geändert, 0 entfernt, 1 PDFs ausgetauscht") {
		t.Fatalf("history --changes does not name the replaced PDF:\n%s", r.stdout)
	}
}

// TestForgetPDFCopiesOnS3ObjectLock: on versitygw's Object Lock bucket,
// forget deletes a PDF copy no generation and not the index names (every
// version of it) and leaves one that is still retained, saying so, with
// exit 0; the copies the history needs stay. On main forget left every
// copy.
func TestForgetPDFCopiesOnS3ObjectLock(t *testing.T) {
	site := newS3Site(t, s3test.LockBucket, "pdfs")
	dir := workshop(t, 4)
	cfg := `{"db": "test_archiv/werkstatt.db", "log_file": "wb.log",
  "sites": [{"name": "offsite", "archiv": "` + site.url + `", "pdfs": "test_archiv"}]}`
	if err := os.WriteFile(filepath.Join(dir, "wb.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(code int, args ...string) result {
		t.Helper()
		return wbEnv(t, dir, site.env, append([]string{"--config", "wb.json", "--site", "offsite"}, args...)...).expect(t, code)
	}
	run(0, "export")
	c := site.srv.Client()
	ctx := context.Background()
	put := func(content []byte, until time.Time) string {
		t.Helper()
		key := site.prefix + "/" + pdf.ObjectName(sha(content))
		opts := minio.PutObjectOptions{SendContentMd5: true}
		if !until.IsZero() {
			opts.Mode, opts.RetainUntilDate = minio.Compliance, until
		}
		if _, err := c.PutObject(ctx, site.bucket, key, bytes.NewReader(content), int64(len(content)), opts); err != nil {
			t.Fatal(err)
		}
		return key
	}
	// Two copies no generation names (left by a run whose generation was
	// forgotten): one retained for a day, one not at all.
	retained := put([]byte("%PDF-1.4\n% alt, gesperrt\n"), time.Now().Add(24*time.Hour))
	free := put([]byte("%PDF-1.4\n% alt, frei\n"), time.Time{})
	versions := func(key string) int {
		n := 0
		for o := range c.ListObjects(ctx, site.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			if o.Key == key {
				n++
			}
		}
		return n
	}
	r := run(0, "forget", "--json")
	var rep struct {
		Forget struct {
			PDFsRemoved  []string `json:"pdfs_removed"`
			PDFsRetained []string `json:"pdfs_retained"`
		} `json:"forget"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	rel := func(key string) string { return strings.TrimPrefix(key, site.prefix+"/") }
	if len(rep.Forget.PDFsRemoved) != 1 || rep.Forget.PDFsRemoved[0] != rel(free) ||
		len(rep.Forget.PDFsRetained) != 1 || rep.Forget.PDFsRetained[0] != rel(retained) {
		t.Fatalf("forget: removed %v, retained %v\n%s", rep.Forget.PDFsRemoved, rep.Forget.PDFsRetained, r.stdout)
	}
	if n := versions(free); n != 0 {
		t.Fatalf("the freed copy has %d versions left", n)
	}
	if n := versions(retained); n != 1 {
		t.Fatalf("the retained copy has %d versions, want its one", n)
	}
	r = run(0, "forget")
	if !strings.Contains(r.stdout, "Object Lock: 1 nicht mehr benötigte PDF-Kopien noch gesperrt") {
		t.Fatalf("forget does not say that a copy stays locked:\n%s", r.stdout)
	}
	copies := 0
	for o := range c.ListObjects(ctx, site.bucket, minio.ListObjectsOptions{Prefix: site.prefix + "/_pdfs/", Recursive: true}) {
		if strings.HasSuffix(o.Key, ".pdf") {
			copies++
		}
	}
	if copies != 5 {
		t.Fatalf("%d copies after forget, want the 4 the history needs and the retained one", copies)
	}
	run(0, "verify", "--pdfs")
}
