package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// baseline builds the werkstatt-backup the with/without rows compare
// with: ref "" is this tree built with -tags nohistory (export records no
// generation and runs no mass-change guard, everything else the same), a
// git ref a version without the history, from the repository wbbench runs
// in.
func (b *bench) baseline(ref string) (string, error) {
	if ref == "" {
		bin := filepath.Join(b.work, "werkstatt-backup-nohistory")
		if _, err := os.Stat(bin); err == nil {
			return bin, nil
		}
		build := exec.Command("go", "build", "-trimpath", "-tags", "nohistory", "-o", bin, "./cmd/werkstatt-backup")
		build.Dir = b.repo
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build -tags nohistory: %v\n%s", err, out)
		}
		return bin, nil
	}
	src := filepath.Join(b.work, "baseline-src-"+ref)
	bin := filepath.Join(b.work, "werkstatt-backup-"+ref)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // built by an earlier section
	}
	if err := mkdir(src); err != nil {
		return "", err
	}
	if m, err := b.sh(nil, fmt.Sprintf("git -C %q archive %s | tar -x -C %q", b.repo, ref, src)); err != nil {
		return "", fmt.Errorf("Vergleichsstand %s auspacken (%s): %w", ref, fmtDur(m.d), err)
	}
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./cmd/werkstatt-backup")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build des Vergleichsstands %s: %v\n%s", ref, err, out)
	}
	return bin, nil
}

// history measures what the history costs: a fresh and an unchanged export
// of b.orders orders beside the same export by the baseline binary (no
// history), restore --at beside a plain restore of the same archive, and
// the archive growth of 365 daily generations (history package benchmark).
func (b *bench) history(ref string) error {
	base, err := b.baseline(ref)
	if err != nil {
		return err
	}
	db, err := b.sampleDB(b.orders)
	if err != nil {
		return err
	}
	dir := filepath.Join(b.work, "historie")
	ours := func(i int) string { return filepath.Join(dir, "mit-"+strconv.Itoa(i)) }
	theirs := func(i int) string { return filepath.Join(dir, "ohne-"+strconv.Itoa(i)) }
	n := thousands(b.orders)
	without := "the same export without history (" + ref + ")"
	if ref == "" {
		without = "the same binary built with -tags nohistory"
	}
	ratioRow := func(work, target string, limit float64, o, p []measurement) {
		bo, bp := best(o), best(p)
		ratio := float64(bo.d) / float64(bp.d)
		r := row{work: work, target: target, ours: bo, peer: bp, peerName: without, met: yes(ratio <= limit)}
		b.rows = append(b.rows, r)
		if ratio > limit {
			r.noted = true
			b.rows[len(b.rows)-1] = r
			b.notes = append(b.notes, fmt.Sprintf("%s: %.2f× the time without history (target %.2f×): %s against %s, CPU %s against %s.",
				work, ratio, limit, fmtDur(bo.d), fmtDur(bp.d), fmtDur(bo.cpu), fmtDur(bp.cpu)))
		}
	}

	b.logf("Historie: Export %s Aufträge in ein neues Archiv, im Wechsel mit %s", n, without)
	o, p, err := b.series(b.runs, func(i int) (measurement, error) {
		if err := mkdir(ours(i)); err != nil {
			return measurement{}, err
		}
		return b.wb(nil, "export", "--db", db, "--archiv", ours(i))
	}, func(i int) (measurement, error) {
		if err := mkdir(theirs(i)); err != nil {
			return measurement{}, err
		}
		return b.exec(nil, base, "export", "--db", db, "--archiv", theirs(i), "--quiet", "--log-file", filepath.Join(b.work, "baseline.log"))
	})
	if err != nil {
		return err
	}
	ratioRow("export "+n+" orders, fresh archive, with history", "≤ 1.15× without history", 1.15, o, p)

	b.logf("Historie: Export ohne Änderungen, im Wechsel mit %s", without)
	o, p, err = b.series(b.runs, func(int) (measurement, error) {
		return b.wb(nil, "export", "--db", db, "--archiv", ours(1))
	}, func(int) (measurement, error) {
		return b.exec(nil, base, "export", "--db", db, "--archiv", theirs(1), "--quiet", "--log-file", filepath.Join(b.work, "baseline.log"))
	})
	if err != nil {
		return err
	}
	ratioRow("export "+n+" orders, nothing changed, with history (one generation per run)", "≤ 1.10× without history", 1.10, o, p)

	b.logf("Historie: restore --at im Wechsel mit einem normalen Restore")
	at := time.Now().Format(time.RFC3339)
	o, p, err = b.series(b.runs, func(i int) (measurement, error) {
		return b.wb(nil, "restore", "--at", at, "--db", filepath.Join(dir, "at-"+strconv.Itoa(i)+".db"), "--archiv", ours(1))
	}, func(i int) (measurement, error) {
		return b.wb(nil, "restore", "--db", filepath.Join(dir, "plain-"+strconv.Itoa(i)+".db"), "--archiv", ours(1))
	})
	if err != nil {
		return err
	}
	bo, bp := best(o), best(p)
	r := row{work: "restore --at " + n + " orders (from the history)", target: "≤ 1.5× plain restore",
		ours: bo, peer: bp, peerName: "plain restore of the same archive", met: yes(float64(bo.d) <= 1.5*float64(bp.d))}
	b.rows = append(b.rows, r)

	b.logf("Historie: Wachstum über 365 tägliche Generationen (go test -bench BenchmarkHistoryGrowth)")
	t := time.Now()
	bench := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkHistoryGrowth$", "-benchtime", "1x", "./history")
	bench.Dir = b.repo
	out, err := bench.CombinedOutput()
	if err != nil {
		return fmt.Errorf("BenchmarkHistoryGrowth: %v\n%s", err, tail(string(out), 20))
	}
	metric := func(name string) float64 {
		m := regexp.MustCompile(`([0-9.e+]+) ` + regexp.QuoteMeta(name) + `\b`).FindSubmatch(out)
		if m == nil {
			return 0
		}
		f, _ := strconv.ParseFloat(string(m[1]), 64)
		return f
	}
	x, hist, full := metric("x-fullset"), metric("history-bytes"), metric("fullset-bytes")
	b.rows = append(b.rows, row{work: fmt.Sprintf("history of 365 daily generations, 10,000 orders, 1 %% changed per day: %.1f MB (%.0f files) against %.1f MB for one full set of backups (`BenchmarkHistoryGrowth`, in memory, %s)",
		hist/1e6, metric("history-files"), full/1e6, since(t)),
		target: "< 3× one full set", peerName: "–", met: yes(x > 0 && x < 3) + fmt.Sprintf(" (%.2f×)", x)})
	return nil
}
