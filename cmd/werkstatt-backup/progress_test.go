package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"werkstatt-backup/backup"
)

// TestProgressOnlyOnATerminal: the hook exists only for a terminal, and not
// with --quiet, --json or --verbose.
func TestProgressOnlyOnATerminal(t *testing.T) {
	yes := func(io.Writer) bool { return true }
	cases := []struct {
		name string
		a    app
		want bool
	}{
		{"terminal", app{isTerminal: yes}, true},
		{"pipe or file", app{isTerminal: func(io.Writer) bool { return false }}, false},
		{"not an *os.File (cron's capture)", app{stderr: &bytes.Buffer{}}, false},
		{"quiet", app{isTerminal: yes, quiet: true}, false},
		{"json", app{isTerminal: yes, jsonOut: true}, false},
		{"verbose", app{isTerminal: yes, verbose: true}, false},
	}
	for _, c := range cases {
		hook, stop := c.a.progress("export", "")
		if (hook != nil) != c.want {
			t.Errorf("%s: hook %v, want %v", c.name, hook != nil, c.want)
		}
		stop()
	}
	// A pipe is not a terminal.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if isTerminal(w) {
		t.Error("a pipe counts as a terminal")
	}
}

// TestProgressBarDraws feeds a bar the way the engine's workers do (from
// several goroutines, not always in order) and checks what a terminal
// would show: description, phase, count, then a cleared line.
func TestProgressBarDraws(t *testing.T) {
	var buf syncBuffer
	zero := time.Duration(0)
	a := &app{stderr: &buf, isTerminal: func(io.Writer) bool { return true }, barDelay: &zero}
	hook, stop := a.progress("export", "zentrale")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 400; i += 4 {
				hook(backup.PhaseWrite, i+1, 1000)
			}
		})
	}
	wg.Wait()
	stop() // an interrupted run: 400 of 1000
	out := buf.String()
	for _, want := range []string{"Export zentrale – Schreiben: ", "/1000 Aufträge"} {
		if !strings.Contains(out, want) {
			t.Errorf("bar lacks %q: %q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\r") {
		t.Errorf("bar not cleared at the end: %q", out[max(0, len(out)-40):])
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func lastLine(buf *bytes.Buffer) string {
	s := buf.String()
	return strings.TrimRight(s[strings.LastIndex(s, "\r")+1:], " ")
}
func newTestBar(buf *bytes.Buffer, c *fakeClock) *bar {
	return newBar(buf, "Export", "Aufträge", c.now)
}

// TestProgressPhases: every phase (reading, writing, syncing, renaming)
// shows its own count; the 99 % of writing does not sit on screen while
// the sync and the renames run; time left appears only once it can be
// estimated, and never as "0s".
func TestProgressPhases(t *testing.T) {
	var buf bytes.Buffer
	c := &fakeClock{t: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)}
	p := newTestBar(&buf, c)
	p.phase = backup.PhaseRead
	p.startAfter(0)
	if got := lastLine(&buf); got != "Export – Datenbank lesen: 0 Zeilen …" {
		t.Errorf("at once: %q", got)
	}
	c.add(time.Second)
	p.update(backup.PhaseRead, 500, -1)
	if got := lastLine(&buf); got != "Export – Datenbank lesen: 500 Zeilen …" {
		t.Errorf("reading: %q", got)
	}
	p.update(backup.PhaseWrite, 1, 1000)
	if got := lastLine(&buf); got != "Export – Schreiben: 1/1000 Aufträge (0 %)" {
		t.Errorf("writing starts its own count, no estimate yet: %q", got)
	}
	c.add(2 * time.Second)
	p.update(backup.PhaseWrite, 200, 1000)
	if got := lastLine(&buf); got != "Export – Schreiben: 200/1000 Aufträge (20 %), 100/s, noch 8s" {
		t.Errorf("writing: %q", got)
	}
	c.add(8 * time.Second)
	p.update(backup.PhaseWrite, 1000, 1000)
	if got := lastLine(&buf); got != "Export – Schreiben: 1000/1000 Aufträge (100 %), 100/s" {
		t.Errorf("writing done, nothing left: %q", got)
	}
	p.update(backup.PhaseSync, 0, 1)
	if got := lastLine(&buf); got != "Export – Synchronisieren …" {
		t.Errorf("syncing: %q", got)
	}
	c.add(3 * time.Second)
	p.update(backup.PhaseSync, 1, 1)
	p.update(backup.PhaseRename, 10, 1000)
	if got := lastLine(&buf); got != "Export – Umbenennen: 10/1000 Aufträge (1 %)" {
		t.Errorf("renaming: %q", got)
	}
	p.stop()
	if !strings.HasSuffix(buf.String(), "\r") {
		t.Errorf("not cleared: %q", buf.String())
	}
}

// TestProgressShowsAtOnceOnASlowStart: a cold-cache verify reports nothing
// for seconds while the first folders are listed; the line appears when the
// delay has passed, not with the first report.
func TestProgressShowsAtOnceOnASlowStart(t *testing.T) {
	var buf syncBuffer
	delay := time.Millisecond
	a := &app{stderr: &buf, isTerminal: func(io.Writer) bool { return true }, barDelay: &delay}
	_, stop := a.progress("verify", "")
	defer stop()
	deadline := time.Now().Add(time.Minute) // a safety net only
	for !strings.Contains(buf.String(), "Verify – Archiv durchsuchen: 0 Ordner …") {
		if time.Now().After(deadline) {
			t.Fatalf("no line without any report: %q", buf.String())
		}
		runtime.Gosched()
	}
}

// TestProgressBarWaitsForLongRuns: nothing is drawn before the delay.
func TestProgressBarWaitsForLongRuns(t *testing.T) {
	var buf syncBuffer
	delay := time.Hour
	a := &app{stderr: &buf, isTerminal: func(io.Writer) bool { return true }, barDelay: &delay}
	hook, stop := a.progress("verify", "")
	for i := range 100 {
		hook(backup.PhaseRead, i+1, 100)
	}
	stop()
	if buf.String() != "" {
		t.Fatalf("quick run drew a bar: %q", buf.String())
	}
}

// TestExportThroughAppPrintsNoBarWithoutTerminal runs a real export in
// process with stderr captured (as cron does): stderr stays empty.
func TestExportThroughAppPrintsNoBarWithoutTerminal(t *testing.T) {
	dir := workshop(t, 30)
	var out, errb bytes.Buffer
	a := &app{stdout: &out, stderr: &errb}
	root := a.rootCmd()
	root.SetArgs([]string{"export", "--workers", "1", "--db", filepath.Join(dir, "test_archiv", "werkstatt.db"),
		"--archiv", filepath.Join(dir, "test_archiv"), "--log-file", filepath.Join(dir, "backup_system.log")})
	root.SetOut(&out)
	root.SetErr(&errb)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err, errb.String())
	}
	if errb.Len() != 0 {
		t.Fatalf("stderr not empty: %q", errb.String())
	}
	if !strings.Contains(out.String(), "Export abgeschlossen: 30 erfolgreich, 0 Fehler") {
		t.Fatalf("stdout: %q", out.String())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProgressPDFBytes: a PDF phase shows files and the bytes read; the
// bytes' own reports do not start a new phase.
func TestProgressPDFBytes(t *testing.T) {
	var out strings.Builder
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newBar(&out, "Verify", "Sicherungen", func() time.Time { return now })
	p.show()
	p.update(backup.PhasePDFCheck, 1, 4)
	p.update(backup.PhasePDFCheck+backup.PhaseBytesSuffix, 2_500_000, -1)
	p.update(backup.PhasePDFCheck, 4, 4)
	if got := p.line(now); got != "Verify – PDFs prüfen: 4/4 PDFs (100 %), 2.5 MB" {
		t.Fatalf("line %q", got)
	}
}
