//go:build !linux

package local

import "werkstatt-backup/storage"

// addFastPaths: elsewhere the generic afero way is taken.
func (f *archiveFs) addFastPaths(*storage.Capabilities) {}
