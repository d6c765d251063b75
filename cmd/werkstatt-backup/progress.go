package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"

	"werkstatt-backup/monitor"
)

// progressDelay: runs shorter than this show no bar at all.
const progressDelay = 700 * time.Millisecond

// isTerminal reports whether w is a terminal (and not a pipe, a file or
// cron's mail).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progress returns a hook for backup.Engine.Progress that draws a bar with
// count, rate and ETA on stderr, and a function that removes the bar when
// the run ends. The hook is nil (no bar, no cost) unless stderr is a
// terminal and neither --quiet, --json nor --verbose (whose log lines on
// stderr would tear the bar) is given. The bar appears only once a run has
// lasted progressDelay, so quick runs print nothing extra.
func (a *app) progress(op, site string) (func(done, total int), func()) {
	term := a.isTerminal
	if term == nil {
		term = isTerminal
	}
	if a.quiet || a.jsonOut || a.verbose || !term(a.stderr) {
		return nil, func() {}
	}
	desc := monitor.Title(op)
	if site != "" {
		desc += " " + site
	}
	its := "Sicherungen"
	if op == "export" {
		its = "Aufträge"
	}
	p := &bar{w: &delayedWriter{w: a.stderr, from: time.Now().Add(a.progressDelay())}, desc: desc, its: its}
	return p.update, p.stop
}

func (a *app) progressDelay() time.Duration {
	if a.barDelay != nil {
		return *a.barDelay
	}
	return progressDelay
}

// bar is one run's progress bar. The engine reports from several workers at
// once and not always in order; the bar only moves forward. A new total
// (the next phase of a run) starts a new bar.
type bar struct {
	mu    sync.Mutex
	w     io.Writer
	desc  string
	its   string
	b     *progressbar.ProgressBar
	total int
	done  int
}

func (p *bar) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.b == nil || total != p.total {
		p.clear()
		p.total, p.done = total, 0
		p.b = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString(p.its),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	if done > p.done {
		p.done = done
		_ = p.b.Set(done)
	}
}

// stop removes the bar, finished or not (an interrupted run).
func (p *bar) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
}

func (p *bar) clear() {
	if p.b == nil {
		return
	}
	if !p.b.IsFinished() {
		_ = p.b.Exit()
		_ = p.b.Clear()
	}
	p.b = nil
}

// delayedWriter swallows what is written before from, so a bar appears only
// on long runs while its rate and ETA count from the run's start.
type delayedWriter struct {
	w    io.Writer
	from time.Time
}

func (d *delayedWriter) Write(b []byte) (int, error) {
	if time.Now().Before(d.from) {
		return len(b), nil
	}
	return d.w.Write(b)
}
