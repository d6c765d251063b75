package storagetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/lock"
	"werkstatt-backup/storage"
)

func jsonLock(info lock.LockInfo) (string, error) {
	data, err := json.Marshal(info)
	return string(data), err
}

func readLockInfo(t *testing.T, fsys afero.Fs) lock.LockInfo {
	t.Helper()
	var info lock.LockInfo
	if err := json.Unmarshal([]byte(readFile(t, fsys, lock.LockFileName)), &info); err != nil {
		t.Fatalf("lock file: %v", err)
	}
	return info
}

// parallel runs fn(i) for i in [0,n) at once and waits for all.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}

// testExclusiveCreateConcurrent: of many simultaneous O_EXCL creates of one
// name exactly one wins, the property the archive lock rests on. A create
// wins when its open, a write and its close all succeed (a storage may
// decide at open or when the content is stored); every open is tried
// before any file is closed, so a storage that decided only at close
// could not pass by the order in which the goroutines happen to run.
func testExclusiveCreateConcurrent(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	const racers = 8
	for round := range 100 {
		name := fmt.Sprintf("excl-%02d", round)
		var mu sync.Mutex
		winners := 0
		var tried sync.WaitGroup
		tried.Add(racers)
		parallel(racers, func(i int) {
			f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			tried.Done()
			if err != nil {
				if !errors.Is(err, iofs.ErrExist) {
					t.Errorf("O_EXCL create: %v", err)
				}
				return
			}
			tried.Wait()
			_, err = fmt.Fprintf(f, "gewinner %d", i)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				if !errors.Is(err, iofs.ErrExist) {
					t.Errorf("O_EXCL create, write and close: %v", err)
				}
				return
			}
			mu.Lock()
			winners++
			mu.Unlock()
		})
		if winners != 1 {
			t.Fatalf("round %d: %d concurrent O_EXCL creates succeeded, want exactly 1", round, winners)
		}
	}
}

func testConcurrentWrites(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	parallel(8, func(i int) {
		dir := fmt.Sprintf("2024/%06d", i)
		if err := fsys.MkdirAll(dir, 0o755); err != nil {
			t.Errorf("MkdirAll(%q): %v", dir, err)
			return
		}
		data := bytes.Repeat([]byte{byte('a' + i)}, 10_000+i)
		if err := a.Replace(t.Context(), dir+"/data.csv", dir+"/data.tmp.csv", data); err != nil {
			t.Errorf("Replace: %v", err)
		}
		if err := afero.WriteFile(fsys, fmt.Sprintf("flach-%d.txt", i), data, 0o644); err != nil {
			t.Errorf("WriteFile: %v", err)
		}
	})
	for i := range 8 {
		want := string(bytes.Repeat([]byte{byte('a' + i)}, 10_000+i))
		wantContent(t, fsys, fmt.Sprintf("2024/%06d/data.csv", i), want)
		wantContent(t, fsys, fmt.Sprintf("flach-%d.txt", i), want)
	}
	if got := names(t, fsys, "2024"); len(got) != 8 {
		t.Errorf("ReadDir(2024) = %q, want 8 directories", got)
	}
}

// testConcurrentAtomicReplace: writers replacing one file, each through
// its own temp file, leave exactly one complete version and no temp file.
func testConcurrentAtomicReplace(t *testing.T, a *storage.Archive) {
	fsys := a.Fs
	versions := make([][]byte, 8)
	for i := range versions {
		versions[i] = bytes.Repeat([]byte{byte('A' + i)}, 64<<10)
	}
	writeFile(t, fsys, "data.csv", "alt")
	complete := func(b []byte) bool {
		return string(b) == "alt" || slices.ContainsFunc(versions, func(v []byte) bool { return bytes.Equal(v, b) })
	}
	stop, readerDone := make(chan struct{}), make(chan struct{})
	go func() { // a reader must never see a torn file
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			b, err := afero.ReadFile(fsys, "data.csv")
			if err != nil || !complete(b) {
				t.Errorf("concurrent read of data.csv: %d bytes, err %v; want one complete version", len(b), err)
				return
			}
		}
	}()
	parallel(8, func(i int) {
		for range 5 {
			tmp := fmt.Sprintf("data.%d.tmp", i)
			if err := a.Replace(t.Context(), "data.csv", tmp, versions[i]); err != nil {
				t.Errorf("Replace: %v", err)
			}
		}
	})
	close(stop)
	<-readerDone
	if got := []byte(readFile(t, fsys, "data.csv")); !complete(got) || string(got) == "alt" {
		t.Errorf("data.csv is not one complete new version (%d bytes)", len(got))
	}
	if got := names(t, fsys, "."); !slices.Equal(got, []string{"data.csv"}) {
		t.Errorf("ReadDir = %q, want [data.csv]", got)
	}
}
