package smb_test

import (
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"sync"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/smb"
	"werkstatt-backup/backends/smb/smbtest"
)

func TestReadFileLimit(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "lesen", smb.Backend{})
	fsys := a.Fs
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320,000 bytes: several reads
	files := map[string][]byte{"leer": nil, "klein": []byte("record_id\r\n1\r\n"), "gross": big}
	for name, data := range files {
		if err := afero.WriteFile(fsys, name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		limit int64
		want  []byte
	}{
		{"leer", 100, nil},
		{"klein", 100, files["klein"]},
		{"klein", int64(len(files["klein"])), files["klein"]},
		{"klein", 5, files["klein"][:6]},
		{"gross", 1 << 20, big},
		{"gross", int64(len(big)), big},
		{"gross", int64(len(big)) - 1, big},
		{"gross", 100000, big[:100001]},
		{"gross", 65536, big[:65537]},
		{"gross", 65535, big[:65536]},
	} {
		got, err := a.ReadFile(t.Context(), c.name, c.limit)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("ReadFile(%s, %d) = %d bytes, %v; want %d bytes", c.name, c.limit, len(got), err, len(c.want))
		}
	}
	if _, err := a.ReadFile(t.Context(), "fehlt", 10); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want ErrNotExist", err)
	}
	if err := fsys.Mkdir("ordner", 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ReadFile(t.Context(), "ordner", 10); err == nil {
		t.Error("reading a directory succeeded")
	}
}

// TestManyParallelListings lists directories from many goroutines at once.
// A listing spends 16 credits of its session; with the library's default
// balance they ran out and the server refused listings as an invalid
// parameter.
func TestManyParallelListings(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "listen", smb.Backend{})
	fsys := a.Fs
	const dirs = 200
	for i := range dirs {
		d := fmt.Sprintf("%03d", i)
		if err := fsys.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, d+"/data.csv", []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 3*dirs)
	for range 3 {
		for i := range dirs {
			wg.Go(func() {
				entries, err := afero.ReadDir(fsys, fmt.Sprintf("%03d", i))
				if err == nil && len(entries) != 1 {
					err = fmt.Errorf("%03d: %d entries, want 1", i, len(entries))
				}
				if err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestSyncDirSendsNothing(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "sync", smb.Backend{})
	if err := a.SyncDir(t.Context(), "."); err != nil {
		t.Fatal(err)
	}
	srv.Pause() // a request would now wait for its deadline
	defer srv.Resume()
	if err := a.SyncDir(t.Context(), "fehlt/auch"); err != nil {
		t.Fatalf("SyncDir: %v", err)
	}
	if a.Caps.DefaultWorkers != smb.DefaultWorkers || !a.Caps.CaseInsensitive || a.Caps.SyncDir == nil || a.Caps.ReadFile == nil {
		t.Errorf("the SMB archive declares %+v", a.Caps)
	}
}
