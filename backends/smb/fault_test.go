package smb_test

import (
	"bytes"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/afero"

	"werkstatt-backup/backends/smb"
	"werkstatt-backup/backends/smb/smbtest"
)

func wantFile(t *testing.T, fsys afero.Fs, name, want string) {
	t.Helper()
	got, err := afero.ReadFile(fsys, name)
	if err != nil || string(got) != want {
		t.Fatalf("%s = %q, %v; want %q", name, got, err, want)
	}
}

// TestReconnectAfterRestart: the server goes away between two calls; the
// next call reconnects (with backoff while smbd restarts) and succeeds.
func TestReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "neustart", smb.Backend{})
	fsys := a.Fs
	if err := afero.WriteFile(fsys, "a.txt", []byte("vorher"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	res := make(chan error, 1)
	go func() { // this call waits, reconnecting with backoff, while smbd is down
		_, err := fsys.Stat("a.txt")
		res <- err
	}()
	time.Sleep(300 * time.Millisecond)
	srv.Restart()
	if err := <-res; err != nil {
		t.Fatalf("call during the restart: %v", err)
	}
	wantFile(t, fsys, "a.txt", "vorher")
	if err := afero.WriteFile(fsys, "b.txt", []byte("nachher"), 0o644); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	wantFile(t, fsys, "b.txt", "nachher")
}

// TestServerGoneFailsClearly: with the server down for good, a call fails
// after the bounded reconnect time with one clear line, later calls fail
// fast, and once the server is back the Fs works again.
func TestServerGoneFailsClearly(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "weg", smb.Backend{Reconnect: time.Second, Sessions: 1})
	fsys := a.Fs
	srv.Kill()
	start := time.Now()
	_, err := fsys.Stat("a.txt")
	took := time.Since(start)
	want := fmt.Sprintf("stat weg/a.txt: SMB-Server %s nicht erreichbar: Verbindung abgelehnt (Verbindung nach", srv.Addr())
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.Is(err, smb.ErrUnreachable) {
		t.Fatalf("err = %v\nwant prefix %q", err, want)
	}
	if took > 30*time.Second {
		t.Errorf("failing took %v, want about the 1s reconnect budget", took)
	}
	start = time.Now()
	if _, err := fsys.Stat("a.txt"); !errors.Is(err, smb.ErrUnreachable) {
		t.Fatalf("second call: %v", err)
	}
	// Under the 1s reconnect budget: the call did not try to reconnect.
	if took := time.Since(start); took >= time.Second {
		t.Errorf("second call took %v, want a fast failure", took)
	}
	srv.Restart()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := fsys.Stat(".")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after restart: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHungServerTimesOut: a server that stops answering ends every call at
// its deadline; after it wakes up the next call works on a new connection.
func TestHungServerTimesOut(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	// One session: the call goes to the connection that is already up.
	// 2s, not less: on a busy machine Samba's answer to a new connection
	// (the open below) took more than 500ms.
	a := open(t, srv, "haengt", smb.Backend{Timeout: 2 * time.Second, Sessions: 1})
	fsys := a.Fs
	f, err := fsys.Create("offen.txt")
	if err != nil {
		t.Fatal(err)
	}
	srv.Pause()
	start := time.Now()
	_, err = fsys.Stat(".")
	took := time.Since(start)
	srv.Resume()
	const want = "antwortet nicht (Zeitüberschreitung nach 2s)"
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if took > 30*time.Second {
		t.Errorf("call took %v with a 2s deadline", took)
	}
	if err := afero.WriteFile(fsys, "danach.txt", []byte("ok"), 0o644); err != nil {
		t.Fatalf("write after resume: %v", err)
	}
	wantFile(t, fsys, "danach.txt", "ok")
	f.Close()
}

// TestLongLivedFile: the deadline is per call, not per open file. The
// deadline is long enough for every call on a busy machine (Samba's answer
// to a new connection took more than 300ms there); the pauses are longer.
func TestLongLivedFile(t *testing.T) {
	t.Parallel()
	const deadline = 3 * time.Second
	srv := smbtest.Start(t)
	a := open(t, srv, "lang", smb.Backend{Timeout: deadline})
	fsys := a.Fs
	f, err := fsys.Create("a.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"eins ", "zwei"} {
		time.Sleep(deadline + deadline/4)
		if _, err := f.Write([]byte(part)); err != nil {
			t.Fatalf("write after a pause longer than the deadline: %v", err)
		}
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantFile(t, fsys, "a.txt", "eins zwei")
}

// TestRenameWaitsForOpenTarget: SMB refuses to replace a file someone has
// open (Windows always; Samba if the handle is on the same connection);
// Rename waits for the handle to go, up to BusyWait, then fails.
func TestRenameWaitsForOpenTarget(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "offen", smb.Backend{BusyWait: 300 * time.Millisecond, Sessions: 1})
	fsys := a.Fs
	for name, content := range map[string]string{"data.csv": "alt", "data.tmp.csv": "neu"} {
		if err := afero.WriteFile(fsys, name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := fsys.Open("data.csv")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = fsys.Rename("data.tmp.csv", "data.csv")
	if !errors.Is(err, iofs.ErrPermission) || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("rename over a target held open: %v after %v; want ErrPermission after the 300ms BusyWait", err, time.Since(start))
	}
	var le *os.LinkError
	if !errors.As(err, &le) || le.Old != "offen/data.tmp.csv" || le.New != "offen/data.csv" {
		t.Errorf("err = %#v, want a LinkError naming both paths in the share", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		r.Close()
	}()
	if err := fsys.Rename("data.tmp.csv", "data.csv"); err != nil {
		t.Fatalf("rename once the reader closes: %v", err)
	}
	wantFile(t, fsys, "data.csv", "neu")
}

// TestConcurrentWorkersOverPool: many goroutines share one Fs; every
// session of the pool carries calls; run with -race.
func TestConcurrentWorkersOverPool(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "parallel", smb.Backend{Sessions: 4})
	fsys := a.Fs
	const workers, files = 16, 12
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range files {
				dir := fmt.Sprintf("%d/%06d", 2020+w%4, w*files+i)
				data := bytes.Repeat([]byte{byte('a' + w)}, 1000+i)
				if err := fsys.MkdirAll(dir, 0o755); err != nil {
					t.Error(err)
					return
				}
				if err := a.Replace(t.Context(), dir+"/data.csv", dir+"/data.tmp.csv", data); err != nil {
					t.Error(err)
					return
				}
				got, err := afero.ReadFile(fsys, dir+"/data.csv")
				if err != nil || !bytes.Equal(got, data) {
					t.Errorf("%s: %d bytes, %v", dir, len(got), err)
				}
			}
		})
	}
	wg.Wait()
	if n := smb.LiveSessions(fsys); n != 4 {
		t.Errorf("%d live sessions, want all 4 of the pool in use", n)
	}
	total := 0
	err := a.WalkDirs(t.Context(), ".", func(dir string, entries []os.FileInfo, err error) error {
		for _, e := range entries {
			if e.Name() == "data.csv" {
				total++
			}
			if e.Name() == "data.tmp.csv" {
				t.Errorf("temp file left in %s", dir)
			}
		}
		return err
	})
	if err != nil || total != workers*files {
		t.Errorf("walk: %d data.csv, %v; want %d", total, err, workers*files)
	}
}

// TestKillDuringWrites: smbd is killed and restarted while writers replace
// files atomically. Writes cut off fail with a clear error, later ones
// succeed again, and no file is ever torn: each data.csv on the share's
// disk is one complete version.
func TestKillDuringWrites(t *testing.T) {
	t.Parallel()
	srv := smbtest.Start(t)
	a := open(t, srv, "abbruch", smb.Backend{})
	fsys := a.Fs
	const folders = 8
	version := func(f, v int) []byte {
		head := fmt.Sprintf("ordner %d version %d\n", f, v)
		return append([]byte(head), bytes.Repeat([]byte{byte('A' + v%26)}, 20_000)...)
	}
	for f := range folders {
		dir := fmt.Sprintf("%06d", f)
		if err := fsys.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := a.Replace(t.Context(), dir+"/data.csv", dir+"/data.tmp.csv", version(f, 0)); err != nil {
			t.Fatal(err)
		}
	}
	var stop atomic.Bool
	var failed, okAfter atomic.Int64
	var restarted atomic.Bool
	var wg sync.WaitGroup
	for f := range folders {
		wg.Go(func() {
			dir := fmt.Sprintf("%06d", f)
			for v := 1; !stop.Load(); v++ {
				err := a.Replace(t.Context(), dir+"/data.csv", dir+"/data.tmp.csv", version(f, v))
				switch {
				case err == nil && restarted.Load():
					okAfter.Add(1)
				case err != nil:
					failed.Add(1)
					if strings.Contains(err.Error(), srv.Password) || !strings.Contains(err.Error(), "SMB-") {
						t.Errorf("unclear error: %v", err)
					}
				}
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	srv.Kill()
	srv.Restart()
	restarted.Store(true)
	deadline := time.Now().Add(10 * time.Second)
	for okAfter.Load() < 3*folders && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if okAfter.Load() < 3*folders {
		t.Errorf("only %d writes succeeded after the restart", okAfter.Load())
	}
	t.Logf("%d writes failed around the restart, %d succeeded after it", failed.Load(), okAfter.Load())
	for f := range folders {
		got, err := os.ReadFile(filepath.Join(srv.Dir, "abbruch", fmt.Sprintf("%06d", f), "data.csv"))
		if err != nil {
			t.Fatal(err)
		}
		var v int
		if _, err := fmt.Sscanf(string(got), "ordner %d version %d\n", new(int), &v); err != nil || !bytes.Equal(got, version(f, v)) {
			t.Errorf("folder %d: torn data.csv (%d bytes)", f, len(got))
		}
	}
}
