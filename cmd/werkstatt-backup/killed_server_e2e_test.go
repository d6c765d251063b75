package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"werkstatt-backup/backends/s3/s3test"
	"werkstatt-backup/sample"
)

// Killed-server exports (issue 21): the server dies during an export at
// ten moments spread over the bytes an export sends (a cutProxy kills it
// when the client has sent the k-th byte), is restarted, and the next
// export completes. Every generation committed on the way, by a killed
// run or by the one after it, restores exactly the table of the
// database at its export: none lacks a row.

// killedServerRounds runs the rounds against a server reached through p
// (kill kills it, restart starts it again) with run, and checks every
// generation at the end.
func killedServerRounds(t *testing.T, p *cutProxy, dir string, run wbRun, kill, restart func()) {
	t.Helper()
	const orders, moments = 100, 10
	db := filepath.Join(dir, "test_archiv", "werkstatt.db")
	pool := sample.Rows(orders+2*(moments+1), 11)[orders:]
	book := genBook{}
	export := func() result { return run("export", "--db", db, "--workers", "4") }

	export().expect(t, 0)
	book.record(t, run, crashTableDigest(t, db))
	change := func(round int) {
		pool = crashChangeRows(t, db, round, round, pool)
		execSQL(t, db, fmt.Sprintf("DELETE FROM auftraege WHERE record_id = (SELECT record_id FROM auftraege ORDER BY record_id LIMIT 1 OFFSET %d)", 7*round))
	}
	// What one round's export sends, to spread the moments over.
	change(1)
	p.arm(0, nil)
	export().expect(t, 0)
	perRound := p.bytesSent()
	book.record(t, run, crashTableDigest(t, db))

	kills := 0
	for k := range moments {
		round := k + 2
		change(round)
		digest := crashTableDigest(t, db)
		at := perRound * int64(2*k+1) / (2 * moments)
		fired := p.arm(at, func() { kill(); restart() })
		r := export()
		select {
		case <-fired:
			// Back within the run's reconnect budget or not: it completes
			// or fails, nothing else.
			kills++
			if r.code != 0 && r.code != 1 {
				t.Errorf("moment %d (byte %d of %d): export with the server killed: exit %d\n%s%s", k, at, perRound, r.code, r.stdout, r.stderr)
			}
		default:
			r.expect(t, 0)
		}
		p.arm(0, nil)
		// The database did not change between the two runs: whatever
		// generations they committed must both give digest.
		export().expect(t, 0)
		book.record(t, run, digest)
		t.Logf("moment %d: byte %d of %d, exit %d", k, at, perRound, r.code)
	}
	if kills < moments-1 {
		t.Fatalf("the server was killed in only %d of %d exports", kills, moments)
	}
	book.check(t, dir, run)
}

// killedServerWorkshop is a database of 100 orders without PDFs.
func killedServerWorkshop(t *testing.T) string {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "test_archiv"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sample.CreateDB(context.Background(), filepath.Join(dir, "test_archiv", "werkstatt.db"), sample.Rows(100, 11)); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestS3KilledServerGenerationsComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("killed-server test")
	}
	t.Parallel()
	srv := s3test.Start(t)
	p := startCutProxy(t, srv.Addr())
	dir := killedServerWorkshop(t)
	env := []string{"ARCHIV_S3_SECRET_KEY=" + srv.SecretKey, "ARCHIV_S3_INSECURE=1", "ARCHIV_MASS_CHANGE=0"}
	url := strings.Replace(srv.URL(s3test.LockBucket, "tot"), srv.Addr(), p.addr, 1)
	killedServerRounds(t, p, dir, archiveRun(t, dir, env, url), srv.Stop, srv.Restart)
}

func TestSMBKilledServerGenerationsComplete(t *testing.T) {
	if testing.Short() {
		t.Skip("killed-server test")
	}
	t.Parallel()
	site := newSMBSite(t)
	p := startCutProxy(t, site.srv.Addr())
	dir := killedServerWorkshop(t)
	env := append(site.env, "ARCHIV_MASS_CHANGE=0")
	url := strings.Replace(site.url, site.srv.Addr(), p.addr, 1)
	killedServerRounds(t, p, dir, archiveRun(t, dir, env, url), site.srv.Kill, site.srv.Restart)
}
