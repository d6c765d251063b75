package lock

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// store is one of the two kinds of archive the lock runs on: with
// compare-and-swap, or with exclusive create only; put stores a lock
// file's content as another program would.
type store struct {
	name string
	new  func() (a *storage.Archive, put func(data []byte))
}

var stores = []store{
	{"exklusiv", func() (*storage.Archive, func([]byte)) {
		fsys := afero.NewMemMapFs()
		return archOf(fsys, testCaps), func(data []byte) { _ = afero.WriteFile(fsys, LockFileName, data, 0o644) }
	}},
	{"cas", func() (*storage.Archive, func([]byte)) {
		s := newCASStore()
		return s.archive(), func(data []byte) { s.put(LockFileName, data) }
	}},
}

// TestTimeoutBoundsEveryWait: whatever the lock file holds — a live
// holder that refreshes (every 30 s), a paused one, an empty or damaged
// file — a run with --lock-timeout 2s gives up after 2 s with a
// *LockError naming the lock file, what it saw and unlock, and says once
// that it waits. Before, a live holder was watched on until it changed
// (up to a refresh period), and a paused or empty one for a whole lease
// (3 minutes).
func TestTimeoutBoundsEveryWait(t *testing.T) {
	holder := func(n uint64) []byte {
		return encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "export", Counter: n, Token: "fremd"})
	}
	cases := []struct {
		name string
		run  func(put func([]byte), stop <-chan struct{}) // writes the lock file, until stop
		want []string
	}{
		{"live", func(put func([]byte), stop <-chan struct{}) {
			for n := uint64(0); ; n++ {
				put(holder(n))
				select {
				case <-stop:
					return
				case <-time.After(30 * time.Second):
				}
			}
		}, []string{"gehalten von pid 4711 auf host andere (export)"}},
		{"paused", func(put func([]byte), _ <-chan struct{}) { put(holder(7)) },
			[]string{"gehalten von pid 4711 auf host andere (export)", "von hier beobachtet: seit 2s unverändert"}},
		{"empty", func(put func([]byte), _ <-chan struct{}) { put(nil) },
			[]string{"leere Lock-Datei", "von hier beobachtet: seit 2s unverändert"}},
		{"garbage", func(put func([]byte), _ <-chan struct{}) { put([]byte("{kaputt")) },
			[]string{"unlesbare Lock-Datei", "von hier beobachtet: seit 2s unverändert"}},
	}
	for _, st := range stores {
		for _, tc := range cases {
			t.Run(st.name+"/"+tc.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					a, put := st.new()
					stop := make(chan struct{})
					done := make(chan struct{})
					go func() { defer close(done); tc.run(put, stop) }()
					synctest.Wait()
					var told atomic.Int32
					var msg atomic.Value
					start := time.Now()
					_, err := AcquireLock(context.Background(), a, LockOptions{Timeout: 2 * time.Second, Lease: 3 * time.Minute,
						Waiting: func(m string) { told.Add(1); msg.Store(m) }})
					waited := time.Since(start)
					close(stop)
					<-done
					var le *LockError
					if !errors.As(err, &le) {
						t.Fatalf("err = %v, want *LockError", err)
					}
					if waited < 2*time.Second || waited > 2*time.Second+DefaultLockPoll {
						t.Errorf("gave up after %v, want the lock timeout (2s)", waited)
					}
					for _, want := range append(tc.want, "Lock .backup.lock nicht erhalten nach 2s", "werkstatt-backup unlock") {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("error %q lacks %q", err, want)
						}
					}
					if told.Load() != 1 {
						t.Errorf("Waiting called %d times, want once", told.Load())
					} else if m := msg.Load().(string); !strings.HasPrefix(m, "Warte auf Lock .backup.lock: ") || !strings.Contains(m, "höchstens 2s") {
						t.Errorf("waiting line = %q", m)
					}
				})
			})
		}
	}
}

// TestRememberedObservation: a holder died on another machine; runs with
// a lock timeout (2 s) far below the lease (3 min) each give up, but
// remember the record they saw. A run that finds the same record
// unchanged a lease after it was first seen takes it over at once. A
// record that changed in between (the holder refreshed) starts afresh,
// and without the state file nothing is remembered.
func TestRememberedObservation(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, put := st.new()
				seen := filepath.Join(t.TempDir(), SeenFileName)
				put(encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "export", Counter: 3, Token: "tot"}))
				var log logRecorder
				opts := LockOptions{Timeout: 2 * time.Second, Lease: 3 * time.Minute, SeenFile: seen, SeenKey: "archiv", Logf: log.logf}
				try := func() (*Lock, time.Duration, error) {
					start := time.Now()
					l, err := AcquireLock(context.Background(), a, opts)
					return l, time.Since(start), err
				}
				mustWait := func(when string) {
					t.Helper()
					var le *LockError
					if l, _, err := try(); !errors.As(err, &le) {
						if l != nil {
							l.Release()
						}
						t.Fatalf("%s: err = %v, want *LockError", when, err)
					}
				}
				mustWait("first run")
				time.Sleep(time.Minute)
				mustWait("a minute later")
				noMemory := opts
				noMemory.SeenFile = ""
				time.Sleep(2 * time.Minute)
				if l, err := AcquireLock(context.Background(), a, noMemory); l != nil || err == nil {
					t.Fatal("taken over without a memory of the record")
				}
				// Three minutes and more after the first sighting: at once.
				l, took, err := try()
				if err != nil {
					t.Fatalf("a lease after the first sighting: %v", err)
				}
				if took > time.Second {
					t.Errorf("took %v, want at once", took)
				}
				if !strings.Contains(log.String(), "WARNING Veralteten Lock übernommen: pid 4711 auf host andere (export): seit 3m") ||
					!strings.Contains(log.String(), "auch von früheren Läufen") {
					t.Errorf("log = %q", log.String())
				}
				if err := l.Release(); err != nil {
					t.Fatal(err)
				}
				if s, err := readSeen(seen); err != nil || len(s.Archives) != 0 {
					t.Errorf("state after taking the lock: %+v, %v; want the entry gone", s, err)
				}

				// A record that changes between runs is a live holder.
				put(encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "export", Counter: 1, Token: "lebt"}))
				mustWait("live holder, first run")
				time.Sleep(2 * time.Minute)
				put(encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "export", Counter: 2, Token: "lebt"}))
				time.Sleep(2 * time.Minute)
				mustWait("live holder, four minutes later")
			})
		})
	}
}
