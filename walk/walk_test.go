package walk

import (
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

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
	var visited []string
	err := WalkDirs(failOpenFs{base, "a"}, storage.Capabilities{}, ".", func(dir string, entries []os.FileInfo, err error) error {
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

	err = WalkDirs(failOpenFs{base, "a"}, storage.Capabilities{}, ".", func(dir string, _ []os.FileInfo, err error) error {
		return err
	})
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("returning the ReadDir error from fn: WalkDirs = %v, want EACCES", err)
	}

	err = WalkDirs(base, storage.Capabilities{}, ".", func(string, []os.FileInfo, error) error { return iofs.SkipDir })
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
	var visited []string
	err := WalkDirs(afero.NewBasePathFs(afero.NewOsFs(), root), storage.Capabilities{}, ".", func(dir string, _ []os.FileInfo, err error) error {
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

// tempFs is an archive Fs on a fresh OS temp directory.
func tempFs(t *testing.T) afero.Fs {
	return afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())
}
