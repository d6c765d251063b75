package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// local measures export (fresh and unchanged), verify and restore of
// b.orders orders on the local disk.
func (b *bench) local() error {
	db, err := b.sampleDB(b.orders)
	if err != nil {
		return err
	}
	dir := filepath.Join(b.work, "lokal")
	exp := func(i int) string { return filepath.Join(dir, "export-"+strconv.Itoa(i)) }
	cp := func(i int) string { return filepath.Join(dir, "cp-"+strconv.Itoa(i)) }
	n := fmt.Sprintf("%d", b.orders)

	// Fresh export: a new archive directory every run, cp -r of the first
	// run's finished tree (data.csv + meta.json of every order) as the peer.
	// Both make their files durable: export with syncfs, the peer with
	// sync -f on the copy's filesystem.
	b.logf("Export %s Aufträge in ein neues lokales Archiv, im Wechsel mit cp -r + sync", n)
	ours, peer, err := b.series(b.runs, func(i int) (measurement, error) {
		if err := mkdir(exp(i)); err != nil {
			return measurement{}, err
		}
		return b.wb(nil, "export", "--db", db, "--archiv", exp(i))
	}, func(i int) (measurement, error) {
		return b.sh(nil, fmt.Sprintf("cp -r %s %s && sync -f %s", exp(1), cp(i), cp(i)))
	})
	if err != nil {
		return err
	}
	fresh, cpTime := best(ours), best(peer)
	r := row{work: "export " + thousands(b.orders) + " orders, local, fresh archive",
		target: "≤ 2 s and ≤ 2× `cp -r` + `sync`", ours: fresh, peer: cpTime, peerName: "`cp -r` + `sync -f`"}
	r.met = both(fresh.d <= 2*time.Second, fresh.d <= 2*cpTime.d, "≤ 2 s", "≤ 2× cp")
	r.noted = fresh.d > 2*time.Second && fresh.d <= 2*cpTime.d
	b.rows = append(b.rows, r)
	if r.noted {
		b.notes = append(b.notes, fmt.Sprintf("Fresh local export: `cp -r` + `sync -f` of the same finished tree "+
			"(%s directories, %s files) takes %s on this machine, our export %s (%.2f× cp). Both are bound by the "+
			"filesystem's cost of creating directories and files (kernel time); export also renames every file "+
			"into place (atomic write) and reads the database.", thousands(b.orders), thousands(2*b.orders), fmtDur(cpTime.d), fmtDur(fresh.d),
			float64(fresh.d)/float64(cpTime.d)))
	}

	// Nothing changed: export again over the first archive; rsync -rc (read
	// and compare everything, copy nothing) between two identical trees.
	peerName, peerRun := "`rsync -rc`", func(i int) (measurement, error) {
		return b.exec(nil, "rsync", "-rc", exp(1)+"/", cp(1)+"/")
	}
	if _, err := exec.LookPath("rsync"); err != nil {
		peerName, peerRun = "`diff -rq`", func(i int) (measurement, error) {
			return b.exec(nil, "diff", "-rq", exp(1), cp(1))
		}
	}
	b.logf("Export ohne Änderungen, im Wechsel mit %s", peerName)
	ours, peer, err = b.series(b.runs, func(int) (measurement, error) {
		return b.wb(nil, "export", "--db", db, "--archiv", exp(1))
	}, peerRun)
	if err != nil {
		return err
	}
	o := best(ours)
	b.rows = append(b.rows, row{work: "export " + thousands(b.orders) + " orders, nothing changed", target: "≤ 0.5 s",
		ours: o, peer: best(peer), peerName: peerName, met: yes(o.d <= 500*time.Millisecond)})

	// Verify, beside the seed's way in Python: meta.json, SHA-256, csv.
	b.logf("Verify, im Wechsel mit Python (json, hashlib, csv)")
	ours, peer, err = b.series(b.runs, func(int) (measurement, error) {
		return b.wb(nil, "verify", "--archiv", exp(1))
	}, b.pythonPeer("verify_peer.py", exp(1)))
	if err != nil {
		return err
	}
	o = best(ours)
	b.rows = append(b.rows, row{work: "verify " + thousands(b.orders) + " orders", target: "≤ 1 s",
		ours: o, peer: best(peer), peerName: "Python: json + hashlib + csv", met: yes(o.d <= time.Second)})

	// Restore into a new database, beside Python's csv + sqlite3.
	b.logf("Restore in eine neue Datenbank, im Wechsel mit Python (csv, sqlite3)")
	ours, peer, err = b.series(b.runs, func(i int) (measurement, error) {
		return b.wb(nil, "restore", "--db", filepath.Join(dir, "restore-"+strconv.Itoa(i)+".db"), "--archiv", exp(1))
	}, b.pythonPeer("restore_peer.py", exp(1), filepath.Join(dir, "python")))
	if err != nil {
		return err
	}
	b.restore10k = best(ours)
	b.rows = append(b.rows, row{work: "restore " + thousands(b.orders) + " orders", target: "≤ 1.5 s",
		ours: b.restore10k, peer: best(peer), peerName: "Python: csv + sqlite3", met: yes(b.restore10k.d <= 1500*time.Millisecond)})
	return nil
}

// large exports b.big orders (beside cp -r) and restores them, measuring
// time and peak memory (beside Python).
func (b *bench) large() error {
	db, err := b.sampleDB(b.big)
	if err != nil {
		return err
	}
	dir := filepath.Join(b.work, "gross")
	archive := filepath.Join(dir, "export")
	if err := mkdir(archive); err != nil {
		return err
	}
	b.logf("Export %s Aufträge (einmal), dann cp -r + sync", thousands(b.big))
	ours, peer, err := b.series(1, func(int) (measurement, error) {
		return b.wb(nil, "export", "--db", db, "--archiv", archive)
	}, func(int) (measurement, error) {
		cp := filepath.Join(dir, "cp")
		return b.sh(nil, fmt.Sprintf("cp -r %s %s && sync -f %s", archive, cp, cp))
	})
	if err != nil {
		return err
	}
	b.rows = append(b.rows, row{work: "export " + thousands(b.big) + " orders, local, fresh archive", target: "(for comparison)",
		ours: best(ours), peer: best(peer), peerName: "`cp -r` + `sync -f`", met: "–"})

	b.logf("Restore %s Aufträge, im Wechsel mit Python", thousands(b.big))
	ours, peer, err = b.series(b.runs, func(i int) (measurement, error) {
		return b.wb(nil, "restore", "--db", filepath.Join(dir, "restore-"+strconv.Itoa(i)+".db"), "--archiv", archive)
	}, once(b.pythonPeer("restore_peer.py", archive, filepath.Join(dir, "python"))))
	if err != nil {
		return err
	}
	o := best(ours)
	limit := 12 * b.restore10k.d
	r := row{work: "restore " + thousands(b.big) + " orders", target: fmt.Sprintf("peak memory ≤ 150 MB; ≤ 12× restore of %s (%s)", thousands(b.orders), fmtDur(limit)),
		ours: o, peer: best(peer), peerName: "Python: csv + sqlite3", showRSS: true}
	r.met = both(o.rss <= 150<<20, o.d <= limit, "≤ 150 MB", "≤ 12×")
	r.noted = o.d > limit && o.rss <= 150<<20
	b.rows = append(b.rows, r)
	if o.d > limit {
		b.notes = append(b.notes, fmt.Sprintf("Restore of %s orders took %.1f× the time of %s (%s against %s). The work per "+
			"order is the same; with %s orders the heap is held near its limit (%d MB peak) and the garbage collector runs "+
			"more often, and a busy machine (see the load average) stretches the longer run more.", thousands(b.big),
			float64(o.d)/float64(b.restore10k.d), thousands(b.orders), fmtDur(o.d), fmtDur(b.restore10k.d), thousands(b.big), o.rss>>20))
	}
	return nil
}

// pythonPeer runs one of the Python peers with args; the database argument
// (if any) gets the run number so that every run writes a new one.
func (b *bench) pythonPeer(script string, args ...string) func(int) (measurement, error) {
	return func(i int) (measurement, error) {
		if b.python == "" {
			return measurement{}, errSkip
		}
		a := append([]string{filepath.Join(b.work, script)}, args...)
		if len(args) == 2 {
			a[2] = args[1] + "-" + strconv.Itoa(i) + ".db"
		}
		return b.exec(nil, b.python, a...)
	}
}
