// Package lock is the archive lock: one record at the archive root,
// written whole in one conditional operation, refreshed while its run
// lives, taken over when stale.
//
// Two protocols, chosen by what the store offers:
//
//   - compare-and-swap (Caps.CompareAndSwap: S3 If-Match, a guarded local
//     replace): the lock object is never deleted. Acquire creates it
//     if absent, or replaces a free or stale record conditionally on the
//     tag it read; a takeover is that same one step. Refresh and release
//     replace it conditionally on the tag of our own last write, so a
//     holder whose record was replaced learns it at its next refresh
//     (fenced: Valid fails) and never writes over the new holder's.
//     Release leaves a "frei" record.
//   - exclusive create only (SMB, generic): the record is created if
//     absent, whole where the store can; refresh replaces it via a temp
//     file and rename after checking our token; release removes it; a
//     stale lock is moved aside by the one run that holds the takeover
//     marker, then created anew.
//
// Either way --lock-timeout bounds every wait: a held, paused or unreadable
// lock makes the run give up with a *LockError when the timeout ends.
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

	"werkstatt-backup/storage"
)

// LockOptions configure AcquireLock. Zero values select the defaults.
type LockOptions struct {
	Operation string // "export", "restore", ...
	Version   string // program version
	// Timeout is how long to wait for a held lock, whatever it holds; 0 =
	// try once. It bounds every wait: a lock that does not change is taken
	// over within it only if it has been seen unchanged for a Lease (by
	// this run, or by earlier ones, see SeenFile).
	Timeout  time.Duration
	Lease    time.Duration           // default DefaultLockLease (TestLeaseEnv in tests)
	Refresh  time.Duration           // default Lease/6
	Poll     time.Duration           // default DefaultLockPoll, at most Lease/10
	Logf     func(level, msg string) // optional, also called from the refresh goroutine; "WARNING" on takeover, lost lock, failed refresh
	Identity *Identity               // optional override for tests; default LocalIdentity()
	// Waiting, if set, is called once when the run starts waiting for a
	// held lock, with a German line saying so (for stderr and a progress
	// line), and Acquired when it got the lock after waiting.
	Waiting  func(msg string)
	Acquired func()
	// SeenFile is the local state file where waiting runs remember the
	// record they saw (SeenFileName beside last_run.json); "": no memory.
	// SeenKey names the archive in it (its location).
	SeenFile string
	SeenKey  string
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
	if o.Waiting == nil {
		o.Waiting = func(string) {}
	}
	if o.Acquired == nil {
		o.Acquired = func() {}
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
// firstSeen is since when runs of this machine have seen this very record
// (the remembered observation, wall clock).
func staleReason(me Identity, st lockState, w *watch, now time.Time, firstSeen time.Time, lease time.Duration) string {
	if me.holderDead(st.info) {
		return "sein Prozess läuft auf diesem Rechner nicht mehr"
	}
	if unchanged := now.Sub(w.since); unchanged >= lease {
		return fmt.Sprintf("seit %s unverändert (Lease %s, von hier beobachtet)", unchanged.Round(time.Second), lease)
	}
	if !firstSeen.IsZero() {
		if unchanged := now.Round(0).Sub(firstSeen); unchanged >= lease {
			return fmt.Sprintf("seit %s unverändert (Lease %s, von hier beobachtet, auch von früheren Läufen, erstmals %s)",
				unchanged.Round(time.Second), lease, firstSeen.Local().Format("2006-01-02 15:04:05"))
		}
	}
	return ""
}

// cas reports whether the lock uses the compare-and-swap protocol.
func cas(arch *storage.Archive) bool {
	return arch.Caps.CompareAndSwap && arch.Caps.WriteCond != nil
}

// AcquireLock takes the archive's lock (LockFileName at its root). A held
// lock is watched until opts.Timeout or ctx ends, then a *LockError is
// returned (on ctx end wrapped together with ctx.Err()); the timeout
// bounds the wait whatever the lock file holds. A stale lock is taken over
// with a "WARNING" through opts.Logf: one whose holder ran in this very
// pid space (same machine id, boot id and pid namespace) and is dead, or
// one whose content runs of this machine saw unchanged for a whole lease
// (this run on its monotonic clock, or earlier ones, see SeenFile). The
// storage must offer exclusive create or compare-and-swap; without
// either no run could be sure it is the only one, and AcquireLock refuses.
func AcquireLock(ctx context.Context, arch *storage.Archive, opts LockOptions) (*Lock, error) {
	if err := needExclusive(arch.Caps); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	me := *opts.Identity
	useCAS := cas(arch)
	mem := loadMemory(opts.SeenFile, opts.SeenKey)
	start := time.Now()
	var w watch
	var mw watch            // the takeover marker, if another run holds it
	var last lockState      // the held record last read
	var sawHeld bool        // last is set
	var firstSeen time.Time // of last, by runs of this machine
	told, reread := false, false
	phantom := 0 // rounds in a row in which create said "exists" and read "missing"
	quick := 0   // rounds in a row retried at once because another run was faster
	fail := func(cause error) error {
		lerr := &LockError{Path: LockFileName, Holder: last.info, Seen: sawHeld, Empty: sawHeld && len(last.raw) == 0, Hint: unlockHint}
		if opts.Timeout > 0 || cause != nil {
			lerr.Waited = time.Since(start) // "nach 2s"; a single try did not wait
		}
		if !w.since.IsZero() {
			lerr.Unchanged = time.Since(w.since)
			if !firstSeen.IsZero() {
				lerr.Unchanged = max(lerr.Unchanged, time.Now().Round(0).Sub(firstSeen))
			}
			lerr.Changed = w.changed
		}
		if cause != nil {
			return fmt.Errorf("%w: %w", lerr, cause)
		}
		return lerr
	}
	got := func(tag storage.Tag, info LockInfo, began time.Time) *Lock {
		mem.forget()
		if told {
			opts.Acquired()
		}
		return startLock(ctx, arch, opts, info, tag, began)
	}
	for {
		if err := ctx.Err(); err != nil {
			if w.since.IsZero() {
				return nil, fmt.Errorf("Lock %s: %w", LockFileName, err)
			}
			// The context may end between two looks, not only while
			// sleeping: the error names the holder all the same.
			return nil, fail(err)
		}
		began := time.Now()
		info := LockInfo{PID: me.PID, Host: me.Host, MachineID: me.MachineID, BootID: me.BootID, PidNS: me.PidNS, Start: me.Start,
			Operation: opts.Operation, Version: opts.Version, Created: began, Refreshed: began, Token: token}
		st, err := readLock(ctx, arch)
		if errors.Is(err, iofs.ErrNotExist) {
			tag, err := arch.WriteFile(ctx, LockFileName, encodeLock(info), storage.WriteOpts{Cond: storage.IfAbsent(), Sync: true})
			if err == nil {
				return got(tag, info, began), nil
			}
			if !errors.Is(err, iofs.ErrExist) {
				return nil, fmt.Errorf("Lock %s anlegen: %w", LockFileName, err)
			}
			// Created by another run between our two looks: read it at
			// once. A storage that keeps saying "exists" to the create and
			// "missing" to the read (an object store that counts a delete
			// marker as an object) must not make this loop spin: from the
			// second time on it waits like any other round, and past the
			// timeout it is an error naming the contradiction.
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
		if err != nil {
			return nil, fmt.Errorf("Lock %s lesen: %w", LockFileName, err)
		}
		phantom = 0
		if st.free() {
			// Released: take it if nobody else was faster.
			if !useCAS {
				// A free record on a store without compare-and-swap (left
				// by a run that had it): removed like a stale lock, by the
				// one run that holds the takeover marker.
				if _, err := takeOver(ctx, arch, me, token, st.raw, &mw, opts.Lease); err != nil {
					return nil, fmt.Errorf("freigegebenen Lock %s entfernen: %w", LockFileName, err)
				}
			} else {
				tag, err := arch.WriteFile(ctx, LockFileName, encodeLock(info), storage.WriteOpts{Cond: storage.IfMatch(st.tag), Sync: true})
				if err == nil {
					return got(tag, info, began), nil
				}
				if !lostRace(err) {
					return nil, fmt.Errorf("Lock %s anlegen: %w", LockFileName, err)
				}
			}
			// Another run got it first: look again at once, but not
			// without end (a store whose reads lag behind its writes).
			if quick++; quick <= 2 {
				continue
			}
		}
		quick = 0
		now := time.Now()
		if !st.free() {
			w.see(st.raw, now)
			last, sawHeld = st, true
			firstSeen = mem.see(st, now)
			if why := staleReason(me, st, &w, now, firstSeen, opts.Lease); why != "" {
				if useCAS {
					tag, err := arch.WriteFile(ctx, LockFileName, encodeLock(info), storage.WriteOpts{Cond: storage.IfMatch(st.tag), Sync: true})
					if err == nil {
						opts.Logf("WARNING", "Veralteten Lock übernommen: "+describeSeen(st)+": "+why)
						return got(tag, info, began), nil
					}
					if !lostRace(err) {
						return nil, fmt.Errorf("veralteten Lock %s übernehmen: %w", LockFileName, err)
					}
					// Someone else replaced it first: watch the new record.
					w, firstSeen = watch{}, time.Time{}
					continue
				}
				taken, err := takeOver(ctx, arch, me, token, st.raw, &mw, opts.Lease)
				if err != nil {
					return nil, fmt.Errorf("veralteten Lock %s entfernen: %w", LockFileName, err)
				}
				if taken {
					opts.Logf("WARNING", "Veralteten Lock übernommen: "+describeSeen(st)+": "+why)
					w, firstSeen, last, sawHeld = watch{}, time.Time{}, lockState{}, false
					continue
				}
				// Another run is taking it over right now: wait as for any lock.
			}
		}
		waited := time.Since(start)
		wait := opts.Poll
		switch {
		case opts.Timeout <= 0 && (st.info != nil || reread):
			return nil, fail(nil)
		case opts.Timeout <= 0:
			// Most likely created a moment ago and being written (by a
			// store that cannot create whole): one more look, so that
			// the error can name the holder.
			reread = true
		case waited >= opts.Timeout:
			return nil, fail(nil)
		default:
			wait = min(wait, opts.Timeout-waited)
			if !told && !st.free() {
				told = true
				msg := fmt.Sprintf("Warte auf Lock %s: %s; höchstens %s (--lock-timeout)", LockFileName, describeSeen(st), opts.Timeout)
				opts.Logf("INFO", msg)
				opts.Waiting(msg)
			}
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, fail(err)
		}
	}
}

// lostRace reports whether a conditional write failed because another
// run stored the lock first (or removed it).
func lostRace(err error) bool {
	return errors.Is(err, storage.ErrChanged) || errors.Is(err, iofs.ErrExist) || errors.Is(err, iofs.ErrNotExist)
}

// unlockHint is what a LockError from AcquireLock suggests.
const unlockHint = "wenn sicher kein Lauf mehr auf dieses Archiv schreibt: werkstatt-backup unlock (entfernt ihn, wenn er eine Lease lang unverändert bleibt; sofort: unlock --remove-all)"

// describeSeen is DescribeHolder for a record as read: an empty file is
// called empty.
func describeSeen(st lockState) string {
	if st.info == nil && len(st.raw) == 0 {
		return emptyLock
	}
	return DescribeHolder(st.info)
}

const emptyLock = "leere Lock-Datei (unlesbar: ihr Schreiber brach ab oder schreibt sie gerade)"

// Lock is a held archive lock. It refreshes itself until Release. Valid
// says whether it may still be relied on; a run checks it before every
// change to the archive.
type Lock struct {
	arch  *storage.Archive
	opts  LockOptions
	token string
	cas   bool
	// ctx is AcquireLock's context without its cancellation: the lock
	// outlives a Ctrl+C long enough to be released.
	ctx context.Context

	mu     sync.Mutex
	info   LockInfo
	tag    storage.Tag // of our last write (compare-and-swap)
	lastOK time.Time   // start of the last successful write of the lock file
	lost   error       // set once: the lock can no longer be relied on
	taken  bool        // lost because the file is no longer ours

	stop        chan struct{}
	done        chan struct{}
	releaseOnce sync.Once
	releaseErr  error
}

func startLock(ctx context.Context, arch *storage.Archive, opts LockOptions, info LockInfo, tag storage.Tag, began time.Time) *Lock {
	l := &Lock{arch: arch, opts: opts, token: info.Token, cas: cas(arch), ctx: context.WithoutCancel(ctx),
		info: info, tag: tag, lastOK: began, stop: make(chan struct{}), done: make(chan struct{})}
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

// refresh rewrites the lock with the next counter. ok reports success;
// more is false once the lock is lost. With compare-and-swap it replaces
// exactly our last record (IfMatch its tag): if someone else replaced it,
// the write fails and the lock is lost. Without, it checks our token and
// replaces the file via a temp file and rename.
func (l *Lock) refresh() (ok, more bool) {
	began := time.Now()
	if l.Valid() != nil {
		return false, false
	}
	info := l.Info()
	info.Refreshed = time.Now()
	info.Counter++
	var tag storage.Tag
	var err error
	if l.cas {
		tag, err = l.writeOwn(info)
	} else {
		err = l.replaceOwn(info)
	}
	if errors.Is(err, ErrLockLost) {
		return false, false
	}
	if err != nil {
		l.opts.Logf("WARNING", fmt.Sprintf("Lock %s nicht aufgefrischt (wird wiederholt): %v", LockFileName, err))
		return false, true
	}
	l.mu.Lock()
	l.info, l.tag = info, tag
	// A write that ended after our lease may have run out does not count:
	// a waiter may have taken over meanwhile (without compare-and-swap we
	// may just have overwritten it).
	if _, fresh := l.expireLocked(time.Now()); l.lost == nil {
		l.lastOK = began
	} else if fresh {
		defer l.opts.Logf("WARNING", l.lost.Error())
	}
	l.mu.Unlock()
	return l.lost == nil, l.lost == nil
}

// writeOwn stores info over our last record, conditionally on its tag,
// and returns the new tag. If the condition fails it reads the lock: our
// own record with info's counter means an earlier answer was lost and the
// write did land; anything else is another run's, and the lock is lost
// (the error wraps ErrLockLost).
func (l *Lock) writeOwn(info LockInfo) (storage.Tag, error) {
	l.mu.Lock()
	tag := l.tag
	l.mu.Unlock()
	data := encodeLock(info)
	newTag, err := l.arch.WriteFile(l.ctx, LockFileName, data, storage.WriteOpts{Cond: storage.IfMatch(tag), Sync: true})
	if err == nil && newTag != "" {
		return newTag, nil
	}
	if err != nil && !lostRace(err) {
		return "", err
	}
	// The condition failed, or the store gave no tag: what is there now?
	st, rerr := readLock(l.ctx, l.arch)
	switch {
	case errors.Is(rerr, iofs.ErrNotExist):
		l.setLost(lostError(nil, false), true)
		return "", lostError(nil, false)
	case rerr != nil:
		return "", rerr
	case bytes.Equal(st.raw, data):
		return st.tag, nil // ours, as just written
	case st.info != nil && st.info.Token == l.token && !st.info.Free && err != nil:
		// Still ours, but not as the tag says (an earlier write's answer
		// was lost): try again on what is there.
		l.mu.Lock()
		l.tag = st.tag
		l.mu.Unlock()
		return "", fmt.Errorf("%w (Zähler %d)", errOwnMoved, st.info.Counter)
	}
	err = lostError(st.info, true)
	l.setLost(err, true)
	return "", err
}

// errOwnMoved: our own record is there, but not with the tag we wrote
// last (an answer was lost); the caller may try again on what is there.
var errOwnMoved = errors.New("eigener Lock mit unerwartetem Stand")

// replaceOwn is refresh without compare-and-swap: check our token, then
// replace the file in one step (temp file and rename, or a whole PUT).
func (l *Lock) replaceOwn(info LockInfo) error {
	st, err := readLock(l.ctx, l.arch)
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	if err != nil || st.info == nil || st.info.Token != l.token || st.info.Free {
		err := lostError(st.info, err == nil)
		l.setLost(err, true)
		return err
	}
	tmp := LockFileName + "." + l.token + ".tmp"
	return l.arch.Replace(l.ctx, LockFileName, tmp, encodeLock(info))
}

// Release stops refreshing and lets the lock go if it is still ours: with
// compare-and-swap it replaces our record with a free one (conditionally
// on its tag), else it removes the file. If the lock was lost, the error
// wraps ErrLockLost; someone else's record is left alone. Calling Release
// again returns the first result.
func (l *Lock) Release() error {
	l.releaseOnce.Do(func() {
		close(l.stop)
		<-l.done
		if l.cas {
			l.releaseErr = l.free()
		} else {
			l.releaseErr = l.remove()
		}
	})
	return l.releaseErr
}

// free writes the free record over ours. It needs no look at the clock:
// the condition makes it replace only our own record, whoever may have
// taken over since.
func (l *Lock) free() error {
	lost := l.Valid()
	l.mu.Lock()
	taken := l.taken
	l.mu.Unlock()
	if taken {
		return lost
	}
	info := l.Info()
	info.Free = true
	info.Counter++
	info.Refreshed = time.Now()
	for range 2 {
		_, err := l.writeOwn(info)
		if err == nil {
			return lost // nil, or: it had expired, but nobody took it
		}
		if errors.Is(err, ErrLockLost) {
			return err
		}
		if !errors.Is(err, errOwnMoved) {
			return fmt.Errorf("Lock %s freigeben: %w", LockFileName, err)
		}
	}
	return fmt.Errorf("Lock %s freigeben: der Speicher meldet einen anderen Stand als geschrieben", LockFileName)
}

func (l *Lock) remove() error {
	lost := l.Valid()
	l.mu.Lock()
	taken := l.taken
	l.mu.Unlock()
	if taken {
		return lost
	}
	st, err := readLock(l.ctx, l.arch)
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
	_, _ = removeIf(l.ctx, l.arch, LockFileName, LockFileName+"."+l.token+".frei", func(raw []byte) bool {
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
		err := l.arch.Remove(l.ctx, LockFileName, storage.Always)
		if err == nil || !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) || l.Valid() != nil {
			return err
		}
		time.Sleep(pause/2 + rand.N(pause))
		pause = min(2*pause, 100*time.Millisecond)
	}
}
