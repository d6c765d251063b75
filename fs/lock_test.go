package fs

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"
)

const deadPID = 1 << 30 // above any pid_max

func TestStale(t *testing.T) {
	now := time.Date(2024, 7, 29, 12, 0, 0, 0, time.UTC)
	fresh, old := now.Add(-time.Minute), now.Add(-11*time.Minute)
	me := os.Getpid()
	tests := []struct {
		name       string
		info       LockInfo
		host       string
		staleAfter time.Duration
		want       bool
	}{
		{"fresh, other host", LockInfo{PID: deadPID, Host: "b", Refreshed: fresh}, "a", 10 * time.Minute, false},
		{"old, other host", LockInfo{PID: me, Host: "b", Refreshed: old}, "a", 10 * time.Minute, true},
		{"fresh, this host, alive", LockInfo{PID: me, Host: "a", Refreshed: fresh}, "a", 10 * time.Minute, false},
		{"old, this host, alive", LockInfo{PID: me, Host: "a", Refreshed: old}, "a", 10 * time.Minute, true},
		{"default staleAfter", LockInfo{PID: me, Host: "b", Refreshed: old}, "a", 0, true},
		{"just below staleAfter", LockInfo{PID: me, Host: "b", Refreshed: now.Add(-10 * time.Minute)}, "a", 10 * time.Minute, false},
		{"refreshed in the future", LockInfo{PID: me, Host: "b", Refreshed: now.Add(time.Hour)}, "a", 10 * time.Minute, false},
		{"unknown host is no pid check", LockInfo{PID: deadPID, Host: "", Refreshed: fresh}, "", 10 * time.Minute, false},
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" && runtime.GOOS != "js" && runtime.GOOS != "wasip1" {
		tests = append(tests, struct {
			name       string
			info       LockInfo
			host       string
			staleAfter time.Duration
			want       bool
		}{"fresh, this host, dead pid", LockInfo{PID: deadPID, Host: "a", Refreshed: fresh}, "a", 10 * time.Minute, true})
	}
	for _, tc := range tests {
		if got := Stale(tc.info, now, tc.host, tc.staleAfter); got != tc.want {
			t.Errorf("%s: Stale = %v, want %v", tc.name, got, tc.want)
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
		{&LockError{Path: LockFileName, Holder: holder},
			"Lock .backup.lock nicht erhalten: gehalten von pid 4711 auf host werkstatt (export, seit 2024-07-29 10:30:00)"},
		{&LockError{Path: LockFileName, Waited: 300 * time.Millisecond},
			"Lock .backup.lock nicht erhalten nach 300ms: unlesbare Lock-Datei (wird gerade angelegt oder ist beschädigt)"},
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

func TestAcquireOverrides(t *testing.T) {
	fsys := tempFs(t)
	at := time.Date(2024, 7, 29, 10, 30, 0, 0, time.UTC)
	l, err := AcquireLock(context.Background(), fsys, LockOptions{Operation: "export", Version: "1.2.3",
		Now: func() time.Time { return at }, Hostname: "prüfstand", PID: 42})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	st, err := readLock(fsys)
	if err != nil || st.info == nil {
		t.Fatalf("readLock: %+v, %v", st, err)
	}
	got := *st.info
	want := LockInfo{PID: 42, Host: "prüfstand", Operation: "export", Version: "1.2.3",
		Created: at, Refreshed: at, Token: l.Info().Token}
	if got != want || len(got.Token) != 32 {
		t.Errorf("lock file = %+v, want %+v with a 32-digit token", got, want)
	}
}

func TestAcquireUnparseableLock(t *testing.T) {
	fsys := tempFs(t)
	if err := afero.WriteFile(fsys, LockFileName, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := AcquireLock(context.Background(), fsys, LockOptions{})
	var le *LockError
	if !errors.As(err, &le) || le.Holder != nil {
		t.Fatalf("fresh empty lock: err = %v, want *LockError without holder", err)
	}
	old := time.Now().Add(-11 * time.Minute)
	if err := fsys.Chtimes(LockFileName, old, old); err != nil {
		t.Fatal(err)
	}
	var log logRecorder
	l, err := AcquireLock(context.Background(), fsys, LockOptions{Logf: log.logf})
	if err != nil {
		t.Fatalf("old empty lock not taken over: %v", err)
	}
	defer l.Release()
	if got := log.String(); !strings.Contains(got, "WARNING Veralteten Lock übernommen: unlesbare Lock-Datei") {
		t.Errorf("log = %q", got)
	}
}

func TestAcquireDeadPidSameHost(t *testing.T) {
	if !processAlive(os.Getpid()) || processAlive(deadPID) {
		t.Skip("no pid check on this OS")
	}
	fsys := tempFs(t)
	now := time.Now()
	data := encodeLock(LockInfo{PID: deadPID, Host: "werkstatt", Operation: "export", Created: now, Refreshed: now, Token: "tot"})
	if err := afero.WriteFile(fsys, LockFileName, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var log logRecorder
	l, err := AcquireLock(context.Background(), fsys, LockOptions{Hostname: "werkstatt", Logf: log.logf})
	if err != nil {
		t.Fatalf("lock of a dead process not taken over: %v", err)
	}
	defer l.Release()
	if got := log.String(); !strings.Contains(got, "auf host werkstatt (export, zuletzt aktualisiert vor 0s, Prozess läuft nicht mehr)") {
		t.Errorf("log = %q", got)
	}
}

func TestAcquireCanceled(t *testing.T) {
	fsys := tempFs(t)
	l, err := AcquireLock(context.Background(), fsys, LockOptions{Operation: "export"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = AcquireLock(ctx, fsys, LockOptions{Timeout: time.Minute, Poll: 10 * time.Millisecond})
	var le *LockError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &le) || le.Holder == nil {
		t.Errorf("err = %v, want DeadlineExceeded and a *LockError with holder", err)
	}
	_, err = AcquireLock(ctx, fsys, LockOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("done ctx: err = %v", err)
	}
}

func TestLockLost(t *testing.T) {
	fsys := tempFs(t)
	var log logRecorder
	l, err := AcquireLock(context.Background(), fsys, LockOptions{Refresh: 5 * time.Millisecond, Logf: log.logf})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	foreign := encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "restore", Created: now, Refreshed: now, Token: "fremd"})
	if err := afero.WriteFile(fsys, LockFileName, foreign, 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), "übernommen von pid 4711") {
		if time.Now().After(deadline) {
			t.Fatalf("takeover not noticed; log %q", log.String())
		}
		time.Sleep(5 * time.Millisecond)
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
}

func TestUnlockUnparseable(t *testing.T) {
	fsys := tempFs(t)
	if err := afero.WriteFile(fsys, LockFileName, []byte("{kaputt"), 0o644); err != nil {
		t.Fatal(err)
	}
	var le *LockError
	if _, err := Unlock(fsys, false, "h", 0); !errors.As(err, &le) || le.Holder != nil {
		t.Errorf("fresh unparseable lock: err = %v, want *LockError without holder", err)
	}
	old := time.Now().Add(-11 * time.Minute).Truncate(time.Second)
	if err := fsys.Chtimes(LockFileName, old, old); err != nil {
		t.Fatal(err)
	}
	info, err := Unlock(fsys, false, "h", 0)
	if err != nil || info == nil || !info.Refreshed.Equal(old) {
		t.Errorf("old unparseable lock: Unlock = %+v, %v; want info with Refreshed %v", info, err, old)
	}
	if _, err := fsys.Stat(LockFileName); !os.IsNotExist(err) {
		t.Errorf("lock file still there: %v", err)
	}
}
