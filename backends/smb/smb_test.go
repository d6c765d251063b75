package smb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"werkstatt-backup/backends/smb"
	"werkstatt-backup/backends/smb/smbtest"
	"werkstatt-backup/storage"
	"werkstatt-backup/storage/storagetest"
)

// TestConformance runs the storage contract against a real Samba server;
// each subtest gets its own directory in the share as archive root.
func TestConformance(t *testing.T) {
	srv := smbtest.Start(t)
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) *storage.Archive {
		return open(t, srv, fmt.Sprintf("fstest-%d", n.Add(1)), smb.Backend{})
	})
}

// open opens dir in srv's share (creating it), closed when t ends.
func open(t *testing.T, srv *smbtest.Server, dir string, b smb.Backend) *storage.Archive {
	t.Helper()
	a, err := b.Open(context.Background(), srv.Location(dir), storage.Options{Create: true, Values: map[string]any{smb.OptPassword: srv.Password}})
	if err != nil {
		t.Fatalf("Open(%s): %v", srv.URL(dir), err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}
