package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-isatty"

	"werkstatt-backup/backup"
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

// progress returns a hook for backup.Engine.Progress that shows on stderr
// the phase a run is in (listing, reading, writing, syncing, renaming) with
// its own count, rate and, once it can be estimated, the time left, and a
// function that removes the line when the run ends. The hook is nil (no
// line, no cost) unless stderr is a terminal and neither --quiet, --json nor
// --verbose (whose log lines on stderr would tear the line) is given. The
// line appears once a run has lasted progressDelay, whatever the engine
// reported by then, so quick runs print nothing extra and slow starts (a
// cold cache) are visible at once.
func (a *app) progress(op, site string) (func(phase string, done, total int), func()) {
	hook, _, stop := a.progressNotice(op, site)
	return hook, stop
}

// progressNotice is progress with a hook for backup.Engine.Notice: a line
// for the user on stderr while the run is under way (that it waits for
// the lock), also without a terminal; on a terminal it goes above the
// progress line. Nothing with --quiet, and nothing extra with --verbose,
// whose log lines on stderr say it already.
func (a *app) progressNotice(op, site string) (func(phase string, done, total int), func(msg string), func()) {
	term := a.isTerminal
	if term == nil {
		term = isTerminal
	}
	notice := func(msg string) {
		if !a.quiet && !a.verbose {
			fmt.Fprintln(a.stderr, "werkstatt-backup: "+msg)
		}
	}
	if a.quiet || a.jsonOut || a.verbose || !term(a.stderr) {
		return nil, notice, func() {}
	}
	desc := backup.Title(op)
	if site != "" {
		desc += " " + site
	}
	its := "Sicherungen"
	if op == "export" {
		its = "Aufträge"
	}
	p := newBar(a.stderr, desc, its, time.Now)
	p.phase = backup.PhaseList
	if op == "export" {
		p.phase = backup.PhaseRead
	}
	p.startAfter(a.progressDelay())
	return p.update, p.note, p.stop
}

func (a *app) progressDelay() time.Duration {
	if a.barDelay != nil {
		return *a.barDelay
	}
	return progressDelay
}

// bar is one run's progress line. The engine reports from several workers
// at once and not always in order; within a phase the count only moves
// forward. A new phase starts its own count, rate and estimate.
type bar struct {
	mu         sync.Mutex
	w          io.Writer
	desc, its  string
	now        func() time.Time
	visible    bool // the delay has passed: draw
	stopped    bool
	timer      *time.Timer
	phase      string
	before     string // the phase a wait for the lock interrupted
	done       int
	bytes      int64 // PDF phases: bytes read so far (phase+PhaseBytesSuffix)
	total      int   // < 0: not known yet
	phaseStart time.Time
	lastDraw   time.Time
	width      int // runes of the line on screen, for overwriting it
}

func newBar(w io.Writer, desc, its string, now func() time.Time) *bar {
	return &bar{w: w, desc: desc, its: its, now: now, total: -1, phaseStart: now()}
}

// startAfter makes the line appear after d, at once if d <= 0.
func (p *bar) startAfter(d time.Duration) {
	if d <= 0 {
		p.show()
		return
	}
	p.timer = time.AfterFunc(d, p.show)
}

// show makes the line visible and draws what is known now.
func (p *bar) show() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.visible = true
	p.draw()
}

// redrawEvery: the line is redrawn at most this often within a phase.
const redrawEvery = 100 * time.Millisecond

func (p *bar) update(phase string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if phase == backup.PhaseLock {
		p.lockWait(done, total)
		return
	}
	if strings.HasSuffix(phase, backup.PhaseBytesSuffix) {
		p.bytes = max(p.bytes, int64(done)) // drawn with the phase's next count
		return
	}
	started := phase != p.phase || total != p.total && p.total >= 0
	if started {
		p.phase, p.done, p.phaseStart, p.bytes = phase, 0, p.now(), 0
	}
	p.total = total
	if done <= p.done && !started {
		return
	}
	p.done = max(p.done, done)
	if p.visible && (started || done == total || p.now().Sub(p.lastDraw) >= redrawEvery) {
		p.draw()
	}
}

// lockWait shows "warte auf Lock" while the run waits for the archive's
// lock (done < total) and, once it has it, the phase it was in before.
func (p *bar) lockWait(done, total int) {
	switch {
	case done < total || total < 0:
		if p.phase != backup.PhaseLock {
			p.before = p.phase
		}
		p.phase, p.done, p.total, p.phaseStart = backup.PhaseLock, 0, -1, p.now()
	case p.phase == backup.PhaseLock:
		p.phase, p.done, p.total, p.phaseStart = p.before, 0, -1, p.now()
	default:
		return
	}
	if p.visible {
		p.draw()
	}
}

// note prints msg as a line of its own above the progress line.
func (p *bar) note(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
	fmt.Fprintln(p.w, "werkstatt-backup: "+msg)
	if p.visible && !p.stopped {
		p.draw()
	}
}

// line renders the state: "Export zentrale – Schreiben: 400/1000 Aufträge
// (40 %), 120/s, noch 5s".
func (p *bar) line(now time.Time) string {
	label, unit := phaseLabel(p.phase, p.its)
	var b strings.Builder
	fmt.Fprintf(&b, "%s – %s", p.desc, label)
	switch {
	case p.phase == backup.PhaseSync || p.phase == backup.PhaseLock:
		b.WriteString(" …")
		return b.String()
	case p.total < 0:
		fmt.Fprintf(&b, ": %d %s …", p.done, unit)
		return b.String()
	case p.total > 0:
		fmt.Fprintf(&b, ": %d/%d %s (%d %%)", p.done, p.total, unit, p.done*100/p.total)
	}
	if p.bytes > 0 {
		fmt.Fprintf(&b, ", %.1f MB", float64(p.bytes)/1e6)
	}
	took := now.Sub(p.phaseStart)
	if took < time.Second || p.done == 0 {
		return b.String() // too early for a rate or an estimate
	}
	rate := float64(p.done) / took.Seconds()
	fmt.Fprintf(&b, ", %.0f/s", rate)
	if left := time.Duration(float64(p.total-p.done) / rate * float64(time.Second)); left >= time.Second {
		fmt.Fprintf(&b, ", noch %s", monitor.Age(left.Round(time.Second)))
	}
	return b.String()
}

// phaseLabel names a phase and what it counts.
func phaseLabel(phase, its string) (string, string) {
	switch phase {
	case backup.PhaseList:
		return "Archiv durchsuchen", "Ordner"
	case backup.PhaseRead:
		if its == "Aufträge" {
			return "Datenbank lesen", "Zeilen"
		}
		return "Sicherungen prüfen", its
	case backup.PhaseWrite:
		return "Schreiben", its
	case backup.PhaseSync:
		return "Synchronisieren", ""
	case backup.PhaseRename:
		return "Umbenennen", its
	case backup.PhaseLock:
		return "warte auf Lock", ""
	case backup.PhasePDFCheck:
		return "PDFs prüfen", "PDFs"
	case backup.PhasePDFCopy:
		return "PDFs lesen und kopieren", "PDFs"
	case backup.PhasePDFRestore:
		return "PDFs wiederherstellen", "PDFs"
	}
	return phase, its
}

func (p *bar) draw() {
	now := p.now()
	p.lastDraw = now
	s := p.line(now)
	n := utf8.RuneCountInString(s)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", max(0, p.width-n)))
	p.width = n
}

// stop removes the line, finished or not (an interrupted run).
func (p *bar) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer != nil {
		p.timer.Stop()
	}
	p.stopped = true
	if p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
}
