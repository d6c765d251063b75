// Package lock is the archive lock: one file created exclusively at the
// archive root, refreshed while its run lives, taken over when stale.
package lock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"math/rand/v2"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/atomicfile"
	"werkstatt-backup/storage"
)

// LockOptions configure AcquireLock. Zero values select the defaults.
type LockOptions struct {
	Operation string // "export", "restore", ...
	Version   string // program version
	// Timeout is how long to wait for a held lock; 0 = try once. A lock
	// whose content did not change at all during Timeout is watched on
	// until it has stayed unchanged for Lease, then taken over.
	Timeout  time.Duration
	Lease    time.Duration           // default DefaultLockLease (TestLeaseEnv in tests)
	Refresh  time.Duration           // default Lease/6
	Poll     time.Duration           // default DefaultLockPoll, at most Lease/10
	Logf     func(level, msg string) // optional, also called from the refresh goroutine; "WARNING" on takeover, lost lock, failed refresh
	Identity *Identity               // optional override for tests; default LocalIdentity()
}

func (o LockOptions) withDefaults() LockOptions {
	if o.Lease <= 0 {
		o.Lease = leaseFromEnv()
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLockLease
	}
	if o.Refresh <= 0 {
		o.Refresh = o.Lease / 6
	}
	if o.Poll <= 0 {
		o.Poll = min(DefaultLockPoll, o.Lease/10)
	}
	if o.Logf == nil {
		o.Logf = func(string, string) {}
	}
	if o.Identity == nil {
		id := LocalIdentity()
		o.Identity = &id
	}
	return o
}

// margin is how long before a waiter may take the lock over its holder
// stops writing: room for operations in flight and for clocks that run at
// slightly different rates.
func (o LockOptions) margin() time.Duration { return o.Lease / 3 }

// watch is what a waiting run has observed of a held lock, on its own
// monotonic clock. Nothing in the file's content decides staleness but
// whether it changes: a holder rewrites it with a new counter on every
// refresh, whatever its clock says.
type watch struct {
	raw     []byte
	since   time.Time // when this content was first seen
	changed bool      // the content changed while watched: the holder lives
}

func (w *watch) see(raw []byte, now time.Time) {
	switch {
	case w.since.IsZero():
		w.raw, w.since = raw, now
	case !bytes.Equal(raw, w.raw):
		w.raw, w.since, w.changed = raw, now, true
	}
}

// staleReason says why the lock st, watched in w, may be taken over, or "".
func staleReason(me Identity, st lockState, w *watch, now time.Time, lease time.Duration) string {
	if me.holderDead(st.info) {
		return "sein Prozess läuft auf diesem Rechner nicht mehr"
	}
	if unchanged := now.Sub(w.since); unchanged >= lease {
		return fmt.Sprintf("seit %s unverändert (Lease %s, von hier beobachtet)", unchanged.Round(time.Second), lease)
	}
	return ""
}

// AcquireLock creates LockFileName at the root of fsys exclusively. A held
// lock is watched until opts.Timeout (longer while it does not change, see
// LockOptions.Timeout) or ctx ends, then a *LockError is returned (on ctx
// end wrapped together with ctx.Err()). A stale lock is taken over with a
// "WARNING" through opts.Logf: one whose holder ran in this very pid space
// (same machine id, boot id and pid namespace) and is dead, or one whose
// content this run saw unchanged for a whole lease. The storage must
// offer exclusive create (caps.ExclusiveCreate); without it no run could
// be sure it is the only one, and AcquireLock refuses.
func AcquireLock(ctx context.Context, fsys afero.Fs, caps storage.Capabilities, opts LockOptions) (*Lock, error) {
	if err := needExclusive(caps); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	me := *opts.Identity
	start := time.Now()
	var w watch
	var mw watch         // the takeover marker, if another run holds it
	var holder *LockInfo // as last read
	extended, reread := false, false
	phantom := 0 // rounds in a row in which create said "exists" and read "missing"
	for {
		if err := ctx.Err(); err != nil {
			if w.since.IsZero() {
				return nil, fmt.Errorf("Lock %s: %w", LockFileName, err)
			}
			// The context may end between two looks, not only while
			// sleeping: the error names the holder all the same.
			lerr := &LockError{Path: LockFileName, Holder: holder, Waited: time.Since(start)}
			return nil, fmt.Errorf("%w: %w", lerr, err)
		}
		began := time.Now()
		info := LockInfo{PID: me.PID, Host: me.Host, MachineID: me.MachineID, BootID: me.BootID, PidNS: me.PidNS, Start: me.Start,
			Operation: opts.Operation, Version: opts.Version, Created: began, Refreshed: began, Token: token}
		err := createExcl(fsys, LockFileName, encodeLock(info))
		if err == nil {
			return startLock(fsys, caps, opts, info, began), nil
		}
		if !errors.Is(err, iofs.ErrExist) {
			return nil, fmt.Errorf("Lock %s anlegen: %w", LockFileName, err)
		}
		st, err := readLock(fsys)
		if errors.Is(err, iofs.ErrNotExist) {
			// Released between the two looks: try again at once. A storage
			// that keeps saying "exists" to the create and "missing" to
			// the read (an object store that counts a delete marker as an
			// object) must not make this loop spin: from the second time
			// on it waits like any other round, and past the timeout it is
			// an error naming the contradiction.
			phantom++
			if phantom == 1 {
				continue
			}
			if waited := time.Since(start); waited >= opts.Timeout {
				return nil, fmt.Errorf("Lock %s anlegen: der Speicher meldet ihn als vorhanden, beim Lesen aber als nicht vorhanden (%d Versuche in %s)", LockFileName, phantom, waited.Round(time.Millisecond))
			}
			if err := sleepCtx(ctx, min(opts.Poll, opts.Timeout-time.Since(start))); err != nil {
				return nil, fmt.Errorf("Lock %s: %w", LockFileName, err)
			}
			continue
		}
		phantom = 0
		if err != nil {
			return nil, fmt.Errorf("Lock %s lesen: %w", LockFileName, err)
		}
		now := time.Now()
		w.see(st.raw, now)
		holder = st.info
		if why := staleReason(me, st, &w, now, opts.Lease); why != "" {
			taken, err := takeOver(fsys, me, token, st.raw, &mw, opts.Lease)
			if err != nil {
				return nil, fmt.Errorf("veralteten Lock %s entfernen: %w", LockFileName, err)
			}
			if taken {
				opts.Logf("WARNING", "Veralteten Lock übernommen: "+DescribeHolder(st.info)+": "+why)
				w, holder = watch{}, nil
				continue
			}
			// Another run is taking it over right now: wait as for any lock.
		}
		waited := time.Since(start)
		wait := opts.Poll
		switch {
		case opts.Timeout <= 0 && (st.info != nil || reread):
			return nil, &LockError{Path: LockFileName, Holder: st.info}
		case opts.Timeout <= 0:
			// Most likely created a moment ago and being written: one
			// more look, so that the error can name the holder.
			reread = true
		case waited < opts.Timeout:
			wait = min(wait, opts.Timeout-waited)
		case w.changed:
			return nil, &LockError{Path: LockFileName, Holder: st.info, Waited: waited}
		case !extended:
			extended = true
			opts.Logf("INFO", fmt.Sprintf("Lock %s hat sich in %s nicht verändert (%s): er wird weiter beobachtet und übernommen, wenn er %s lang unverändert bleibt",
				LockFileName, waited.Round(time.Second), DescribeHolder(st.info), opts.Lease))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			lerr := &LockError{Path: LockFileName, Holder: st.info, Waited: time.Since(start)}
			return nil, fmt.Errorf("%w: %w", lerr, ctx.Err())
		case <-timer.C:
		}
	}
}

// Lock is a held archive lock. It refreshes itself until Release. Valid
// says whether it may still be relied on; a run checks it before every
// change to the archive.
type Lock struct {
	fsys  afero.Fs
	caps  storage.Capabilities
	opts  LockOptions
	token string

	mu     sync.Mutex
	info   LockInfo
	lastOK time.Time // start of the last successful write of the lock file
	lost   error     // set once: the lock can no longer be relied on
	taken  bool      // lost because the file is no longer ours

	stop        chan struct{}
	done        chan struct{}
	releaseOnce sync.Once
	releaseErr  error
}

func startLock(fsys afero.Fs, caps storage.Capabilities, opts LockOptions, info LockInfo, began time.Time) *Lock {
	l := &Lock{fsys: fsys, caps: caps, opts: opts, token: info.Token, info: info, lastOK: began,
		stop: make(chan struct{}), done: make(chan struct{})}
	go l.refreshLoop()
	return l
}

// Info returns the current content of our lock file.
func (l *Lock) Info() LockInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.info
}

// Valid returns nil while the lock is held, else an error wrapping
// ErrLockLost: the lock file is no longer ours, or our last successful
// refresh is older than the lease minus a safety margin, so that a waiter
// may take it over any moment. Once lost, a lock stays lost.
func (l *Lock) Valid() error {
	l.mu.Lock()
	err, fresh := l.expireLocked(time.Now())
	l.mu.Unlock()
	if fresh {
		l.opts.Logf("WARNING", err.Error())
	}
	return err
}

// elapsed measures from t to now on the monotonic clock and on the wall
// clock and returns the larger: the monotonic clock stops while the
// machine sleeps, the wall clock jumps forward after it wakes.
func elapsed(t, now time.Time) time.Duration {
	return max(now.Sub(t), now.Round(0).Sub(t.Round(0)))
}

// expireLocked sets l.lost if the lease may have run out; fresh reports
// that it did so just now.
func (l *Lock) expireLocked(now time.Time) (err error, fresh bool) {
	if l.lost != nil {
		return l.lost, false
	}
	age := elapsed(l.lastOK, now)
	if age <= l.opts.Lease-l.opts.margin() {
		return nil, false
	}
	l.lost = fmt.Errorf("Lock %s seit %s nicht aufgefrischt; nach %s darf ein anderer Lauf ihn übernehmen, dieser Lauf ändert am Archiv nichts mehr: %w",
		LockFileName, age.Round(time.Second), l.opts.Lease, ErrLockLost)
	return l.lost, true
}

func (l *Lock) setLost(err error, taken bool) {
	l.mu.Lock()
	fresh := l.lost == nil
	if fresh {
		l.lost, l.taken = err, taken
	}
	l.mu.Unlock()
	if fresh {
		l.opts.Logf("WARNING", err.Error())
	}
}

func (l *Lock) refreshLoop() {
	defer close(l.done)
	retry := max(l.opts.Refresh/6, time.Millisecond)
	t := time.NewTimer(l.opts.Refresh)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		ok, more := l.refresh()
		if !more {
			return
		}
		if ok {
			t.Reset(l.opts.Refresh)
		} else {
			t.Reset(retry) // a share hiccup: try again soon, within the lease
		}
	}
}

// refresh rewrites the lock with the next counter via a temp file and
// rename, after checking that it still carries our token. ok reports
// success; more is false once the lock is lost.
func (l *Lock) refresh() (ok, more bool) {
	began := time.Now()
	if l.Valid() != nil {
		return false, false
	}
	st, err := readLock(l.fsys)
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		l.opts.Logf("WARNING", fmt.Sprintf("Lock %s nicht aufgefrischt (wird wiederholt): %v", LockFileName, err))
		return false, true
	}
	if err != nil || st.info == nil || st.info.Token != l.token {
		l.setLost(lostError(st.info, err == nil), true)
		return false, false
	}
	info := l.Info()
	info.Refreshed = time.Now()
	info.Counter++
	tmp := LockFileName + "." + l.token + ".tmp"
	if err := atomicfile.WriteFileAtomic(l.fsys, l.caps, LockFileName, tmp, encodeLock(info), 0o644); err != nil {
		l.opts.Logf("WARNING", fmt.Sprintf("Lock %s nicht aufgefrischt (wird wiederholt): %v", LockFileName, err))
		return false, true
	}
	l.mu.Lock()
	l.info = info
	// A write that ended after our lease may have run out does not count:
	// a waiter may have taken over meanwhile, and we just overwrote it.
	if _, fresh := l.expireLocked(time.Now()); l.lost == nil {
		l.lastOK = began
	} else if fresh {
		defer l.opts.Logf("WARNING", l.lost.Error())
	}
	l.mu.Unlock()
	return l.lost == nil, l.lost == nil
}

// Release stops refreshing and removes the lock file if it still carries
// our token. If the lock was lost, the error wraps ErrLockLost; someone
// else's file is left alone. Calling Release again returns the first
// result.
func (l *Lock) Release() error {
	l.releaseOnce.Do(func() {
		close(l.stop)
		<-l.done
		l.releaseErr = l.remove()
	})
	return l.releaseErr
}

func (l *Lock) remove() error {
	lost := l.Valid()
	l.mu.Lock()
	taken := l.taken
	l.mu.Unlock()
	if taken {
		return lost
	}
	st, err := readLock(l.fsys)
	switch {
	case errors.Is(err, iofs.ErrNotExist):
		return lostError(nil, false)
	case err != nil:
		return fmt.Errorf("Lock %s freigeben: %w", LockFileName, err)
	case st.info == nil || st.info.Token != l.token:
		return lostError(st.info, true)
	}
	if lost = l.Valid(); lost == nil {
		// Still within our lease (minus the margin): nobody can have taken
		// the lock over since we read it, so it is ours to remove.
		if err := l.removeBusy(); err != nil {
			return fmt.Errorf("Lock %s freigeben: %w", LockFileName, err)
		}
		return nil
	}
	// Expired: a waiter may take over any moment, so remove only what is
	// certainly still ours.
	_, _ = removeIf(l.fsys, LockFileName, LockFileName+"."+l.token+".frei", func(raw []byte) bool {
		cur, _ := parseLock(raw)
		return cur != nil && cur.Token == l.token
	})
	return lost // our own expired file is gone now; the run still failed
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// busyFor bounds how long Release keeps trying to remove a lock file that
// others hold open (see removeBusy).
const busyFor = time.Minute

// removeBusy removes the lock file. A storage may refuse to delete a file
// while others have it open (SMB: sharing violation, EBUSY; the SMB
// library opens without FILE_SHARE_DELETE), and waiters read the lock
// file all the time: with ten runs waiting, the backend's own retries
// (5 s) ran out under load and the lock stayed for a whole lease. Release
// keeps trying, with pauses, while it is still within its lease.
func (l *Lock) removeBusy() error {
	deadline := time.Now().Add(busyFor)
	pause := 5 * time.Millisecond
	for {
		err := l.fsys.Remove(LockFileName)
		if err == nil || !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) || l.Valid() != nil {
			return err
		}
		time.Sleep(pause/2 + rand.N(pause))
		pause = min(2*pause, 100*time.Millisecond)
	}
}
