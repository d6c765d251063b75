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
	"BEGIN to COMMIT. Beside it the same writer for 2 s with no export running."

// webPause is the web app's pause between two of its transactions.
const webPause = 10 * time.Millisecond

// writerWait measures, in rollback-journal and in WAL mode, the worst wait
// of a writer standing in for the web app while export reads b.writerN
// orders: beside the same writer with no export running.
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
		b.logf("Schreiber allein (%s), 2 s", mode.name)
		alone, err := webWriter(db, b.writerN, func() error {
			time.Sleep(2 * time.Second)
			return nil
		})
		if err != nil {
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
		b.logf("  schlimmste Wartezeit %s bei %d Commits während des Exports (%s); allein %s", fmtDur(during.worst), during.commits, fmtDur(exp.d), fmtDur(alone.worst))
		b.rows = append(b.rows, row{
			work:     "web app writer during export of " + n + " orders, " + mode.name,
			target:   "worst wait ≤ 250 ms",
			oursText: fmt.Sprintf("worst wait %s (%s commits; export took %s)", fmtDur(during.worst), thousands(during.commits), fmtDur(exp.d)),
			peerText: fmt.Sprintf("worst wait %s (the same writer, no export, %s commits)", fmtDur(alone.worst), thousands(alone.commits)),
			met:      yes(during.worst <= 250*time.Millisecond),
		})
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
			r.worst = max(r.worst, time.Since(t))
			r.commits++
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
