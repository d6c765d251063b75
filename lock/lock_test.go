package lock

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spf13/afero"
)

const deadPID = 1 << 30 // above any pid_max

// here is an identity with all three pid-space fields known.
var here = Identity{Host: "werkstatt", MachineID: "m1", BootID: "b1", PidNS: "pid:[1]", PID: 42}

func TestSamePidSpace(t *testing.T) {
	info := LockInfo{MachineID: "m1", BootID: "b1", PidNS: "pid:[1]"}
	if !here.samePidSpace(info) {
		t.Error("identical identity not recognised")
	}
	for name, change := range map[string]func(*LockInfo, *Identity){
		"other pid namespace": func(i *LockInfo, _ *Identity) { i.PidNS = "pid:[2]" },
		"other boot":          func(i *LockInfo, _ *Identity) { i.BootID = "b2" },
		"other machine":       func(i *LockInfo, _ *Identity) { i.MachineID = "m2" },
		"holder without ids":  func(i *LockInfo, _ *Identity) { *i = LockInfo{} },
		"we lack a machine id": func(i *LockInfo, me *Identity) {
			me.MachineID, i.MachineID = "", ""
		},
	} {
		i, me := info, here
		change(&i, &me)
		if me.samePidSpace(i) {
			t.Errorf("%s: taken for the same pid space", name)
		}
	}
}

func TestLockErrorMessage(t *testing.T) {
	holder := &LockInfo{PID: 4711, Host: "werkstatt", Operation: "export",
		Created: time.Date(2024, 7, 29, 10, 30, 0, 0, time.Local)}
	tests := []struct {
		err  *LockError
		want string
	}{
		{&LockError{Path: LockFileName, Holder: holder, Waited: 30*time.Second + 12*time.Millisecond},
			"Lock .backup.lock nicht erhalten nach 30s: gehalten von pid 4711 auf host werkstatt (export, seit 2024-07-29 10:30:00)"},
		{&LockError{Path: LockFileName, Holder: holder, Hint: "mach was"},
			"Lock .backup.lock nicht erhalten: gehalten von pid 4711 auf host werkstatt (export, seit 2024-07-29 10:30:00); mach was"},
		{&LockError{Path: LockFileName, Waited: 300 * time.Millisecond},
			"Lock .backup.lock nicht erhalten nach 300ms: unlesbare Lock-Datei (leer oder beschädigt: wird gerade angelegt, oder ihr Schreiber brach ab)"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() =\n%q\nwant\n%q", got, tc.want)
		}
	}
}

// logRecorder collects Logf calls from any goroutine.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *logRecorder) logf(level, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, level+" "+msg)
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

func writeLock(t *testing.T, fsys afero.Fs, info LockInfo) {
	t.Helper()
	if err := afero.WriteFile(fsys, LockFileName, encodeLock(info), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLockFileRecordsIdentity(t *testing.T) {
	fsys := tempFs(t)
	id := here
	l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Operation: "export", Version: "1.2.3", Identity: &id})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	st, err := readLock(context.Background(), archOf(fsys, testCaps))
	if err != nil || st.info == nil {
		t.Fatalf("readLock: %+v, %v", st, err)
	}
	got := *st.info
	if got.PID != 42 || got.Host != "werkstatt" || got.MachineID != "m1" || got.BootID != "b1" || got.PidNS != "pid:[1]" ||
		got.Operation != "export" || got.Version != "1.2.3" || got.Counter != 0 || len(got.Token) != 32 || got.Token != l.Info().Token {
		t.Errorf("lock file = %+v", got)
	}
	if LocalIdentity().PID != os.Getpid() {
		t.Error("LocalIdentity: wrong pid")
	}
}

// TestDeadPidSamePidSpace: a holder in this very pid space whose pid is
// gone is taken over at once, even without waiting.
func TestDeadPidSamePidSpace(t *testing.T) {
	if processAlive(deadPID, 0) || !processAlive(os.Getpid(), 0) {
		t.Skip("no pid check on this OS")
	}
	fsys := tempFs(t)
	now := time.Now()
	writeLock(t, fsys, LockInfo{PID: deadPID, Host: "werkstatt", MachineID: "m1", BootID: "b1", PidNS: "pid:[1]",
		Operation: "export", Created: now, Refreshed: now, Token: "tot"})
	var log logRecorder
	id := here
	l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Identity: &id, Logf: log.logf})
	if err != nil {
		t.Fatalf("lock of a dead process not taken over: %v", err)
	}
	defer l.Release()
	if got := log.String(); !strings.Contains(got, "WARNING Veralteten Lock übernommen: pid 1073741824 auf host werkstatt (export, seit ") ||
		!strings.Contains(got, "sein Prozess läuft auf diesem Rechner nicht mehr") {
		t.Errorf("log = %q", got)
	}
}

// TestDeadPidOtherPidSpace is finding 1 of issue 13: same host name, pid
// not alive here, but another pid namespace, boot or machine (or a holder
// that did not record them): only the observed lease decides.
func TestDeadPidOtherPidSpace(t *testing.T) {
	for name, info := range map[string]LockInfo{
		"other pid namespace": {MachineID: "m1", BootID: "b1", PidNS: "pid:[2]"},
		"other machine":       {MachineID: "m2", BootID: "b1", PidNS: "pid:[1]"},
		"no ids recorded":     {},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fsys := afero.NewMemMapFs()
				info.PID, info.Host, info.Token, info.Operation = deadPID, "werkstatt", "fremd", "export"
				writeLock(t, fsys, info)
				id := here
				_, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Identity: &id})
				var le *LockError
				if !errors.As(err, &le) || le.Holder == nil || le.Holder.Token != "fremd" {
					t.Fatalf("try once: err = %v, want *LockError naming the holder", err)
				}
				start := time.Now()
				l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Identity: &id, Timeout: 2 * time.Minute, Lease: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				defer l.Release()
				if took := time.Since(start); took < time.Minute {
					t.Errorf("taken over after %v, before one lease", took)
				}
			})
		})
	}
}

// fakeHolder rewrites the lock every period with a new counter, its times
// off by skew, until stop is closed: a live holder on a machine whose
// clock is wrong.
func fakeHolder(fsys afero.Fs, skew, period time.Duration, stop <-chan struct{}) {
	a := archOf(fsys, testCaps)
	created := time.Now().Add(skew)
	for n := uint64(0); ; n++ {
		at := time.Now().Add(skew)
		data := encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "export", Created: created, Refreshed: at, Counter: n, Token: "fremd"})
		_ = a.Replace(context.Background(), LockFileName, LockFileName+".fremd.tmp", data)
		select {
		case <-stop:
			return
		case <-time.After(period):
		}
	}
}

// TestSkewedClocks is finding 2 of issue 13: the holder's written times
// decide nothing. A live holder whose clock is 11 minutes behind or 2
// hours ahead is not taken over; a dead one whose clock ran 2 hours ahead
// is taken over after one observed lease, not hours (with a lock timeout
// longer than the lease).
func TestSkewedClocks(t *testing.T) {
	for _, skew := range []time.Duration{-11 * time.Minute, 2 * time.Hour} {
		t.Run("live "+skew.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fsys := afero.NewMemMapFs()
				stop := make(chan struct{})
				go fakeHolder(fsys, skew, 30*time.Second, stop)
				synctest.Wait()
				_, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Timeout: 10 * time.Minute, Lease: 3 * time.Minute})
				var le *LockError
				if !errors.As(err, &le) || le.Holder == nil || le.Holder.Token != "fremd" {
					t.Errorf("err = %v, want *LockError: a refreshing holder is never stale", err)
				}
				close(stop)
			})
		})
	}
	t.Run("dead +2h", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			at := time.Now().Add(2 * time.Hour)
			writeLock(t, fsys, LockInfo{PID: 4711, Host: "andere", Operation: "export", Created: at, Refreshed: at, Token: "fremd"})
			var log logRecorder
			start := time.Now()
			l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Timeout: 5 * time.Minute, Lease: 3 * time.Minute, Logf: log.logf})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			if took := time.Since(start); took < 3*time.Minute || took > 3*time.Minute+time.Second {
				t.Errorf("taken over after %v, want one lease (3m)", took)
			}
			for _, want := range []string{"INFO Warte auf Lock .backup.lock: pid 4711 auf host andere (export, seit ",
				"WARNING Veralteten Lock übernommen: pid 4711 auf host andere (export, seit ", "seit 3m0s unverändert"} {
				if !strings.Contains(log.String(), want) {
					t.Errorf("log lacks %q:\n%s", want, log.String())
				}
			}
		})
	})
}

func TestAcquireUnparseableLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		if err := afero.WriteFile(fsys, LockFileName, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{})
		var le *LockError
		if !errors.As(err, &le) || le.Holder != nil {
			t.Fatalf("empty lock: err = %v, want *LockError without holder", err)
		}
		var log logRecorder
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Timeout: 2 * time.Minute, Lease: time.Minute, Logf: log.logf})
		if err != nil {
			t.Fatalf("empty lock not taken over after a lease: %v", err)
		}
		defer l.Release()
		if got := log.String(); !strings.Contains(got, "WARNING Veralteten Lock übernommen: leere Lock-Datei") {
			t.Errorf("log = %q", got)
		}
	})
}

// TestAcquireCanceled: a context that ends while waiting gives a
// *LockError naming the holder, wrapped with the context's error.
func TestAcquireCanceled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Operation: "export"})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err = AcquireLock(ctx, archOf(fsys, testCaps), LockOptions{Timeout: time.Minute, Poll: 10 * time.Millisecond})
		var le *LockError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &le) || le.Holder == nil {
			t.Errorf("err = %v, want DeadlineExceeded and a *LockError with holder", err)
		}
		_, err = AcquireLock(ctx, archOf(fsys, testCaps), LockOptions{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("done ctx: err = %v", err)
		}
	})
}

// TestLockLost: a holder whose file was taken over notices at its next
// refresh; Valid and Release then report ErrLockLost and the new holder's
// file stays.
func TestLockLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		var log logRecorder
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Lease: time.Minute, Logf: log.logf})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		foreign := encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "restore", Created: now, Refreshed: now, Token: "fremd"})
		if err := afero.WriteFile(fsys, LockFileName, foreign, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := l.Valid(); err != nil {
			t.Fatalf("Valid before the next refresh: %v", err)
		}
		time.Sleep(10 * time.Second) // the refresh (every 10s) runs
		synctest.Wait()
		if err := l.Valid(); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "übernommen von pid 4711") {
			t.Errorf("Valid = %v, want ErrLockLost naming the new holder", err)
		}
		if err := l.Release(); !errors.Is(err, ErrLockLost) {
			t.Errorf("Release = %v, want ErrLockLost", err)
		}
		if err2 := l.Release(); !errors.Is(err2, ErrLockLost) {
			t.Errorf("second Release = %v, want the same result", err2)
		}
		if got, _ := afero.ReadFile(fsys, LockFileName); string(got) != string(foreign) {
			t.Errorf("Release touched the new holder's lock: %q", got)
		}
	})
}

// flakyFs fails every Rename while broken is set (the share is away).
type flakyFs struct {
	afero.Fs
	broken atomic.Bool
}

func (f *flakyFs) Rename(o, n string) error {
	if f.broken.Load() {
		return &os.LinkError{Op: "rename", Old: o, New: n, Err: errors.New("host is down")}
	}
	return f.Fs.Rename(o, n)
}

// TestLockExpires is finding 3 of issue 13, in the holder: a lock whose
// refreshes fail is retried within the lease; one that could not be
// refreshed for the lease minus the margin is lost, and stays lost.
func TestLockExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := &flakyFs{Fs: afero.NewMemMapFs()}
		var log logRecorder
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Lease: 3 * time.Minute, Logf: log.logf})
		if err != nil {
			t.Fatal(err)
		}
		fsys.broken.Store(true)
		time.Sleep(time.Minute + 50*time.Second) // refreshes at 30s, then retried every 5s
		synctest.Wait()
		if err := l.Valid(); err != nil {
			t.Fatalf("Valid after 1m50s of failed refreshes: %v", err)
		}
		fsys.broken.Store(false) // the share is back: the retry succeeds
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if err := l.Valid(); err != nil {
			t.Fatalf("Valid after a successful retry: %v", err)
		}
		if c := l.Info().Counter; c != 1 {
			t.Errorf("counter %d after one successful refresh", c)
		}
		fsys.broken.Store(true)
		time.Sleep(2*time.Minute + time.Second)
		err = l.Valid()
		if !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "dieser Lauf ändert am Archiv nichts mehr") {
			t.Fatalf("Valid 2m1s after the last refresh = %v, want ErrLockLost", err)
		}
		fsys.broken.Store(false)
		time.Sleep(time.Minute)
		synctest.Wait()
		if err := l.Valid(); !errors.Is(err, ErrLockLost) {
			t.Errorf("a lost lock became valid again: %v", err)
		}
		if got := log.String(); !strings.Contains(got, "nicht aufgefrischt (wird wiederholt)") {
			t.Errorf("log = %q", got)
		}
		if err := l.Release(); !errors.Is(err, ErrLockLost) {
			t.Errorf("Release = %v, want ErrLockLost", err)
		}
		if _, err := fsys.Stat(LockFileName); !os.IsNotExist(err) {
			t.Errorf("our own expired lock file stays after Release: %v", err)
		}
	})
}

// TestTakeoverRace: waiter A judged the lock stale, then B took it over
// first and created its own. A's takeover must not remove B's lock, and
// must not even move it aside (a new run could slip in meanwhile).
func TestTakeoverRace(t *testing.T) {
	fsys := tempFs(t)
	writeLock(t, fsys, LockInfo{PID: 1, Host: "alt", Token: "alt"})
	judged, err := readLock(context.Background(), archOf(fsys, testCaps))
	if err != nil {
		t.Fatal(err)
	}
	var mw watch
	if ok, err := takeOver(context.Background(), archOf(fsys, testCaps), here, "b", judged.raw, &mw, time.Minute); !ok || err != nil {
		t.Fatalf("B's takeover: %v, %v", ok, err)
	}
	writeLock(t, fsys, LockInfo{PID: 2, Host: "b", Token: "b"})
	moved := &renameCounter{Fs: fsys}
	if ok, err := takeOver(context.Background(), archOf(moved, testCaps), here, "a", judged.raw, &mw, time.Minute); ok || err != nil {
		t.Fatalf("A's late takeover removed B's lock: %v, %v", ok, err)
	}
	if moved.n.Load() != 0 {
		t.Errorf("A's late takeover renamed %d files", moved.n.Load())
	}
	if st, err := readLock(context.Background(), archOf(fsys, testCaps)); err != nil || st.info == nil || st.info.Token != "b" {
		t.Fatalf("lock after A's attempt: %+v, %v; want B's", st.info, err)
	}
	if names, _ := afero.ReadDir(fsys, "."); len(names) != 1 {
		t.Errorf("leftovers: %d entries", len(names))
	}
}

type renameCounter struct {
	afero.Fs
	n atomic.Int32
}

func (r *renameCounter) Rename(o, n string) error {
	r.n.Add(1)
	return r.Fs.Rename(o, n)
}

// TestTakeoverMarkerOfADeadTaker: a run died while taking over (its marker
// stays); the marker, unchanged for a lease, is removed and the stale lock
// taken over after that.
func TestTakeoverMarkerOfADeadTaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		writeLock(t, fsys, LockInfo{PID: 4711, Host: "andere", Token: "tot"})
		if err := afero.WriteFile(fsys, TakeoverFileName, []byte("gestorben\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Timeout: 5 * time.Minute, Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 2*time.Minute {
			t.Errorf("taken over after %v, before the marker was watched for a lease", took)
		}
		if err := l.Release(); err != nil {
			t.Fatal(err)
		}
		if names, _ := afero.ReadDir(fsys, "."); len(names) != 0 {
			t.Errorf("%d leftovers", len(names))
		}
	})
}

// TestManyWaitersOneDeadLock: five runs watch one dead lock and take it
// over; at no time do two of them hold it.
func TestManyWaitersOneDeadLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := tempFs(t) // MemMapFs: its O_EXCL is not atomic
		writeLock(t, fsys, LockInfo{PID: 4711, Host: "andere", Token: "tot"})
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Timeout: time.Hour, Lease: time.Minute})
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				most.Store(max(most.Load(), n))
				time.Sleep(20 * time.Second)
				if err := l.Valid(); err != nil {
					t.Error(err)
				}
				inside.Add(-1)
				if err := l.Release(); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if most.Load() != 1 {
			t.Errorf("%d holders at once", most.Load())
		}
	})
}

func TestUnlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		opts := UnlockOptions{Lease: time.Minute}
		if u, err := Unlock(context.Background(), archOf(fsys, testCaps), opts); u != nil || err != nil {
			t.Errorf("no lock: %v, %v", u, err)
		}
		// A live lock is watched for a lease, then refused with a pointer
		// to --remove-all.
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Operation: "export", Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		var log logRecorder
		opts.Logf = log.logf
		_, err = Unlock(context.Background(), archOf(fsys, testCaps), opts)
		var le *LockError
		if !errors.As(err, &le) || le.Holder == nil || !strings.Contains(err.Error(), "unlock --remove-all") {
			t.Errorf("live lock: err = %v, want *LockError pointing to --remove-all", err)
		}
		if !strings.Contains(log.String(), "Er wird 1m0s lang beobachtet") {
			t.Errorf("log = %q", log.String())
		}
		u, err := Unlock(context.Background(), archOf(fsys, testCaps), UnlockOptions{RemoveAll: true})
		if err != nil || u == nil || u.Holder == nil || u.Holder.Token != l.Info().Token {
			t.Fatalf("--remove-all: %+v, %v", u, err)
		}
		if err := l.Release(); !errors.Is(err, ErrLockLost) {
			t.Errorf("Release after --remove-all: %v", err)
		}
		// A dead lock, times two hours ahead: removed after one lease.
		at := time.Now().Add(2 * time.Hour)
		writeLock(t, fsys, LockInfo{PID: 4711, Host: "andere", Refreshed: at, Token: "fremd"})
		start := time.Now()
		u, err = Unlock(context.Background(), archOf(fsys, testCaps), opts)
		if err != nil || u == nil || u.Holder == nil || u.Holder.Token != "fremd" || time.Since(start) != time.Minute {
			t.Errorf("dead lock: %+v, %v after %v", u, err, time.Since(start))
		}
		// An unreadable one is said to be unreadable.
		if err := afero.WriteFile(fsys, LockFileName, []byte("{kaputt"), 0o644); err != nil {
			t.Fatal(err)
		}
		u, err = Unlock(context.Background(), archOf(fsys, testCaps), UnlockOptions{RemoveAll: true})
		if err != nil || u == nil || u.Holder != nil {
			t.Errorf("unreadable: %+v, %v", u, err)
		}
		if _, err := fsys.Stat(LockFileName); !os.IsNotExist(err) {
			t.Errorf("lock file still there: %v", err)
		}
	})
}

// phantomFs says "exists" to every exclusive create of the lock file and
// "missing" to every read of it, as versitygw does for a key whose
// newest version is a delete marker. It gives up after many creates, so
// that a loop that spins ends the test instead of hanging it.
type phantomFs struct {
	afero.Fs
	creates int
}

var errSpun = errors.New("zu viele Versuche: die Schleife wartet nicht")

func (p *phantomFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if name == LockFileName && flag&os.O_EXCL != 0 {
		if p.creates++; p.creates > 1000 {
			return nil, errSpun
		}
		return nil, &os.PathError{Op: "open", Path: name, Err: iofs.ErrExist}
	}
	return p.Fs.OpenFile(name, flag, perm)
}

// TestAcquirePhantomLockWaits: create says the lock exists, read says it
// does not. AcquireLock used to try again at once, forever (lock_timeout
// never applied, one core busy); now it waits between tries and, past the
// timeout, names the contradiction.
func TestAcquirePhantomLockWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := &phantomFs{Fs: afero.NewMemMapFs()}
		start := time.Now()
		_, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Timeout: 30 * time.Second, Poll: time.Second})
		if err == nil || errors.Is(err, errSpun) || !strings.Contains(err.Error(), "beim Lesen aber als nicht vorhanden") {
			t.Fatalf("err = %v, want the contradiction named", err)
		}
		if waited := time.Since(start); waited < 30*time.Second {
			t.Errorf("gave up after %s, want the timeout of 30s", waited)
		}
		if fsys.creates > 40 {
			t.Errorf("%d creates in 30s with a poll of 1s", fsys.creates)
		}
	})
}

// TestTakeoverMarkerOfDeadTaker: a run killed (kill -9) while it took a
// stale lock over leaves .backup.lock.takeover. A marker from a dead
// process in this very pid space is removed at once; before, every later
// run waited a whole lease (3 minutes) for it, and an export with a
// shorter lock timeout gave up.
func TestTakeoverMarkerOfDeadTaker(t *testing.T) {
	if processAlive(deadPID, 0) || !processAlive(os.Getpid(), 0) {
		t.Skip("no pid check on this OS")
	}
	synctest.Test(t, func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		now := time.Now()
		dead := LockInfo{PID: deadPID, Host: "werkstatt", MachineID: "m1", BootID: "b1", PidNS: "pid:[1]",
			Operation: "export", Created: now, Refreshed: now, Token: "tot"}
		writeLock(t, fsys, dead)
		dead.Operation, dead.Token = "takeover", "tot2"
		if err := afero.WriteFile(fsys, TakeoverFileName, encodeLock(dead), 0o644); err != nil {
			t.Fatal(err)
		}
		id := here
		start := time.Now()
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{Identity: &id, Timeout: 10 * time.Second, Lease: 3 * time.Minute})
		if err != nil {
			t.Fatalf("dead taker's marker kept the lock: %v", err)
		}
		defer l.Release()
		if waited := time.Since(start); waited >= 10*time.Second {
			t.Errorf("took %s", waited)
		}
	})
}

// busyFs refuses to remove the lock file the first n times, as an SMB
// server does while waiters have it open (sharing violation).
type busyFs struct {
	afero.Fs
	n int
}

func (b *busyFs) Remove(name string) error {
	if name == LockFileName && b.n > 0 {
		b.n--
		return &os.PathError{Op: "remove", Path: name, Err: syscall.EBUSY}
	}
	return b.Fs.Remove(name)
}

// TestReleaseWhileOthersReadTheLock: ten waiters reading the lock file
// kept an SMB server refusing its removal past the backend's own retries;
// the lock stayed for a lease and the waiters gave up. Release keeps
// trying while it is within its lease.
func TestReleaseWhileOthersReadTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fsys := &busyFs{Fs: afero.NewMemMapFs()}
		l, err := AcquireLock(context.Background(), archOf(fsys, testCaps), LockOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fsys.n = 50
		if err := l.Release(); err != nil {
			t.Fatalf("Release while the file is busy: %v", err)
		}
		if ok, _ := afero.Exists(fsys, LockFileName); ok {
			t.Fatal("lock file left behind")
		}
	})
}

// TestPidGivenAgain: the holder died and its pid now names another
// process (pids wrap at 32,768 on many systems; kill(2) also finds
// threads). Its start time tells them apart: the lock is taken over at
// once. Before, the waiter took the stranger for the holder and waited a
// lease (seen in CI: an export killed under load, its lock kept 3 minutes).
func TestPidGivenAgain(t *testing.T) {
	me := processStart(os.Getpid())
	if me == 0 {
		t.Skip("no start times on this OS")
	}
	fsys := tempFs(t)
	now := time.Now()
	writeLock(t, fsys, LockInfo{PID: os.Getpid(), Start: me + 1, Host: "werkstatt", MachineID: "m1", BootID: "b1", PidNS: "pid:[1]",
		Operation: "export", Created: now, Refreshed: now, Token: "alt"})
	id := here
	var log logRecorder
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a safety net: without the check it waits a lease
	defer cancel()
	l, err := AcquireLock(ctx, archOf(fsys, testCaps), LockOptions{Identity: &id, Logf: log.logf, Timeout: time.Second, Lease: time.Hour})
	if err != nil {
		t.Fatalf("lock of a pid given to another process not taken over: %v", err)
	}
	defer l.Release()
	if !strings.Contains(log.String(), "sein Prozess läuft auf diesem Rechner nicht mehr") {
		t.Errorf("log = %q", log.String())
	}
	// The same pid with its own start time is alive.
	if !processAlive(os.Getpid(), me) {
		t.Error("this very process counted as dead")
	}
}
