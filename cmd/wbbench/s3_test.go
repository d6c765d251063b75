package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"werkstatt-backup/backends/s3/s3test"
)

func testBench(t *testing.T) *bench {
	t.Helper()
	return &bench{work: t.TempDir(), runs: 1, log: io.Discard, started: time.Now()}
}

// The rclone peer's configuration by environment reaches versitygw and
// copies the tree (even with an AWS_CA_BUNDLE in the caller's
// environment, which makes rclone's S3 backend refuse to start); a second
// copy of the unchanged tree transfers nothing.
func TestRcloneS3CopiesTreeToServer(t *testing.T) {
	if _, err := exec.LookPath("rclone"); err != nil {
		t.Skip("rclone fehlt (apt-get install -y rclone)")
	}
	srv := s3test.Start(t)
	b := testBench(t)
	bundle := filepath.Join(b.work, "ca.pem")
	if err := os.WriteFile(bundle, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", bundle)
	tree := filepath.Join(b.work, "tree")
	for _, name := range []string{"2024/076329/data.csv", "2024/076329/meta.json", "2025/1/data.csv"} {
		p := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rclone, env, err := b.rcloneS3(srv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.exec(env(srv.Addr()), rclone, "copy", tree, "wb:"+s3test.Bucket+"/kopie"); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for o := range srv.Client().ListObjects(context.Background(), s3test.Bucket, minio.ListObjectsOptions{Prefix: "kopie/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	slices.Sort(keys)
	want := []string{"kopie/2024/076329/data.csv", "kopie/2024/076329/meta.json", "kopie/2025/1/data.csv"}
	if !slices.Equal(keys, want) {
		t.Fatalf("im Bucket: %v, erwartet %v", keys, want)
	}

	cmd := exec.Command(rclone, "copy", "-v", tree, "wb:"+s3test.Bucket+"/kopie")
	cmd.Env = append(cleanEnv(), env(srv.Addr())...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("zweites rclone copy: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "There was nothing to transfer") {
		t.Fatalf("zweites rclone copy hat übertragen:\n%s", out)
	}
}

// fakeExport stands in for a werkstatt-backup that does not know s3://:
// a local export writes one order, an s3:// archive fails with an error
// that (wrongly) holds the secret key and a table separator.
const fakeExport = `#!/bin/sh
archiv=""
while [ $# -gt 0 ]; do
	case "$1" in --archiv) archiv="$2"; shift ;; esac
	shift
done
case "$archiv" in
s3://*)
	echo "werkstatt-backup: Export abgebrochen: Archiv $archiv: kaputt | Schlüssel $ARCHIV_S3_SECRET_KEY" >&2
	exit 2 ;;
esac
mkdir -p "$archiv/2024/1" && echo x > "$archiv/2024/1/data.csv"
`

// A binary whose S3 export fails gives rows with its error, without the
// secret key and without breaking the table, and the rclone half is
// measured all the same; the section does not end the benchmark.
func TestS3SectionPutsExportErrorIntoRows(t *testing.T) {
	b := testBench(t)
	b.s3N = 20
	b.bin = filepath.Join(b.work, "werkstatt-backup")
	if err := os.WriteFile(b.bin, []byte(fakeExport), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.s3(); err != nil {
		t.Fatalf("s3: %v", err)
	}
	// fresh, unchanged beside rclone copy, unchanged beside the bare
	// listing; the same two over 10 ms round trips
	if len(b.rows) != 5 {
		t.Fatalf("%d Zeilen, erwartet 5", len(b.rows))
	}
	if b.rows[0].skipped != "" {
		t.Skipf("versitygw nicht verfügbar: %s", b.rows[0].skipped)
	}
	md := b.markdown()
	for _, i := range []int{0, 3} {
		r := b.rows[i]
		if !strings.HasPrefix(r.oursText, "failed: werkstatt-backup: Export abgebrochen: Archiv s3://") ||
			!strings.HasSuffix(r.oursText, `kaputt \| Schlüssel ***`) {
			t.Errorf("Zeile %q: ours = %q", r.work, r.oursText)
		}
	}
	if r := b.rows[0]; r.met != "not measured" {
		t.Errorf("Zeile %q: met = %q", r.work, r.met)
	}
	for _, i := range []int{1, 2, 4} {
		if r := b.rows[i]; r.oursText != "not measured: the fresh export failed" {
			t.Errorf("Zeile %q: ours = %q", r.work, r.oursText)
		}
	}
	if _, err := exec.LookPath("rclone"); err == nil {
		for _, i := range []int{0, 1, 4} {
			if r := b.rows[i]; r.peer.d == 0 || !strings.HasSuffix(r.peerText, "(`rclone copy`)") {
				t.Errorf("Zeile %q: peer = %q, %v", r.work, r.peerText, r.peer.d)
			}
		}
	}
	if r := b.rows[2]; r.peer.d != 0 || !strings.HasPrefix(r.peerText, "not measured: the fresh export failed") {
		t.Errorf("Zeile %q: peer = %q", r.work, r.peerText)
	}
	if r := b.rows[3]; r.peer.d != 0 || !strings.HasPrefix(r.peerText, "not measured: left out") {
		t.Errorf("Zeile %q: peer = %q", r.work, r.peerText)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.Contains(line, "S3") && strings.HasPrefix(line, "| export") && strings.Count(line, " | ") != 5 {
			t.Errorf("Tabellenzeile mit falscher Spaltenzahl: %s", line)
		}
		if strings.Contains(line, "Schlüssel") && !strings.Contains(line, "Schlüssel ***") {
			t.Errorf("Secret-Key in der Tabelle: %s", line)
		}
	}
}

// With the real binary every export of the section is measured: each
// fresh run writes into a new, empty prefix (an empty archive on S3), and
// the unchanged runs find the fresh runs' archives.
func TestS3SectionMeasuresRealExport(t *testing.T) {
	if testing.Short() {
		t.Skip("baut das Programm")
	}
	b := testBench(t)
	b.s3N = 30
	b.bin = filepath.Join(b.work, "werkstatt-backup")
	build := exec.Command("go", "build", "-o", b.bin, "werkstatt-backup/cmd/werkstatt-backup")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := b.s3(); err != nil {
		t.Fatalf("s3: %v", err)
	}
	if b.rows[0].skipped != "" {
		t.Skipf("versitygw nicht verfügbar: %s", b.rows[0].skipped)
	}
	for _, r := range b.rows {
		if r.ours.d == 0 || strings.Contains(r.oursText, "failed") || strings.Contains(r.oursText, "not measured") {
			t.Errorf("Zeile %q: ours = %q", r.work, r.oursText)
		}
	}
}
