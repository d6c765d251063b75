package config

import (
	"os"
	"testing"

	"werkstatt-backup/backends/local"
	"werkstatt-backup/backends/mem"
	"werkstatt-backup/backends/smb"
	"werkstatt-backup/storage"
)

// TestMain teaches config three backends, as the command does with all of
// its own (backends/all): a fixed set, so that registering another backend
// does not change what these tests expect.
func TestMain(m *testing.M) {
	UseBackends(testRegistry())
	os.Exit(m.Run())
}

func testRegistry() *storage.Registry {
	r := storage.NewRegistry()
	r.Register(local.Backend{})
	r.Register(mem.Backend{})
	r.Register(smb.Backend{})
	return r
}
