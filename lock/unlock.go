package lock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"time"

	"github.com/spf13/afero"

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
// released while watched) gives (nil, nil).
func Unlock(ctx context.Context, fsys afero.Fs, caps storage.Capabilities, opts UnlockOptions) (*Unlocked, error) {
	if err := needExclusive(caps); err != nil {
		return nil, err
	}
	lo := LockOptions{Lease: opts.Lease, Poll: opts.Poll, Logf: opts.Logf, Identity: opts.Identity}.withDefaults()
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	st, err := readLock(fsys)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("Lock %s lesen: %w", LockFileName, err)
	}
	if !opts.RemoveAll && !lo.Identity.holderDead(st.info) {
		st, err = watchUnchanged(ctx, fsys, st, lo)
		if st.raw == nil || err != nil {
			return nil, err
		}
	}
	if opts.RemoveAll {
		_ = fsys.Remove(TakeoverFileName) // a taker's leftover, too
	}
	var mw watch
	removed, err := takeOver(fsys, *lo.Identity, token, st.raw, &mw, lo.Lease)
	if err != nil {
		return nil, fmt.Errorf("Lock %s entfernen: %w", LockFileName, err)
	}
	if !removed {
		return nil, fmt.Errorf("Lock %s hat sich während des Entfernens geändert oder wird gerade von einem anderen Lauf übernommen, bitte erneut versuchen", LockFileName)
	}
	return &Unlocked{Holder: st.info}, nil
}

// watchUnchanged watches the lock read as st for one lease. It returns the
// lock once it has stayed the same for all that time, a zero lockState if
// it was removed meanwhile, or a *LockError if it changed.
func watchUnchanged(ctx context.Context, fsys afero.Fs, st lockState, lo LockOptions) (lockState, error) {
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
		cur, err := readLock(fsys)
		if errors.Is(err, iofs.ErrNotExist) {
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
