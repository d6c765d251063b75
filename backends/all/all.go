// Package all is the one place that knows which archive backends exist.
package all

import (
	"werkstatt-backup/backends/local"
	"werkstatt-backup/backends/mem"
	"werkstatt-backup/backends/s3"
	"werkstatt-backup/backends/smb"
	"werkstatt-backup/storage"
)

// Registry returns a registry holding every backend of the program.
func Registry() *storage.Registry {
	r := storage.NewRegistry()
	r.Register(local.Backend{})
	r.Register(mem.Backend{})
	r.Register(s3.Backend{})
	r.Register(smb.Backend{})
	return r
}
