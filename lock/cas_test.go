package lock

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// casStore is an object store with compare-and-swap, as the lock sees
// one: every name holds whole content and a version; conditional writes
// compare under one mutex. Its filesystem is read-only, so any attempt of
// the lock to rename, remove or create through afero fails. It records
// every write, so that a test can say what happened.
type casStore struct {
	mu   sync.Mutex
	objs map[string]casObj
	ver  int
	log  []string // "put name", "if-absent name", "if-match name" (successful writes)
	// beforeWrite, if set, runs before every conditional write (outside
	// the mutex): another run acting at that moment.
	beforeWrite func(name string, cond storage.Cond)
}

type casObj struct {
	data []byte
	ver  int
}

func newCASStore() *casStore { return &casStore{objs: map[string]casObj{}} }

func (s *casStore) archive() *storage.Archive {
	return &storage.Archive{Fs: afero.NewReadOnlyFs(afero.NewMemMapFs()), Caps: storage.Capabilities{
		AtomicWrite:    true,
		CompareAndSwap: true,
		WriteCond:      s.writeCond,
		ReadTag:        s.readTag, // the lock reads only with tags
	}}
}

func (s *casStore) readTag(_ context.Context, name string, limit int64) ([]byte, storage.Tag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objs[name]
	if !ok {
		return nil, "", &os.PathError{Op: "open", Path: name, Err: iofs.ErrNotExist}
	}
	data := append([]byte(nil), o.data...)
	if int64(len(data)) > limit+1 {
		data = data[:limit+1]
	}
	return data, storage.Tag(fmt.Sprint(o.ver)), nil
}

func (s *casStore) writeCond(_ context.Context, name string, data []byte, cond storage.Cond) (storage.Tag, error) {
	if s.beforeWrite != nil {
		s.beforeWrite(name, cond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, exists := s.objs[name]
	tag, match := cond.Match()
	switch {
	case cond.Absent() && exists:
		return "", &os.PathError{Op: "put", Path: name, Err: iofs.ErrExist}
	case match && !exists:
		return "", &os.PathError{Op: "put", Path: name, Err: fmt.Errorf("%w: %w", storage.ErrChanged, iofs.ErrNotExist)}
	case match && storage.Tag(fmt.Sprint(o.ver)) != tag:
		return "", &os.PathError{Op: "put", Path: name, Err: storage.ErrChanged}
	}
	s.ver++
	s.objs[name] = casObj{data: append([]byte(nil), data...), ver: s.ver}
	s.log = append(s.log, strings.Fields(cond.String())[0]+" "+name)
	return storage.Tag(fmt.Sprint(s.ver)), nil
}

// put stores data unconditionally, as another program would.
func (s *casStore) put(name string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ver++
	s.objs[name] = casObj{data: append([]byte(nil), data...), ver: s.ver}
	s.log = append(s.log, "put "+name)
}

func (s *casStore) get(name string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.objs[name].data...)
}

func (s *casStore) writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.log...)
}

func (s *casStore) record(t *testing.T) *LockInfo {
	t.Helper()
	info, err := parseLock(s.get(LockFileName))
	if err != nil {
		t.Fatalf("lock record %q: %v", s.get(LockFileName), err)
	}
	return info
}

// TestCASReleaseLeavesAFreeRecord: on a store with compare-and-swap the
// lock object is never deleted (the store here cannot delete at all):
// release replaces our record with a free one, and the next run replaces
// that, conditionally on the tag it read.
func TestCASReleaseLeavesAFreeRecord(t *testing.T) {
	s := newCASStore()
	a := s.archive()
	l, err := AcquireLock(context.Background(), a, LockOptions{Operation: "export"})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if rec := s.record(t); !rec.Free || rec.Token != l.Info().Token {
		t.Fatalf("after Release: %+v, want our record marked free", rec)
	}
	if held, _, err := Held(context.Background(), a); held || err != nil {
		t.Errorf("Held after Release = %v, %v", held, err)
	}
	l2, err := AcquireLock(context.Background(), a, LockOptions{Operation: "verify"})
	if err != nil {
		t.Fatalf("second AcquireLock over a free record: %v", err)
	}
	if rec := s.record(t); rec.Free || rec.Token != l2.Info().Token || rec.Operation != "verify" {
		t.Errorf("after the second acquire: %+v", rec)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
	want := []string{"if-absent .backup.lock", "if-match .backup.lock", "if-match .backup.lock", "if-match .backup.lock"}
	if got := s.writes(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("writes = %q, want %q", got, want)
	}
	// unlock of a free record: nothing to remove.
	if u, err := Unlock(context.Background(), a, UnlockOptions{}); u != nil || err != nil {
		t.Errorf("Unlock of a free record = %+v, %v", u, err)
	}
}

// TestCASRefreshLearnsItWasReplaced: another run replaces the holder's
// record (a takeover, conditional on what it read) just before the
// holder's refresh writes. The refresh, conditional on the holder's own
// last write, fails: the holder is fenced (Valid fails naming the new
// holder), and neither the refresh nor Release writes over the new
// record. A refresh that checks the token and then writes would have
// overwritten it.
func TestCASRefreshLearnsItWasReplaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newCASStore()
		a := s.archive()
		foreign := encodeLock(LockInfo{PID: 4711, Host: "andere", Operation: "restore", Token: "fremd"})
		var fired atomic.Bool
		s.beforeWrite = func(name string, cond storage.Cond) {
			if _, match := cond.Match(); match && name == LockFileName && fired.CompareAndSwap(false, true) { // the first refresh
				_, tag, _ := s.readTag(context.Background(), name, maxLockSize)
				if _, err := s.writeCond(context.Background(), name, foreign, storage.IfMatch(tag)); err != nil {
					t.Errorf("the other run's takeover: %v", err)
				}
			}
		}
		var log logRecorder
		l, err := AcquireLock(context.Background(), a, LockOptions{Operation: "export", Lease: time.Minute, Logf: log.logf})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // the refresh (every 10s) runs
		synctest.Wait()
		if err := l.Valid(); !errors.Is(err, ErrLockLost) || !strings.Contains(err.Error(), "übernommen von pid 4711") {
			t.Fatalf("Valid = %v, want ErrLockLost naming the new holder", err)
		}
		if err := l.Release(); !errors.Is(err, ErrLockLost) {
			t.Errorf("Release = %v, want ErrLockLost", err)
		}
		if got := s.get(LockFileName); string(got) != string(foreign) {
			t.Errorf("the new holder's record was overwritten: %s", got)
		}
	})
}

// TestCASTakeoverIsOneStep: a stale lock (its holder dead in this very
// pid space) is taken over by one conditional write over the record
// read: no takeover marker, nothing renamed aside or removed.
func TestCASTakeoverIsOneStep(t *testing.T) {
	if processAlive(deadPID, 0) || !processAlive(os.Getpid(), 0) {
		t.Skip("no pid check on this OS")
	}
	s := newCASStore()
	a := s.archive()
	s.put(LockFileName, encodeLock(LockInfo{PID: deadPID, Host: "werkstatt", MachineID: "m1", BootID: "b1", PidNS: "pid:[1]",
		Operation: "export", Token: "tot"}))
	id := here
	var log logRecorder
	l, err := AcquireLock(context.Background(), a, LockOptions{Identity: &id, Logf: log.logf})
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	defer l.Release()
	if got := s.writes(); len(got) != 2 || got[1] != "if-match .backup.lock" {
		t.Errorf("writes = %q, want the planted record and one if-match write", got)
	}
	if !strings.Contains(log.String(), "WARNING Veralteten Lock übernommen: pid 1073741824") {
		t.Errorf("log = %q", log.String())
	}
}

// TestCASUnderLoad: ten runs want the lock at once, fifty rounds; each
// gets it in turn, never two at a time, and the record is free at the
// end.
func TestCASUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newCASStore()
		a := s.archive()
		for round := range 50 {
			var inside, most, finished atomic.Int32
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					l, err := AcquireLock(context.Background(), a, LockOptions{Timeout: time.Hour, Poll: 5 * time.Millisecond})
					if err != nil {
						t.Error(err)
						return
					}
					n := inside.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(5 * time.Millisecond)
					inside.Add(-1)
					if err := l.Release(); err != nil {
						t.Error(err)
					}
					finished.Add(1)
				})
			}
			wg.Wait()
			if most.Load() != 1 || finished.Load() != 10 {
				t.Fatalf("round %d: %d holders at once, %d of 10 finished", round, most.Load(), finished.Load())
			}
			if held, _, err := Held(context.Background(), a); held || err != nil {
				t.Fatalf("round %d: lock held at the end (%v, %v)", round, held, err)
			}
		}
	})
}

// TestCASManyWaitersOneStaleLock: five runs watch one dead lock and take
// it over; at no time do two of them hold it.
func TestCASManyWaitersOneStaleLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newCASStore()
		a := s.archive()
		s.put(LockFileName, encodeLock(LockInfo{PID: 4711, Host: "andere", Token: "tot"}))
		var inside, most atomic.Int32
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				l, err := AcquireLock(context.Background(), a, LockOptions{Timeout: time.Hour, Lease: time.Minute})
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
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

// TestCASUnlock: --remove-all replaces even a live record with a free
// one (the holder then learns it lost the lock); a dead one is freed
// after a lease unchanged.
func TestCASUnlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newCASStore()
		a := s.archive()
		l, err := AcquireLock(context.Background(), a, LockOptions{Operation: "export", Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		u, err := Unlock(context.Background(), a, UnlockOptions{RemoveAll: true})
		if err != nil || u == nil || u.Holder == nil || u.Holder.Token != l.Info().Token {
			t.Fatalf("--remove-all: %+v, %v", u, err)
		}
		if err := l.Release(); !errors.Is(err, ErrLockLost) {
			t.Errorf("Release after --remove-all: %v", err)
		}
		if rec := s.record(t); !rec.Free || rec.Operation != "unlock" {
			t.Errorf("record after unlock: %+v", rec)
		}
		s.put(LockFileName, encodeLock(LockInfo{PID: 4711, Host: "andere", Token: "fremd"}))
		start := time.Now()
		u, err = Unlock(context.Background(), a, UnlockOptions{Lease: time.Minute})
		if err != nil || u == nil || u.Holder == nil || u.Holder.Token != "fremd" || time.Since(start) != time.Minute {
			t.Errorf("dead lock: %+v, %v after %v", u, err, time.Since(start))
		}
		if held, _, _ := Held(context.Background(), a); held {
			t.Error("still held after unlock")
		}
	})
}
