package fs

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// LockOptions configure AcquireLock. Zero values select the defaults.
type LockOptions struct {
	Operation  string                  // "export", "restore", ...
	Version    string                  // program version
	Timeout    time.Duration           // how long to wait for a held lock; 0 = try once
	Refresh    time.Duration           // refresh interval, default DefaultLockRefresh
	StaleAfter time.Duration           // default DefaultLockStaleAfter
	Poll       time.Duration           // default DefaultLockPoll
	Logf       func(level, msg string) // optional, also called from the refresh goroutine; "WARNING" on stale takeover, lost lock, failed refresh
	Now        func() time.Time        // optional clock for lock content and staleness; waiting uses real time
	Hostname   string                  // optional override for tests; default os.Hostname()
	PID        int                     // optional override for tests; default os.Getpid()
}

func (o LockOptions) withDefaults() LockOptions {
	if o.Refresh <= 0 {
		o.Refresh = DefaultLockRefresh
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultLockStaleAfter
	}
	if o.Poll <= 0 {
		o.Poll = DefaultLockPoll
	}
	if o.Logf == nil {
		o.Logf = func(string, string) {}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname() // "" disables the pid check in Stale
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	return o
}

// Lock is a held archive lock. It refreshes itself until Release.
type Lock struct {
	fsys  afero.Fs
	opts  LockOptions
	token string

	mu         sync.Mutex
	info       LockInfo
	lost       bool      // someone else took over or removed the lock
	lostHolder *LockInfo // the new holder, if known

	stop        chan struct{}
	done        chan struct{}
	releaseOnce sync.Once
	releaseErr  error
}

// AcquireLock creates LockFileName at the root of fsys exclusively. A held
// lock is polled until opts.Timeout or ctx ends, then a *LockError is
// returned (on ctx end wrapped together with ctx.Err()). A stale lock is
// taken over with a "WARNING" through opts.Logf.
func AcquireLock(ctx context.Context, fsys afero.Fs, opts LockOptions) (*Lock, error) {
	opts = opts.withDefaults()
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("Lock %s: %w", LockFileName, err)
		}
		now := opts.Now()
		info := LockInfo{PID: opts.PID, Host: opts.Hostname, Operation: opts.Operation,
			Version: opts.Version, Created: now, Refreshed: now, Token: token}
		err := createLockFile(fsys, encodeLock(info))
		if err == nil {
			return startLock(fsys, opts, info), nil
		}
		if !errors.Is(err, iofs.ErrExist) {
			return nil, fmt.Errorf("Lock %s anlegen: %w", LockFileName, err)
		}
		st, err := readLock(fsys)
		if errors.Is(err, iofs.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("Lock %s lesen: %w", LockFileName, err)
		}
		now = opts.Now()
		if st.stale(now, opts.Hostname, opts.StaleAfter) {
			removed, err := removeIfUnchanged(fsys, st)
			if err != nil {
				return nil, fmt.Errorf("veralteten Lock %s entfernen: %w", LockFileName, err)
			}
			if removed {
				opts.Logf("WARNING", takeoverMessage(st, now, opts.Hostname))
			}
			continue
		}
		if opts.Timeout <= 0 {
			return nil, &LockError{Path: LockFileName, Holder: st.info}
		}
		waited := time.Since(start)
		if waited >= opts.Timeout {
			return nil, &LockError{Path: LockFileName, Holder: st.info, Waited: waited}
		}
		timer := time.NewTimer(min(opts.Poll, opts.Timeout-waited))
		select {
		case <-ctx.Done():
			timer.Stop()
			lerr := &LockError{Path: LockFileName, Holder: st.info, Waited: time.Since(start)}
			return nil, fmt.Errorf("%w: %w", lerr, ctx.Err())
		case <-timer.C:
		}
	}
}

func takeoverMessage(st lockState, now time.Time, host string) string {
	if st.info == nil {
		return fmt.Sprintf("Veralteten Lock übernommen: unlesbare Lock-Datei (zuletzt geändert vor %s)",
			now.Sub(st.modTime).Round(time.Second))
	}
	i := st.info
	msg := fmt.Sprintf("Veralteten Lock übernommen: pid %d auf host %s (%s, zuletzt aktualisiert vor %s",
		i.PID, i.Host, i.Operation, now.Sub(i.Refreshed).Round(time.Second))
	if host != "" && i.Host == host && !processAlive(i.PID) {
		msg += ", Prozess läuft nicht mehr"
	}
	return msg + ")"
}

func startLock(fsys afero.Fs, opts LockOptions, info LockInfo) *Lock {
	l := &Lock{fsys: fsys, opts: opts, token: info.Token, info: info,
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

func (l *Lock) refreshLoop() {
	defer close(l.done)
	t := time.NewTicker(l.opts.Refresh)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if !l.refresh() {
				return
			}
		}
	}
}

// refresh rewrites the lock with a new Refreshed time via a temp file and
// rename, after checking that it still carries our token. It returns
// false once the lock is lost.
func (l *Lock) refresh() bool {
	st, err := readLock(l.fsys)
	if err != nil && !errors.Is(err, iofs.ErrNotExist) {
		l.opts.Logf("WARNING", fmt.Sprintf("Lock %s nicht aktualisiert: %v", LockFileName, err))
		return true // try again next tick
	}
	if err != nil || st.info == nil || st.info.Token != l.token {
		l.mu.Lock()
		l.lost, l.lostHolder = true, st.info
		l.mu.Unlock()
		l.opts.Logf("WARNING", lostError(st.info, err == nil).Error())
		return false
	}
	info := l.Info()
	info.Refreshed = l.opts.Now()
	tmp := LockFileName + "." + l.token + ".tmp"
	if err := WriteFileAtomic(l.fsys, LockFileName, tmp, encodeLock(info), 0o644); err != nil {
		l.opts.Logf("WARNING", fmt.Sprintf("Lock %s nicht aktualisiert: %v", LockFileName, err))
		return true
	}
	l.mu.Lock()
	l.info.Refreshed = info.Refreshed
	l.mu.Unlock()
	return true
}

// Release stops refreshing and removes the lock file if it still carries
// our token. If someone else took the lock over or removed it, their file
// is left alone and the error wraps ErrLockLost. Calling Release again
// returns the first result.
func (l *Lock) Release() error {
	l.releaseOnce.Do(func() {
		close(l.stop)
		<-l.done
		l.releaseErr = l.remove()
	})
	return l.releaseErr
}

func (l *Lock) remove() error {
	l.mu.Lock()
	lost, holder := l.lost, l.lostHolder
	l.mu.Unlock()
	if lost {
		return lostError(holder, holder != nil)
	}
	st, err := readLock(l.fsys)
	if errors.Is(err, iofs.ErrNotExist) {
		return lostError(nil, false)
	}
	if err != nil {
		return fmt.Errorf("Lock %s freigeben: %w", LockFileName, err)
	}
	if st.info == nil || st.info.Token != l.token {
		return lostError(st.info, true)
	}
	if err := l.fsys.Remove(LockFileName); err != nil {
		return fmt.Errorf("Lock %s freigeben: %w", LockFileName, err)
	}
	return nil
}
