// Package all is the one place that knows which archive backends exist.
package all

import (
	"werkstatt-backup/backends/local"
	"werkstatt-backup/backends/mem"
	"werkstatt-backup/backends/smb"
	wfs "werkstatt-backup/fs"
)

// Registry returns a registry holding every backend of the program.
func Registry() *wfs.Registry {
	r := wfs.NewRegistry()
	r.Register("file", local.Backend{})
	r.Register("mem", mem.Backend{})
	r.Register("smb", smb.Backend{})
	return r
}
