// Package legacy holds, each in one place, the calls of lock and history
// that still take the archive's afero.Fs and Capabilities side by side,
// with the signatures those packages get once they take the handle
// (issue 22). When lock and history take *storage.Archive, every caller
// replaces legacy.X by lock.X or history.X and this package goes.
package legacy

import (
	"werkstatt-backup/history"
	"werkstatt-backup/storage"
)

// OpenHistory is history.Open(arch, opts...).
func OpenHistory(arch *storage.Archive, opts ...history.Option) *history.Store {
	return history.Open(arch.Fs, append([]history.Option{history.WithCaps(arch.Caps)}, opts...)...)
}
