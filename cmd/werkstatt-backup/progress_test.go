package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
// would show: description, count, rate and ETA, then a cleared line.
func TestProgressBarDraws(t *testing.T) {
	var buf syncBuffer
	zero := time.Duration(0)
	a := &app{stderr: &buf, isTerminal: func(io.Writer) bool { return true }, barDelay: &zero}
	hook, stop := a.progress("export", "zentrale")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 400; i += 4 {
				hook(i+1, 1000)
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	stop() // an interrupted run: 400 of 1000
	out := buf.String()
	for _, want := range []string{"Export zentrale", "/1000", "Aufträge/s", "["} {
		if !strings.Contains(out, want) {
			t.Errorf("bar lacks %q: %q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\r") {
		t.Errorf("bar not cleared at the end: %q", out[max(0, len(out)-40):])
	}
}

// TestProgressBarWaitsForLongRuns: nothing is drawn before the delay.
func TestProgressBarWaitsForLongRuns(t *testing.T) {
	var buf syncBuffer
	delay := time.Hour
	a := &app{stderr: &buf, isTerminal: func(io.Writer) bool { return true }, barDelay: &delay}
	hook, stop := a.progress("verify", "")
	for i := range 100 {
		hook(i+1, 100)
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
