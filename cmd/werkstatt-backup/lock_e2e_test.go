package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lockRun is one of the concurrent exports.
type lockRun struct {
	code int
	out  string
}

// runConcurrently starts n copies of the binary with args at once and
// waits for all of them.
func runConcurrently(t *testing.T, dir string, env []string, n int, args ...string) []lockRun {
	t.Helper()
	runs := make([]lockRun, n)
	cmds := make([]*exec.Cmd, n)
	for i := range cmds {
		cmds[i] = crashSpawnEnv(t, dir, env, args...)
	}
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		wg.Go(func() {
			err := cmd.Wait()
			var ee *exec.ExitError
			switch {
			case errors.As(err, &ee):
				runs[i].code = ee.ExitCode()
			case err != nil:
				t.Errorf("run %d: %v", i, err)
			}
			runs[i].out = cmd.Stdout.(interface{ String() string }).String()
		})
	}
	wg.Wait()
	return runs
}

// checkSerialised reads the shared, appended log and checks that the runs
// that got the lock did not overlap: each logs one "✓ Exportiert" line per
// record (--full --verbose), all inside the lock, then "Export
// abgeschlossen" before it releases the lock. The lines of one run are
// therefore never interleaved with another's: between two summary lines
// stand exactly the record lines of one run.
func checkSerialised(t *testing.T, logFile string, records, wantRuns int) {
	t.Helper()
	raw, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	inside, runs := 0, 0
	for _, line := range strings.Split(string(raw), "\n") {
		switch {
		case strings.Contains(line, " - DEBUG - ✓ Exportiert: "):
			inside++
		case strings.Contains(line, " - INFO - Export abgeschlossen: "):
			if inside != records {
				t.Fatalf("run %d logged %d record lines before its summary, want %d: two runs were inside at once\n%s",
					runs+1, inside, records, raw)
			}
			inside = 0
			runs++
		}
	}
	if inside != 0 || runs != wantRuns {
		t.Fatalf("%d complete runs (want %d), %d record lines after the last summary", runs, wantRuns, inside)
	}
}

// TestConcurrentExportsAreSerialised starts 10 exports of one archive at
// once. With a long --lock-timeout all of them wait their turn and succeed,
// one after the other; with --lock-timeout 0s the ones that find the lock
// taken exit 4 naming the holder, the others succeed, never two at once.
func TestConcurrentExportsAreSerialised(t *testing.T) {
	const orders = 40
	dir := workshop(t, orders)
	concurrentExports(t, dir, orders, nil, "test_archiv", filepath.Join(dir, "test_archiv"))
}

// concurrentExports is TestConcurrentExportsAreSerialised on any archive:
// arg is what --archiv gets, archive its folder on this machine.
func concurrentExports(t *testing.T, dir string, orders int, env []string, arg, archive string) {
	const runs = 10
	base := []string{"export", "--full", "--verbose", "--workers", "2",
		"--db", "test_archiv/werkstatt.db", "--archiv", arg, "--log-file", "lock.log"}

	for _, r := range runConcurrently(t, dir, env, runs, append(base, "--lock-timeout", "2m")...) {
		if r.code != 0 {
			t.Fatalf("an export that could wait failed with %d:\n%s", r.code, r.out)
		}
	}
	checkSerialised(t, filepath.Join(dir, "lock.log"), orders, runs)

	os.Remove(filepath.Join(dir, "lock.log"))
	ok, refused := 0, 0
	for _, r := range runConcurrently(t, dir, env, runs, append(base, "--lock-timeout", "0s")...) {
		switch r.code {
		case 0:
			ok++
		case 4:
			refused++
			if !strings.Contains(r.out, "Lock .backup.lock nicht erhalten: gehalten von pid ") {
				t.Errorf("exit 4 without naming the holder:\n%s", r.out)
			}
		default:
			t.Fatalf("exit %d, want 0 or 4:\n%s", r.code, r.out)
		}
	}
	t.Logf("--lock-timeout 0s: %d ran, %d exited 4", ok, refused)
	if ok == 0 {
		t.Fatal("no export got the lock")
	}
	checkSerialised(t, filepath.Join(dir, "lock.log"), orders, ok)
	noLockHeld(t, archive)
	wbEnv(t, dir, env, "verify", "--archiv", arg, "--db", "test_archiv/werkstatt.db").expect(t, 0)
}
