package storage

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/spf13/afero"
)

// The walks on a local disk (formerly package walk's tests): a folder
// that cannot be listed, links, SkipDir and errors from fn, and the
// parallel walk against the sequential one. The storage contract
// (storagetest) checks the walks on every backend.

// failOpenFs fails Open of one directory.
type failOpenFs struct {
	afero.Fs
	dir string
}

func (f failOpenFs) Open(name string) (afero.File, error) {
	if name == f.dir {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	return f.Fs.Open(name)
}

func TestWalkDirsReadDirError(t *testing.T) {
	base := tempFs(t)
	for _, d := range []string{"a/x", "b", "c"} {
		if err := base.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	a := &Archive{Fs: failOpenFs{base, "a"}}
	var visited []string
	err := a.WalkDirs(t.Context(), ".", func(dir string, entries []os.FileInfo, err error) error {
		visited = append(visited, dir)
		if dir == "a" && (!errors.Is(err, syscall.EACCES) || entries != nil) {
			t.Errorf("fn(a) got entries %v, err %v; want nil, EACCES", entries, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".", "a", "b", "c"}; !slices.Equal(visited, want) {
		t.Errorf("visited %q, want %q", visited, want)
	}

	err = a.WalkDirs(t.Context(), ".", func(dir string, _ []os.FileInfo, err error) error {
		return err
	})
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("returning the ReadDir error from fn: WalkDirs = %v, want EACCES", err)
	}

	err = (&Archive{Fs: base}).WalkDirs(t.Context(), ".", func(string, []os.FileInfo, error) error { return iofs.SkipDir })
	if err != nil {
		t.Errorf("SkipDir at the root: WalkDirs = %v, want nil", err)
	}
}

func TestWalkDirsNoSymlinks(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "echt", "innen"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "echt"), filepath.Join(root, "link")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	a := &Archive{Fs: afero.NewBasePathFs(afero.NewOsFs(), root)}
	var visited []string
	err := a.WalkDirs(t.Context(), ".", func(dir string, _ []os.FileInfo, err error) error {
		visited = append(visited, dir)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{".", "echt", "echt/innen"}; !slices.Equal(visited, want) {
		t.Errorf("visited %q, want %q (symlink not followed)", visited, want)
	}
}

// visits records what a walk passed to fn, safe for concurrent calls.
type visits struct {
	mu   sync.Mutex
	seen map[string]string // dir → its entries' names, or the error
}

func newVisits() *visits { return &visits{seen: map[string]string{}} }

// fn records each call; ret, if set, decides what fn returns.
func (v *visits) fn(ret func(dir string) error) WalkFunc {
	return func(dir string, entries []os.FileInfo, err error) error {
		names := make([]string, len(entries))
		for i, e := range entries {
			names[i] = e.Name()
		}
		s := strings.Join(names, ",")
		if err != nil {
			s = "error: " + err.Error()
		}
		v.mu.Lock()
		defer v.mu.Unlock()
		if _, dup := v.seen[dir]; dup {
			return fmt.Errorf("%s visited twice", dir)
		}
		v.seen[dir] = s
		if ret != nil {
			return ret(dir)
		}
		return nil
	}
}

// archiveTree builds years/orders with files, a deep chain and a symlink.
func archiveTree(t *testing.T) afero.Fs {
	t.Helper()
	root := t.TempDir()
	for y := 2019; y <= 2021; y++ {
		for n := range 40 {
			d := filepath.Join(root, fmt.Sprint(y), fmt.Sprintf("%06d", n))
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"data.csv", "meta.json"} {
				if err := os.WriteFile(filepath.Join(d, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "tief", "a", "b", "c"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Symlink(filepath.Join(root, "2019"), filepath.Join(root, "link"))
	return afero.NewBasePathFs(afero.NewOsFs(), root)
}

// The parallel walk sees exactly what the sequential one sees, a folder
// that cannot be listed included.
func TestWalkDirsParallelMatchesWalkDirs(t *testing.T) {
	a := &Archive{Fs: failOpenFs{archiveTree(t), "2020/000007"}}
	want, got := newVisits(), newVisits()
	if err := a.WalkDirs(t.Context(), ".", want.fn(nil)); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3, 16} {
		got.seen = map[string]string{}
		if err := a.WalkDirsParallel(t.Context(), ".", workers, got.fn(nil)); err != nil {
			t.Fatal(err)
		}
		if len(got.seen) != len(want.seen) {
			t.Errorf("%d workers: %d directories, want %d", workers, len(got.seen), len(want.seen))
		}
		for dir, s := range want.seen {
			if got.seen[dir] != s {
				t.Errorf("%d workers: %s: %q, want %q", workers, dir, got.seen[dir], s)
			}
		}
	}
	if !strings.Contains(got.seen["2020/000007"], "permission denied") {
		t.Errorf("failing directory: %q", got.seen["2020/000007"])
	}
	if _, ok := got.seen["link"]; ok {
		t.Error("symlink followed")
	}
}

func TestWalkDirsParallelSkipDirAndErrors(t *testing.T) {
	a := &Archive{Fs: archiveTree(t)}
	v := newVisits()
	err := a.WalkDirsParallel(t.Context(), ".", 4, v.fn(func(dir string) error {
		if dir == "2019" || dir == "tief/a" {
			return iofs.SkipDir
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	for dir := range v.seen {
		if strings.HasPrefix(dir, "2019/") || strings.HasPrefix(dir, "tief/a/") {
			t.Errorf("%s visited below a SkipDir", dir)
		}
	}
	if _, ok := v.seen["2020/000039"]; !ok {
		t.Error("the rest of the tree was not walked")
	}

	v = newVisits()
	err = a.WalkDirsParallel(t.Context(), ".", 4, v.fn(func(dir string) error {
		if dir == "2020/000003" {
			return syscall.EIO
		}
		return nil
	}))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("WalkDirsParallel = %v, want the error from fn", err)
	}

	v = newVisits()
	if err := a.WalkDirsParallel(t.Context(), ".", 4, v.fn(func(string) error { return iofs.SkipDir })); err != nil {
		t.Fatal(err)
	}
	if dirs := slices.Sorted(maps.Keys(v.seen)); !slices.Equal(dirs, []string{"."}) {
		t.Errorf("SkipDir at the root visited %q", dirs)
	}
}
