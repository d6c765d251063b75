package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"werkstatt-backup/backup"
	"werkstatt-backup/lock"
)

// The --lock-timeout bound (issue 22): whatever the lock file holds, a run
// gives up when its lock timeout ends, exit 4, naming the lock file, what
// it saw and unlock, and says on stderr that it waits (once, also without
// a terminal). The bounds below are generous (lock timeout + 60 s, far
// below the 3-minute lease the runs used to wait); the measured times are
// logged (go test -v).

// lockBound is how long past its lock timeout a run may take in these
// tests: start-up and the last look on a loaded machine, nothing like a
// lease (3 minutes).
const lockBound = 60 * time.Second

// expectLockTimeout checks a run that gave up waiting for the lock.
func expectLockTimeout(t *testing.T, r result, took, timeout time.Duration, saw ...string) {
	t.Helper()
	t.Logf("exit %d after %v (--lock-timeout %v); stderr:\n%s", r.code, took.Round(time.Millisecond), timeout, r.stderr)
	if r.code != exitLock {
		t.Fatalf("exit code %d after %v, want 4\nstdout:\n%s\nstderr:\n%s", r.code, took, r.stdout, r.stderr)
	}
	if took > timeout+lockBound {
		t.Errorf("took %v with --lock-timeout %v: it waited for the holder or a lease", took, timeout)
	}
	for _, want := range append(saw, lock.LockFileName, "nicht erhalten nach", "werkstatt-backup unlock") {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stderr, "Warte auf Lock "+lock.LockFileName); n != 1 {
		t.Errorf("stderr says %d times that it waits, want once:\n%s", n, r.stderr)
	}
}

// noLockHeld checks that nobody holds the lock of the local archive: no
// lock file, or a free record (on a store with compare-and-swap the lock
// file is never deleted).
func noLockHeld(t *testing.T, archive string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(archive, lock.LockFileName))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var info lock.LockInfo
	if err != nil || json.Unmarshal(raw, &info) != nil || !info.Free {
		t.Fatalf("lock left behind: %q, %v", raw, err)
	}
}

// timed runs the binary like wbEnv and measures it.
func timed(t *testing.T, dir string, env []string, args ...string) (result, time.Duration) {
	t.Helper()
	start := time.Now()
	r := wbEnv(t, dir, env, args...)
	return r, time.Since(start)
}

// TestEmptyLockTimesOut: an empty .backup.lock (a run killed while it
// created it, by an older version) with --lock-timeout 3s: exit 4 at the
// timeout with the reason on stderr. It used to wait a whole lease (3 min
// 0.4 s), saying nothing without a terminal.
func TestEmptyLockTimesOut(t *testing.T) {
	dir := workshop(t, 5)
	if err := os.WriteFile(filepath.Join(dir, "test_archiv", lock.LockFileName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r, took := timed(t, dir, nil, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv", "--lock-timeout", "3s")
	expectLockTimeout(t, r, took, 3*time.Second, "leere Lock-Datei")
}

// blockDB holds an exclusive lock on the SQLite database (rollback
// journal: readers wait), so that an export that has taken the archive
// lock stops at reading the rows and stays there, alive, until release.
func blockDB(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	var once bool
	release = func() {
		if once {
			return
		}
		once = true
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
	}
	t.Cleanup(release)
	return release
}

// holdingExport starts an export that takes the archive's lock and then
// waits for the database (blockDB), and returns once its lock is there.
func holdingExport(t *testing.T, dir string) (*exec.Cmd, <-chan lockRun) {
	t.Helper()
	cmd := crashSpawnEnv(t, dir, nil, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv", "--log-file", "halter.log")
	done := make(chan lockRun, 1)
	go func() { done <- waitRun(t, cmd) }()
	deadline := time.Now().Add(2 * time.Minute) // a safety net, not a measurement
	for {
		raw, err := os.ReadFile(filepath.Join(dir, "test_archiv", lock.LockFileName))
		var info lock.LockInfo
		if err == nil && json.Unmarshal(raw, &info) == nil && info.PID == cmd.Process.Pid {
			return cmd, done
		}
		select {
		case r := <-done:
			t.Fatalf("the holding export ended (exit %d) before it held the lock:\n%s", r.code, r.out)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the holding export did not take the lock within 2 minutes")
		}
	}
}

// TestLiveExportLockTimesOut: beside a live export (it holds the lock and
// refreshes it every 30 s), an export with --lock-timeout 2s exits 4
// naming the holder. It used to log "hat sich in 2s nicht verändert …
// wird weiter beobachtet", wait until the other export ended, then run
// (exit 0).
func TestLiveExportLockTimesOut(t *testing.T) {
	dir := workshop(t, 20)
	release := blockDB(t, filepath.Join(dir, "test_archiv", "werkstatt.db"))
	holder, done := holdingExport(t, dir)
	r, took := timed(t, dir, nil, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv", "--lock-timeout", "2s")
	release()
	var h *lockRun
	select {
	case x := <-done:
		h = &x
		// The holder gave up on the database (its 10 s busy timeout)
		// before the second run got its verdict. Only if the second run
		// never even saw the lock held was the machine too slow for this
		// test; otherwise it waited for the holder, which is the bug.
		log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
		if !strings.Contains(string(log), lock.LockFileName) && !strings.Contains(r.stderr, lock.LockFileName) {
			t.Skipf("machine too slow: the holder ended (exit %d) before the second run looked at the lock (%v)", h.code, took)
		}
		t.Logf("the holder ended (exit %d) while the second run waited", h.code)
	default:
	}
	expectLockTimeout(t, r, took, 2*time.Second, "gehalten von pid "+strconv.Itoa(holder.Process.Pid))
	if h == nil {
		x := <-done
		h = &x
	}
	if h.code != 0 && h.code != 1 { // 1: it gave up on the database, on a slow machine
		t.Errorf("the holding export: exit %d:\n%s", h.code, h.out)
	}
}

// TestStoppedHolderLockTimesOut: a holder paused with SIGSTOP (a
// suspended VM, a stalled NAS) and an export with --lock-timeout 2s: exit
// 4 naming it. It used to wait the whole 3-minute lease.
func TestStoppedHolderLockTimesOut(t *testing.T) {
	dir := workshop(t, 20)
	release := blockDB(t, filepath.Join(dir, "test_archiv", "werkstatt.db"))
	holder, done := holdingExport(t, dir)
	if err := holder.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			holder.Process.Signal(syscall.SIGCONT)
		}
	}()
	r, took := timed(t, dir, nil, "export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv", "--lock-timeout", "2s")
	expectLockTimeout(t, r, took, 2*time.Second, "gehalten von pid "+strconv.Itoa(holder.Process.Pid), "von hier beobachtet: seit 2s unverändert")
	release()
	holder.Process.Signal(syscall.SIGCONT)
	stopped = false
	if h := <-done; h.code != 0 {
		t.Errorf("the resumed export: exit %d:\n%s", h.code, h.out)
	}
}

// TestProgressShowsLockWait: while the run waits for the lock the
// progress line says so, and afterwards shows the phase it was in.
func TestProgressShowsLockWait(t *testing.T) {
	var buf bytes.Buffer
	c := &fakeClock{t: time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)}
	p := newTestBar(&buf, c)
	p.phase = backup.PhaseRead
	p.startAfter(0)
	p.update(backup.PhaseLock, 0, -1)
	if got := lastLine(&buf); got != "Export – warte auf Lock …" {
		t.Errorf("waiting: %q", got)
	}
	p.note("Warte auf Lock .backup.lock: pid 4711 auf host andere (export); höchstens 30s (--lock-timeout)")
	if !strings.Contains(buf.String(), "\nwerkstatt-backup: Warte auf Lock") && !strings.Contains(buf.String(), "\rwerkstatt-backup: Warte auf Lock") {
		t.Errorf("note not on a line of its own: %q", buf.String())
	}
	if got := lastLine(&buf); got != "Export – warte auf Lock …" {
		t.Errorf("after the note: %q", got)
	}
	p.update(backup.PhaseLock, 1, 1)
	if got := lastLine(&buf); got != "Export – Datenbank lesen: 0 Zeilen …" {
		t.Errorf("after the lock: %q", got)
	}
	p.stop()
}
