package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/backends/s3/s3test"
)

// TestRestoreAtServerDeathAfterCommit: restore --at replaced the table,
// then the S3 server died before the run released the archive lock. The
// run fails (exit 1), and its last line says what is true: the table was
// replaced from the generation, and what failed afterwards, not
// "Restore abgeschlossen … 0 Fehler".
func TestRestoreAtServerDeathAfterCommit(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	p := startCutProxy(t, srv.Addr())
	dir := workshop(t, 20)
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	env := []string{"ARCHIV_S3_SECRET_KEY=" + srv.SecretKey, "ARCHIV_S3_INSECURE=1"}
	run := archiveRun(t, dir, env, strings.Replace(srv.URL(s3test.Bucket, "tod"), srv.Addr(), p.addr, 1))
	run("export", "--db", db).expect(t, 0)
	want := crashTableDigest(t, db)

	// The event: the run logged its summary (the table is replaced) and
	// now sends its next request (the lock's release).
	logPath := filepath.Join(dir, "backup_system.log")
	before, _ := os.ReadFile(logPath)
	fired := p.armWhen(func(int64) bool {
		b, _ := os.ReadFile(logPath)
		return len(b) > len(before) && bytes.Contains(b[len(before):], []byte("Restore abgeschlossen"))
	}, srv.Stop)
	r := run("restore", "--generation", "1", "--db", filepath.Join(dir, "neu.db"))
	select {
	case <-fired:
	default:
		t.Fatalf("the server was not killed after the restore's commit:\n%s%s", r.stdout, r.stderr)
	}
	if got := crashTableDigest(t, filepath.Join(dir, "neu.db")); got != want {
		t.Fatalf("restored table %s, want %s", got, want)
	}
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	out := strings.TrimSpace(r.stdout)
	last := out[strings.LastIndex(out, "\n")+1:]
	errLine := strings.TrimSpace(r.stderr)
	t.Logf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	for _, line := range []string{last, errLine} {
		if strings.Contains(line, " 0 Fehler") {
			t.Errorf("a line says 0 Fehler although the server died: %q", line)
		}
	}
	logged, _ := os.ReadFile(logPath)
	logged = bytes.TrimSpace(logged[len(before):])
	lastLogged := string(logged[bytes.LastIndexByte(logged, '\n')+1:])
	if !strings.Contains(lastLogged, "ersetzt") || strings.Contains(lastLogged, " 0 Fehler") {
		t.Errorf("the log's last line does not say that the table was replaced: %q", lastLogged)
	}
	if !strings.Contains(errLine, "ersetzt") || !strings.Contains(errLine, "Generation 1") {
		t.Errorf("the last line does not say that the table was replaced from generation 1: %q", errLine)
	}
}
