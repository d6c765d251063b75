package lock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"time"

	"werkstatt-backup/storage"
)

// UnlockOptions configure Unlock. Zero values select the defaults.
type UnlockOptions struct {
	RemoveAll bool                    // remove even a live lock, at once
	Lease     time.Duration           // how long to watch; default as LockOptions
	Poll      time.Duration           // default as LockOptions
	Logf      func(level, msg string) // optional; says that and how long it watches
	Identity  *Identity               // optional override for tests
}

// Unlocked describes the lock Unlock removed.
type Unlocked struct {
	Holder *LockInfo // nil: the file was no readable lock
}

// Unlock removes the lock. With RemoveAll it does so at once. Otherwise
// a lock whose holder ran in this very pid space and is dead goes at once,
// and any other is watched for one lease: if it stays unchanged all that
// time it is removed, if it changes (its holder refreshes it) Unlock gives
// up with a *LockError that points to --remove-all. No lock present (also:
// released while watched, or a free record) gives (nil, nil). On a store
// with compare-and-swap "removed" means: replaced by a free record,
// conditionally on the record judged.
func Unlock(ctx context.Context, arch *storage.Archive, opts UnlockOptions) (*Unlocked, error) {
	if err := needExclusive(arch.Caps); err != nil {
		return nil, err
	}
	lo := LockOptions{Lease: opts.Lease, Poll: opts.Poll, Logf: opts.Logf, Identity: opts.Identity}.withDefaults()
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	st, err := readLock(ctx, arch)
	if errors.Is(err, iofs.ErrNotExist) || err == nil && st.free() {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Lock %s lesen: %w", LockFileName, err)
	}
	if !opts.RemoveAll && !lo.Identity.holderDead(st.info) {
		st, err = watchUnchanged(ctx, arch, st, lo)
		if st.raw == nil || err != nil {
			return nil, err
		}
	}
	changed := fmt.Errorf("Lock %s hat sich während des Entfernens geändert oder wird gerade von einem anderen Lauf übernommen, bitte erneut versuchen", LockFileName)
	if cas(arch) {
		me := *lo.Identity
		now := time.Now()
		free := LockInfo{PID: me.PID, Host: me.Host, Operation: "unlock", Created: now, Refreshed: now, Token: token, Free: true}
		_, err := arch.WriteFile(ctx, LockFileName, encodeLock(free), storage.WriteOpts{Cond: storage.IfMatch(st.tag), Sync: true})
		if lostRace(err) {
			return nil, changed
		}
		if err != nil {
			return nil, fmt.Errorf("Lock %s entfernen: %w", LockFileName, err)
		}
		return &Unlocked{Holder: st.info}, nil
	}
	if opts.RemoveAll {
		_ = arch.Remove(ctx, TakeoverFileName, storage.Always) // a taker's leftover, too
	}
	var mw watch
	removed, err := takeOver(ctx, arch, *lo.Identity, token, st.raw, &mw, lo.Lease)
	if err != nil {
		return nil, fmt.Errorf("Lock %s entfernen: %w", LockFileName, err)
	}
	if !removed {
		return nil, changed
	}
	return &Unlocked{Holder: st.info}, nil
}

// watchUnchanged watches the lock read as st for one lease. It returns the
// lock once it has stayed the same for all that time, a zero lockState if
// it was removed or freed meanwhile, or a *LockError if it changed.
func watchUnchanged(ctx context.Context, arch *storage.Archive, st lockState, lo LockOptions) (lockState, error) {
	start := time.Now()
	lo.Logf("INFO", fmt.Sprintf("Lock %s: %s. Er wird %s lang beobachtet und entfernt, wenn er sich nicht ändert (sofort: unlock --remove-all)",
		LockFileName, DescribeHolder(st.info), lo.Lease))
	for time.Since(start) < lo.Lease {
		timer := time.NewTimer(min(lo.Poll, lo.Lease-time.Since(start)))
		select {
		case <-ctx.Done():
			timer.Stop()
			return lockState{}, fmt.Errorf("Lock %s beobachten: %w", LockFileName, ctx.Err())
		case <-timer.C:
		}
		cur, err := readLock(ctx, arch)
		if errors.Is(err, iofs.ErrNotExist) || err == nil && cur.free() {
			return lockState{}, nil
		}
		if err != nil {
			return lockState{}, fmt.Errorf("Lock %s lesen: %w", LockFileName, err)
		}
		if !bytes.Equal(cur.raw, st.raw) {
			return lockState{}, &LockError{Path: LockFileName, Holder: cur.info, Waited: time.Since(start),
				Hint: "er wird aufgefrischt, ein Lauf ist aktiv. Nur wenn sicher kein Lauf mehr auf dieses Archiv schreibt: unlock --remove-all"}
		}
	}
	return st, nil
}
