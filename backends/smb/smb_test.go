package smb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/smb"
	"werkstatt-backup/backends/smb/smbtest"
	wfs "werkstatt-backup/fs"
	"werkstatt-backup/fs/fstest"
)

// TestConformance runs the storage contract against a real Samba server;
// each subtest gets its own directory in the share as archive root.
func TestConformance(t *testing.T) {
	srv := smbtest.Start(t)
	var n atomic.Int64
	fstest.Run(t, func(t *testing.T) afero.Fs {
		return open(t, srv, fmt.Sprintf("fstest-%d", n.Add(1)), smb.Backend{})
	})
}

// open opens dir in srv's share (creating it), closed when t ends.
func open(t *testing.T, srv *smbtest.Server, dir string, b smb.Backend) afero.Fs {
	t.Helper()
	fsys, err := b.Open(context.Background(), srv.Location(dir), wfs.OpenOptions{Create: true, Password: srv.Password})
	if err != nil {
		t.Fatalf("Open(%s): %v", srv.URL(dir), err)
	}
	t.Cleanup(func() { wfs.Close(fsys) })
	return fsys
}
