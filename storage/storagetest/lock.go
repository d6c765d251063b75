package storagetest

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
)

func acquire(t *testing.T, a *storage.Archive, opts lock.LockOptions) *lock.Lock {
	t.Helper()
	l, err := lock.AcquireLock(context.Background(), a, opts)
	if err != nil {
		t.Fatalf("AcquireLock: %v", err)
	}
	return l
}

func testLockContention(t *testing.T, a *storage.Archive) {
	l1 := acquire(t, a, lock.LockOptions{Operation: "export", Version: "test"})
	start := time.Now()
	_, err := lock.AcquireLock(context.Background(), a, lock.LockOptions{
		Operation: "restore", Timeout: 300 * time.Millisecond, Poll: 20 * time.Millisecond})
	var le *lock.LockError
	if !errors.As(err, &le) {
		t.Fatalf("second AcquireLock: err = %v, want *LockError", err)
	}
	if time.Since(start) < 300*time.Millisecond || le.Waited < 300*time.Millisecond {
		t.Errorf("gave up after %v (Waited %v), want >= 300ms", time.Since(start), le.Waited)
	}
	if le.Holder == nil || le.Holder.Token != l1.Info().Token || le.Holder.Operation != "export" {
		t.Errorf("LockError.Holder = %+v, want the first holder %+v", le.Holder, l1.Info())
	}
	if msg := le.Error(); !strings.Contains(msg, "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(msg, "export") {
		t.Errorf("LockError = %q, want it to name pid and operation", msg)
	}
	if err := l1.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	l2 := acquire(t, a, lock.LockOptions{Operation: "restore"})
	if err := l2.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantNoLock(t, a, "after Release")
}

// wantNoLock checks that nobody holds the archive's lock: no lock file,
// or (on a store with compare-and-swap, where it is never deleted) a
// free record.
func wantNoLock(t *testing.T, a *storage.Archive, when string) {
	t.Helper()
	held, info, err := lock.Held(context.Background(), a)
	if err != nil || held {
		t.Errorf("lock %s: held %v by %+v, %v; want none or a free record", when, held, info, err)
	}
	if !a.Caps.CompareAndSwap {
		_, err := a.Fs.Stat(lock.LockFileName)
		wantNotExist(t, "lock file "+when+" (no compare-and-swap: removed)", err)
	}
}

// otherThanLock is names without the lock file.
func otherThanLock(names []string) []string {
	var out []string
	for _, n := range names {
		if n != lock.LockFileName {
			out = append(out, n)
		}
	}
	return out
}

func testLockWaitsForRelease(t *testing.T, a *storage.Archive) {
	l1 := acquire(t, a, lock.LockOptions{Operation: "export"})
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = l1.Release()
	}()
	l2 := acquire(t, a, lock.LockOptions{Operation: "verify", Timeout: 10 * time.Second, Poll: 10 * time.Millisecond})
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
}

// writeForeignLock writes a lock of another host, last refreshed age ago.
func writeForeignLock(t *testing.T, fsys afero.Fs, age time.Duration) lock.LockInfo {
	t.Helper()
	then := time.Now().Add(-age)
	info := lock.LockInfo{PID: 4711, Host: "andere-werkstatt", Operation: "export", Version: "0.9",
		Created: then, Refreshed: then, Token: "fremd"}
	data, err := jsonLock(info)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, fsys, lock.LockFileName, data)
	return info
}

// testLockStaleTakeover: a foreign lock whose written time is 11 minutes
// old is not stale by that; it is taken over once this run has seen it
// unchanged for a whole lease (here 300ms), within its --lock-timeout
// (1s).
func testLockStaleTakeover(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	writeForeignLock(t, fsys, 11*time.Minute)
	_, err := lock.AcquireLock(context.Background(), a, lock.LockOptions{Operation: "export"})
	var le *lock.LockError
	if !errors.As(err, &le) {
		t.Fatalf("old lock taken over without watching it: %v", err)
	}
	var mu sync.Mutex
	var logs []string
	l := acquire(t, a, lock.LockOptions{Operation: "export", Timeout: time.Second, Lease: 300 * time.Millisecond, Logf: func(level, msg string) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, level+" "+msg)
	}})
	defer l.Release()
	mu.Lock()
	got := strings.Join(logs, "\n")
	mu.Unlock()
	for _, want := range []string{"WARNING Veralteten Lock übernommen", "pid 4711", "andere-werkstatt", "unverändert (Lease 300ms, von hier beobachtet)"} {
		if !strings.Contains(got, want) {
			t.Errorf("log %q does not contain %q", got, want)
		}
	}
	if cur := readLockInfo(t, fsys); cur.Token != l.Info().Token {
		t.Errorf("lock file token %q, want ours %q", cur.Token, l.Info().Token)
	}
}

func testLockRefresh(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	l := acquire(t, a, lock.LockOptions{Operation: "export", Refresh: 20 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	for readLockInfo(t, fsys).Counter == 0 {
		if time.Now().After(deadline) {
			t.Fatal("lock file was not refreshed within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantNoLock(t, a, "after Release")
	if got := otherThanLock(names(t, fsys, ".")); len(got) != 0 {
		t.Errorf("root after Release = %q, want empty (no temp file)", got)
	}
}

// testLockRefreshKeepsItFresh: a run that lasts several times the lease
// of a competitor keeps its lock by refreshing it; the competitor, on
// another machine, watches it change and gives up instead of taking it
// over.
func testLockRefreshKeepsItFresh(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	const lease = time.Second // 20 refresh intervals: room for a slow disk
	l := acquire(t, a, lock.LockOptions{Operation: "export", Refresh: 50 * time.Millisecond})
	other := lock.Identity{Host: "andere-werkstatt", MachineID: "andere", BootID: "b", PidNS: "p", PID: 4711}
	_, err := lock.AcquireLock(context.Background(), a, lock.LockOptions{Operation: "export",
		Identity: &other, Lease: lease, Timeout: 2 * lease, Poll: 20 * time.Millisecond})
	var le *lock.LockError
	if !errors.As(err, &le) {
		t.Fatalf("competitor: err = %v, want *LockError: a refreshed lock is not stale", err)
	}
	if got := readLockInfo(t, fsys); got.Token != l.Info().Token || got.Counter == 0 {
		t.Errorf("lock file %+v: not ours or not refreshed", got)
	}
	if err := l.Valid(); err != nil {
		t.Errorf("Valid: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
}

// testLockUnderLoad: ten runs want the lock at once; each gets it in
// turn, never two at the same time.
func testLockUnderLoad(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	var inside, most, done sync.Mutex
	holders, maxHolders, finished := 0, 0, 0
	parallel(10, func(i int) {
		l, err := lock.AcquireLock(context.Background(), a, lock.LockOptions{
			Operation: "export", Timeout: time.Minute, Poll: 5 * time.Millisecond})
		if err != nil {
			t.Errorf("run %d: %v", i, err)
			return
		}
		inside.Lock()
		holders++
		n := holders
		inside.Unlock()
		most.Lock()
		maxHolders = max(maxHolders, n)
		most.Unlock()
		writeFile(t, fsys, "lauf.txt", strconv.Itoa(i)) // the run's work
		time.Sleep(5 * time.Millisecond)
		if got := readFile(t, fsys, "lauf.txt"); got != strconv.Itoa(i) {
			t.Errorf("run %d: another run wrote meanwhile (%q)", i, got)
		}
		inside.Lock()
		holders--
		inside.Unlock()
		if err := l.Release(); err != nil {
			t.Errorf("run %d: Release: %v", i, err)
		}
		done.Lock()
		finished++
		done.Unlock()
	})
	if maxHolders != 1 || finished != 10 {
		t.Fatalf("%d runs held the lock at once; %d of 10 finished", maxHolders, finished)
	}
	wantNoLock(t, a, "after the last Release")
}

func testUnlock(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	opts := lock.UnlockOptions{Lease: 300 * time.Millisecond, Poll: 10 * time.Millisecond}
	u, err := lock.Unlock(context.Background(), a, opts)
	if u != nil || err != nil {
		t.Errorf("Unlock without lock = %v, %v; want nil, nil", u, err)
	}
	l := acquire(t, a, lock.LockOptions{Operation: "export", Refresh: 20 * time.Millisecond})
	_, err = lock.Unlock(context.Background(), a, opts)
	var le *lock.LockError
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.Token != l.Info().Token || !strings.Contains(err.Error(), "--remove-all") {
		t.Fatalf("Unlock of live lock: err = %v, want *LockError naming the holder and --remove-all", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	// --remove-all takes even a live lock. (This holder does not refresh
	// meanwhile: a refresh already reading when the lock is removed would
	// write it back, which is why --remove-all is only for when no run is
	// active.)
	l = acquire(t, a, lock.LockOptions{Operation: "export", Refresh: time.Hour})
	u, err = lock.Unlock(context.Background(), a, lock.UnlockOptions{RemoveAll: true})
	if err != nil || u == nil || u.Holder == nil || u.Holder.Token != l.Info().Token {
		t.Fatalf("Unlock removeAll = %+v, %v; want our holder", u, err)
	}
	if err := l.Release(); !errors.Is(err, lock.ErrLockLost) {
		t.Errorf("Release after forced unlock: %v, want ErrLockLost", err)
	}
	writeForeignLock(t, fsys, 11*time.Minute)
	u, err = lock.Unlock(context.Background(), a, opts)
	if err != nil || u == nil || u.Holder == nil || u.Holder.Token != "fremd" {
		t.Errorf("Unlock of a dead lock = %+v, %v; want the foreign holder", u, err)
	}
	wantNoLock(t, a, "after Unlock")
	if got := otherThanLock(names(t, fsys, ".")); len(got) != 0 {
		t.Errorf("root after Unlock = %q, want empty", got)
	}
}

// testLockReplacedIsLost: on a store with compare-and-swap another run
// replaces the holder's record conditionally on what it read (a
// takeover). The holder's next refresh, conditional on its own last
// write, fails: it learns that it lost the lock (Valid, Release) and
// writes nothing over the new record.
func testLockReplacedIsLost(t *testing.T, a *storage.Archive) {
	ctx := context.Background()
	l := acquire(t, a, lock.LockOptions{Operation: "export", Refresh: 20 * time.Millisecond})
	_, tag, err := a.ReadFileTag(ctx, lock.LockFileName, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := jsonLock(lock.LockInfo{PID: 4711, Host: "andere-werkstatt", Operation: "restore", Token: "fremd"})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := a.WriteFile(ctx, lock.LockFileName, []byte(foreign), storage.WriteOpts{Cond: storage.IfMatch(tag), Sync: true})
		if err == nil {
			break
		}
		if !errors.Is(err, storage.ErrChanged) {
			t.Fatalf("takeover: %v", err)
		}
		// The holder refreshed meanwhile: take over what is there now.
		if _, tag, err = a.ReadFileTag(ctx, lock.LockFileName, 1<<16); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute) // a safety net, not a measurement
	for l.Valid() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the holder did not learn within a minute that its record was replaced")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := l.Valid(); !errors.Is(err, lock.ErrLockLost) || !strings.Contains(err.Error(), "pid 4711") {
		t.Errorf("Valid = %v, want ErrLockLost naming the new holder", err)
	}
	if err := l.Release(); !errors.Is(err, lock.ErrLockLost) {
		t.Errorf("Release = %v, want ErrLockLost", err)
	}
	if got := readLockInfo(t, a.Fs); got.Token != "fremd" {
		t.Errorf("the new holder's record was overwritten: %+v", got)
	}
}
