package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
)

// The tests of issue 13: the lock holds across pid namespaces with the
// same host name, across holders' clocks, and a run that lost it (here:
// stopped past its lease) writes nothing more.

// needPidNS skips unless this process may create pid namespaces (root).
func needPidNS(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare --pid not possible here (needs root): %v %s", err, out)
	}
}

// spawnInPidNS starts the binary in a new pid namespace (same host name,
// same machine, same boot), like crashSpawnEnv.
func spawnInPidNS(t *testing.T, dir string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	return startCmd(t, dir, env, exec.Command("unshare", append([]string{"--pid", "--fork", "--mount-proc", binary}, args...)...))
}

// waitRun waits for cmd (2 minutes at most) and returns its exit code
// and output.
func waitRun(t *testing.T, cmd *exec.Cmd) lockRun {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v did not end within 2 minutes:\n%s", cmd.Args, cmd.Stdout)
	}
	r := lockRun{out: cmd.Stdout.(*bytes.Buffer).String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%v: %v", cmd.Args, err)
	}
	return r
}

func expectNoTakeover(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, "Veralteten Lock übernommen") {
		t.Fatalf("%s took over a live lock:\n%s", what, out)
	}
}

// TestSameHostOtherPidNamespace: two runs with the same host name, one in
// a new pid namespace, where the other's pid does not exist. A live lock
// is never taken over: the second run waits its turn or exits 4, and the
// archive verifies without an error afterwards.
func TestSameHostOtherPidNamespace(t *testing.T) {
	needPidNS(t)
	dir := workshop(t, 300)
	samePidNSRuns(t, dir, 300, nil, "test_archiv", filepath.Join(dir, "test_archiv"))
}

func TestSameHostOtherPidNamespaceSMB(t *testing.T) {
	needPidNS(t)
	site := newSMBSite(t)
	dir := workshop(t, 100)
	samePidNSRuns(t, dir, 100, site.env, site.url, site.dir())
}

func samePidNSRuns(t *testing.T, dir string, orders int, env []string, arg, archive string) {
	const db = "test_archiv/werkstatt.db"
	// A live holder in this (outer) pid namespace: this test process.
	held, err := lock.AcquireLock(context.Background(), localArchive(afero.NewBasePathFs(afero.NewOsFs(), archive)),
		lock.LockOptions{Operation: "export", Version: "test", Refresh: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	short := append([]string{lock.TestLeaseEnv + "=2s"}, env...)
	r := waitRun(t, spawnInPidNS(t, dir, short, "export", "--db", db, "--archiv", arg, "--lock-timeout", "1s"))
	expectNoTakeover(t, "export in another pid namespace", r.out)
	if r.code != 4 || !strings.Contains(r.out, fmt.Sprintf("gehalten von pid %d auf host ", os.Getpid())) {
		t.Fatalf("export in another pid namespace: exit %d, want 4 naming the holder:\n%s", r.code, r.out)
	}
	r = waitRun(t, spawnInPidNS(t, dir, short, "unlock", "--archiv", arg))
	if r.code != 4 || !strings.Contains(r.out, "unlock --remove-all") {
		t.Fatalf("unlock in another pid namespace: exit %d, want 4 pointing to --remove-all:\n%s", r.code, r.out)
	}
	if err := held.Valid(); err != nil {
		t.Fatalf("the holder lost its lock: %v", err)
	}
	if err := held.Release(); err != nil {
		t.Fatal(err)
	}

	// Two real exports at once, one in each namespace, both waiting
	// their turn: never inside together.
	args := []string{"export", "--full", "--verbose", "--workers", "2", "--db", db, "--archiv", arg,
		"--log-file", "lock.log", "--lock-timeout", "2m"}
	outer := crashSpawnEnv(t, dir, env, args...)
	inner := spawnInPidNS(t, dir, env, args...)
	for _, c := range []*exec.Cmd{outer, inner} {
		r := waitRun(t, c)
		expectNoTakeover(t, "concurrent export", r.out)
		if r.code != 0 {
			t.Fatalf("%v: exit %d:\n%s", c.Args, r.code, r.out)
		}
	}
	checkSerialised(t, filepath.Join(dir, "lock.log"), orders, 2)
	wbEnv(t, dir, env, "verify", "--archiv", arg, "--db", db).expect(t, 0)
}

// fileState is a backup file's modification time and content.
type fileState struct {
	mtime time.Time
	data  string
}

// backupFiles reads every data.csv and meta.json below root.
func backupFiles(t *testing.T, root string) map[string]fileState {
	t.Helper()
	files := map[string]fileState{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (d.Name() != "data.csv" && d.Name() != "meta.json") {
			return err
		}
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[p] = fileState{fi.ModTime(), string(b)}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestStoppedHolderWritesNothingAfterResume is finding 3 of issue 13: an
// export stopped (SIGSTOP) past its lease is taken over by a second
// export; continued (SIGCONT), it changes no backup, exits 1 and names
// what it did not write. The archive verifies without an error.
func TestStoppedHolderWritesNothingAfterResume(t *testing.T) {
	// The stop comes at the first temp file (inotify), so the stopped run
	// has nearly all orders left to not write at any size.
	const orders = 300
	dir := workshop(t, orders)
	archive := filepath.Join(dir, "test_archiv")
	base := []string{"export", "--full", "--workers", "2", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv"}
	wb(t, dir, base...).expect(t, 0) // every order folder exists: inotify sees the stage

	env := []string{lock.TestLeaseEnv + "=3s"} // refreshed every 500ms; stops writing 2s after
	fire, stop := crashWatch(t, archive, false, 1)
	defer stop()
	first := crashSpawnEnv(t, dir, env, append(base, "--log-file", "erster.log")...)
	select {
	case <-fire: // the first run stages its first temp file
	case <-time.After(time.Minute):
		first.Process.Kill()
		t.Fatalf("the first export wrote no temp file within a minute:\n%s", first.Stdout)
	}
	if err := first.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := true
	defer func() {
		if stopped {
			first.Process.Signal(syscall.SIGCONT)
			first.Process.Kill()
		}
	}()

	// The second sees the stopped run's lock unchanged for a lease and
	// takes it over.
	r := wbEnv(t, dir, env, append(base, "--lock-timeout", "1m", "--log-file", "zweiter.log")...).expect(t, 0)
	log, _ := os.ReadFile(filepath.Join(dir, "zweiter.log"))
	if !strings.Contains(string(log), "WARNING - Veralteten Lock übernommen: pid ") || !strings.Contains(string(log), "unverändert (Lease 3s, von hier beobachtet)") {
		t.Fatalf("second export: no takeover logged:\n%s\n%s", r.stdout, log)
	}
	before := backupFiles(t, archive)
	if len(before) != 2*orders {
		t.Fatalf("%d backup files, want %d", len(before), 2*orders)
	}

	if err := first.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	stopped = false
	res := waitRun(t, first)
	if res.code != 1 {
		t.Fatalf("the resumed export exited %d, want 1:\n%s", res.code, res.out)
	}
	for _, want := range []string{"nicht geschrieben: Lock .backup.lock", "Lock verloren", "Aufträge konnten nicht gesichert werden"} {
		if !strings.Contains(res.out, want) {
			t.Errorf("the resumed export does not say %q:\n%s", want, res.out)
		}
	}
	after := backupFiles(t, archive)
	changed := 0
	for p, b := range before {
		if a := after[p]; a != b {
			changed++
			if changed <= 5 {
				t.Errorf("%s changed after the resume: %v -> %v", p, b.mtime, a.mtime)
			}
		}
	}
	if changed > 0 || len(after) != len(before) {
		t.Fatalf("the resumed export changed %d backup files (%d files before, %d after)", changed, len(before), len(after))
	}
	r = wb(t, dir, "verify", "--archiv", "test_archiv", "--db", "test_archiv/werkstatt.db").expect(t, 0)
	if !strings.Contains(r.stdout, fmt.Sprintf("%d gültig, 0 Fehler", orders)) {
		t.Fatalf("verify: %s", r.stdout)
	}
}

// skewedHolder is a live holder on a machine whose clock is off by skew:
// it rewrites the lock every 50ms with the next counter, same token, its
// times skew away from ours, until the returned stop is called.
func skewedHolder(t *testing.T, archive string, skew time.Duration) (stop func()) {
	t.Helper()
	a := localArchive(afero.NewBasePathFs(afero.NewOsFs(), archive))
	write := func(n uint64) {
		at := time.Now().Add(skew)
		info := lock.LockInfo{PID: 4711, Host: "andere-werkstatt", MachineID: "andere", Operation: "export",
			Created: at, Refreshed: at, Counter: n, Token: "fremd"}
		b, _ := json.Marshal(info)
		if err := a.Replace(context.Background(), lock.LockFileName, lock.LockFileName+".fremd.tmp", b); err != nil {
			t.Error(err)
		}
	}
	write(0)
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for n := uint64(1); ; n++ {
			select {
			case <-quit:
				return
			case <-tick.C:
				write(n)
			}
		}
	}()
	return func() { close(quit); <-done }
}

// TestHolderClockSkew is finding 2 of issue 13: a live holder whose clock
// is 11 minutes behind or 2 hours ahead keeps its lock; a dead one whose
// clock was 2 hours ahead is taken over after one observed lease (2s
// here, with a lock timeout of 5s), not after hours.
func TestHolderClockSkew(t *testing.T) {
	dir := workshop(t, 5)
	archive := filepath.Join(dir, "test_archiv")
	env := []string{lock.TestLeaseEnv + "=2s"}
	export := []string{"export", "--db", "test_archiv/werkstatt.db", "--archiv", "test_archiv", "--lock-timeout", "1s"}
	for _, skew := range []time.Duration{-11 * time.Minute, 2 * time.Hour} {
		stop := skewedHolder(t, archive, skew)
		r := wbEnv(t, dir, env, export...)
		stop()
		expectNoTakeover(t, "export", r.stdout+r.stderr)
		if r.code != 4 || !strings.Contains(r.stderr, "gehalten von pid 4711 auf host andere-werkstatt") {
			t.Fatalf("live holder %v off: exit %d, want 4 naming it:\n%s%s", skew, r.code, r.stdout, r.stderr)
		}
	}
	// Dead, its last times 2 hours ahead: watched for a lease (within a
	// lock timeout longer than that), taken over.
	r := wbEnv(t, dir, env, append(export, "--lock-timeout", "5s")...).expect(t, 0)
	log, _ := os.ReadFile(filepath.Join(dir, "backup_system.log"))
	for _, want := range []string{"Warte auf Lock .backup.lock: pid 4711 auf host andere-werkstatt", "WARNING - Veralteten Lock übernommen: pid 4711 auf host andere-werkstatt",
		"unverändert (Lease 2s, von hier beobachtet)"} {
		if !strings.Contains(string(log), want) {
			t.Fatalf("log lacks %q:\n%s\n%s", want, r.stdout, log)
		}
	}
	// unlock, too, watches a dead lock for a lease and then removes it.
	stop := skewedHolder(t, archive, 2*time.Hour)
	stop()
	r = wbEnv(t, dir, env, "unlock", "--archiv", "test_archiv").expect(t, 0)
	if !strings.Contains(r.stderr, "Er wird 2s lang beobachtet") || !strings.Contains(r.stdout, "Lock entfernt: pid 4711 auf host andere-werkstatt") {
		t.Fatalf("unlock: %s%s", r.stdout, r.stderr)
	}
	// An unreadable lock file is called that.
	os.WriteFile(filepath.Join(archive, lock.LockFileName), []byte("{kaputt"), 0o644)
	r = wbEnv(t, dir, env, "unlock", "--archiv", "test_archiv", "--remove-all").expect(t, 0)
	if !strings.Contains(r.stdout, "Lock entfernt: unlesbare Lock-Datei") || strings.Contains(r.stdout, "pid 0") {
		t.Fatalf("unlock of an unreadable lock: %s", r.stdout)
	}
	wb(t, dir, "verify", "--archiv", "test_archiv", "--db", "test_archiv/werkstatt.db").expect(t, 0)
}
