package main

import (
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// writerMethod says in BENCHMARKS.md how the writer-wait rows were measured.
const writerMethod = "a writer standing in for the web app (its own connection in the benchmark process, " +
	"`busy_timeout` 60 s, `synchronous=OFF` so that its time is the wait for the lock and not the disk) runs " +
	"transactions that update two random orders, with a pause of 10 ms between them, for the whole length of a " +
	"fresh export of the real binary (run once per journal mode); the figure is its longest transaction, " +
	"BEGIN to COMMIT. The peer: the same writer while `cp -r` + `sync -f` copies the tree export wrote, " +
	"the same file work without any database access, so what the writer waits there is the machine's, not a lock's."

// webPause is the web app's pause between two of its transactions.
const webPause = 10 * time.Millisecond

// writerWait measures, in rollback-journal and in WAL mode, the worst wait
// of a writer standing in for the web app while export reads b.writerN
// orders, beside the same writer next to `cp -r` + `sync -f` of the tree
// export wrote (the same file work, no database lock).
func (b *bench) writerWait() error {
	src, err := b.sampleDB(b.writerN)
	if err != nil {
		return err
	}
	dir := filepath.Join(b.work, "schreiber")
	if err := mkdir(dir); err != nil {
		return err
	}
	n := thousands(b.writerN)
	b.ranWriter = true
	for _, mode := range []struct{ pragma, name string }{{"delete", "rollback journal"}, {"wal", "WAL"}} {
		db := filepath.Join(dir, "werkstatt-"+mode.pragma+".db")
		if err := copyDB(src, db, mode.pragma); err != nil {
			return err
		}
		archive := filepath.Join(dir, "export-"+mode.pragma)
		if err := mkdir(archive); err != nil {
			return err
		}
		b.logf("Export %s Aufträge (%s), daneben der Schreiber", n, mode.name)
		var exp measurement
		during, err := webWriter(db, b.writerN, func() error {
			exp, err = b.wb(nil, "export", "--db", db, "--archiv", archive)
			return err
		})
		if err != nil {
			return err
		}
		// The peer does the same file work without touching the database:
		// whatever the writer waits beside it is the machine's, not a lock.
		b.logf("cp -r + sync des fertigen Archivs (%s), daneben der Schreiber", mode.name)
		cp := filepath.Join(dir, "cp-"+mode.pragma)
		var peer measurement
		beside, err := webWriter(db, b.writerN, func() error {
			peer, err = b.sh(nil, fmt.Sprintf("cp -r %s %s && sync -f %s", archive, cp, cp))
			return err
		})
		if err != nil {
			return err
		}
		b.logf("  schlimmste Wartezeit %s (%d von %d über 250 ms) während des Exports (%s); neben cp -r %s (%d von %d, %s)",
			fmtDur(during.worst), during.over, during.commits, fmtDur(exp.d), fmtDur(beside.worst), beside.over, beside.commits, fmtDur(peer.d))
		b.rows = append(b.rows, row{
			work:     "web app writer during export of " + n + " orders, " + mode.name,
			target:   "worst wait ≤ 250 ms",
			oursText: fmt.Sprintf("worst wait %s, %s of %s transactions over 250 ms (export %s)", fmtDur(during.worst), thousands(during.over), thousands(during.commits), fmtDur(exp.d)),
			peerText: fmt.Sprintf("worst wait %s, %s of %s over 250 ms (the same writer beside `cp -r` + `sync -f` of the exported tree, %s)", fmtDur(beside.worst), thousands(beside.over), thousands(beside.commits), fmtDur(peer.d)),
			met:      yes(during.worst <= 250*time.Millisecond),
			noted:    during.worst > 250*time.Millisecond,
		})
		if during.worst > 250*time.Millisecond {
			// Blame the machine only when the peer, which takes no
			// database lock, waited as long.
			why := "the peer waited far less, so the wait comes from export (its lock, or its I/O: the snapshot copy, the syncfs of the run), not from the machine alone"
			if beside.worst > 250*time.Millisecond {
				why = "a wait that long happens here without any lock: the writer's process is not scheduled, or its write waits behind the disk"
			}
			b.notes = append(b.notes, fmt.Sprintf("Writer during export of %s orders (%s): its worst wait was %s; beside `cp -r` + `sync -f` "+
				"of the same tree, which takes no database lock at all, the same writer waited up to %s (load average %s): %s.",
				n, mode.name, fmtDur(during.worst), fmtDur(beside.worst), loadavg(), why))
		}
	}
	return nil
}

// copyDB copies the database src to dst and sets its journal mode.
func copyDB(src, dst, mode string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", "file:"+dst)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.Exec("PRAGMA journal_mode = " + mode)
	return err
}

// writerResult is what the writer saw: its longest transaction and how
// many it committed.
type writerResult struct {
	worst   time.Duration
	commits int
	over    int // transactions longer than 250 ms
}

// webWriter runs a writer on db while during runs: in a loop, a transaction
// that updates two random orders, then a pause of webPause, as a web app
// saving its forms. It waits for locks up to 60 s (busy_timeout) and does
// not sync its commits (synchronous=OFF), so that a transaction's time is
// the wait for the lock plus a little CPU, not the disk.
func webWriter(db string, rows int, during func() error) (writerResult, error) {
	w, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(60000)&_pragma=synchronous(off)&_txlock=immediate")
	if err != nil {
		return writerResult{}, err
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	stop := make(chan struct{})
	res := make(chan writerResult, 1)
	werr := make(chan error, 1)
	go func() {
		var r writerResult
		for {
			select {
			case <-stop:
				res <- r
				werr <- nil
				return
			default:
			}
			t := time.Now()
			if err := twoRows(w, 1+rand.IntN(rows), 1+rand.IntN(rows)); err != nil {
				res <- r
				werr <- fmt.Errorf("Schreiber: %w", err)
				return
			}
			d := time.Since(t)
			r.worst = max(r.worst, d)
			r.commits++
			if d > 250*time.Millisecond {
				r.over++
			}
			time.Sleep(webPause)
		}
	}()
	err = during()
	close(stop)
	r := <-res
	if e := <-werr; err == nil {
		err = e
	}
	return r, err
}

func twoRows(w *sql.DB, a, b int) error {
	tx, err := w.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range []int{a, b} {
		if _, err := tx.Exec("UPDATE auftraege SET data_complete = 1 - data_complete WHERE record_id = ?", id); err != nil {
			return err
		}
	}
	return tx.Commit()
}
