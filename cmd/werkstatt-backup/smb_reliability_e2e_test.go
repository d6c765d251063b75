package main

import (
	"testing"
)

// The SMB variants of the kill -9 and the lock tests: the same checks as
// on a local archive, against a Samba server the test starts (skipped
// without smbd; see backends/smb/smbtest). The archive's folder on the
// server's disk is read directly to check that nothing is torn.

func TestKilledExportConvergesSMB(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 test")
	}
	t.Parallel() // its own smbd and folders
	site := newSMBSite(t)
	site.srv.MkdirAll("probe")
	const orders = 80 // SMB commits pair by pair: slower than the local batch
	dir := workshop(t, orders)
	killedExportConverges(t, dir, orders, site.env, site.url, site.dir(), site.srv.URL("probe"))
}

func TestConcurrentExportsAreSerialisedSMB(t *testing.T) {
	t.Parallel() // its own smbd and folders
	site := newSMBSite(t)
	const orders = 30
	dir := workshop(t, orders)
	concurrentExports(t, dir, orders, site.env, site.url, site.dir())
}
