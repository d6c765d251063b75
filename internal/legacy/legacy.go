// Package legacy holds, each in one place, the calls of lock and history
// that still take the archive's afero.Fs and Capabilities side by side,
// with the signatures those packages get once they take the handle
// (issue 22). When lock and history take *storage.Archive, every caller
// replaces legacy.X by lock.X or history.X and this package goes.
package legacy

import (
	"context"

	"werkstatt-backup/history"
	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
)

// AcquireLock is lock.AcquireLock(ctx, arch, opts).
func AcquireLock(ctx context.Context, arch *storage.Archive, opts lock.LockOptions) (*lock.Lock, error) {
	return lock.AcquireLock(ctx, arch.Fs, arch.Caps, opts)
}

// Unlock is lock.Unlock(ctx, arch, opts).
func Unlock(ctx context.Context, arch *storage.Archive, opts lock.UnlockOptions) (*lock.Unlocked, error) {
	return lock.Unlock(ctx, arch.Fs, arch.Caps, opts)
}

// OpenHistory is history.Open(arch, opts...).
func OpenHistory(arch *storage.Archive, opts ...history.Option) *history.Store {
	return history.Open(arch.Fs, append([]history.Option{history.WithCaps(arch.Caps)}, opts...)...)
}
