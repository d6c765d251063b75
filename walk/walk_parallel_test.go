package walk

import (
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

// visits records what a walk passed to fn, safe for concurrent calls.
type visits struct {
	mu   sync.Mutex
	seen map[string]string // dir → its entries' names, or the error
}

func (v *visits) fn(ret func(dir string) error) func(string, []os.FileInfo, error) error {
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

func newVisits() *visits { return &visits{seen: map[string]string{}} }

// archiveTree builds years/orders with files, a failing folder and a symlink.
func archiveTree(t *testing.T) (afero.Fs, string) {
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
	return afero.NewBasePathFs(afero.NewOsFs(), root), root
}

// The parallel walk sees exactly what the sequential one sees.
func TestWalkDirsParallelMatchesWalkDirs(t *testing.T) {
	fsys, _ := archiveTree(t)
	fsys = failOpenFs{fsys, "2020/000007"}
	want, got := newVisits(), newVisits()
	if err := WalkDirs(fsys, storage.Capabilities{}, ".", want.fn(nil)); err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3, 16} {
		got.seen = map[string]string{}
		if err := WalkDirsParallel(fsys, storage.Capabilities{}, ".", workers, got.fn(nil)); err != nil {
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
	fsys, _ := archiveTree(t)
	v := newVisits()
	err := WalkDirsParallel(fsys, storage.Capabilities{}, ".", 4, v.fn(func(dir string) error {
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
	err = WalkDirsParallel(fsys, storage.Capabilities{}, ".", 4, v.fn(func(dir string) error {
		if dir == "2020/000003" {
			return syscall.EIO
		}
		return nil
	}))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("WalkDirsParallel = %v, want the error from fn", err)
	}

	v = newVisits()
	if err := WalkDirsParallel(fsys, storage.Capabilities{}, ".", 4, v.fn(func(string) error { return iofs.SkipDir })); err != nil {
		t.Fatal(err)
	}
	if dirs := slices.Collect(func(yield func(string) bool) {
		for d := range v.seen {
			yield(d)
		}
	}); !slices.Equal(dirs, []string{"."}) {
		t.Errorf("SkipDir at the root visited %q", dirs)
	}
}
