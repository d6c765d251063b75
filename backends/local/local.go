// Package local is the archive backend for the OS filesystem (scheme
// "file"): an afero.Fs rooted at the archive directory.
package local

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/spf13/afero"

	"werkstatt-backup/storage"
)

var (
	_ storage.Backend    = Backend{}
	_ storage.PathParser = Backend{}
)

// DefaultWorkers is the least number of parallel file operations on a
// local disk unless the user chooses (--workers): a disk is busy with a
// few. An archive declares 4 per CPU if that is more (Workers).
const DefaultWorkers = 8

// Workers is the DefaultWorkers an archive declares: 8, or 4 per CPU.
func Workers() int { return max(DefaultWorkers, 4*runtime.NumCPU()) }

// Backend opens local archive directories.
type Backend struct{}

// Describe declares the scheme "file"; a local archive has no options.
func (Backend) Describe() storage.Description {
	return storage.Description{
		Scheme:  "file",
		Syntax:  "Pfad, file:///pfad",
		Summary: "ein Ordner auf einer lokalen Platte oder einem eingehängten Laufwerk",
		Workers: DefaultWorkers,
	}
}

// Location is a local archive directory.
type Location struct {
	Path string // OS path as given, cleaned
}

// Scheme is "file".
func (Location) Scheme() string { return "file" }

// String is the path; a local path holds no secret.
func (l Location) String() string { return l.Path }

// Open resolves loc's path to an absolute path and returns the archive
// rooted there. A missing directory is created with opts.Create,
// otherwise it is an error wrapping io/fs.ErrNotExist.
func (Backend) Open(ctx context.Context, sloc storage.Location, opts storage.Options) (*storage.Archive, error) {
	loc, ok := sloc.(Location)
	if !ok {
		return nil, fmt.Errorf("Archiv %s: kein lokaler Pfad", sloc)
	}
	if loc.Path == "" {
		return nil, errors.New("Archiv-Pfad fehlt")
	}
	abs, err := filepath.Abs(loc.Path)
	if err != nil {
		return nil, fmt.Errorf("Archiv %s: %w", loc.Path, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, iofs.ErrNotExist) && opts.Create:
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, fmt.Errorf("Archiv %s anlegen: %w", abs, err)
		}
	case errors.Is(err, iofs.ErrNotExist):
		return nil, notFoundError{abs}
	case err != nil:
		return nil, fmt.Errorf("Archiv %s: %w", abs, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("Archiv %s ist kein Verzeichnis", abs)
	}
	return NewArchive(abs), nil
}

// NewArchive returns the archive rooted at the existing directory root,
// with the capabilities of a local disk.
func NewArchive(root string) *storage.Archive {
	base := afero.NewBasePathFs(afero.NewOsFs(), root).(*afero.BasePathFs)
	f := &archiveFs{Fs: base, root: root}
	caps := storage.Capabilities{
		AtomicRename:    true,
		ExclusiveCreate: true,
		Links:           true,
		DefaultWorkers:  Workers(),
		Lstat: func(_ context.Context, name string) (os.FileInfo, error) {
			fi, _, err := base.LstatIfPossible(name)
			return fi, err
		},
	}
	f.addFastPaths(&caps)
	return &storage.Archive{Fs: f, Caps: caps}
}

// archiveFs is the OS filesystem rooted at the archive directory. On Linux
// it can also flush everything written in one call (sync_linux.go).
type archiveFs struct {
	afero.Fs
	root  string
	noCAS bool // on a network filesystem: no compare-and-swap (cond_linux.go)
}

// notFoundError is "Verzeichnis <path> existiert nicht" (the caller names
// the archive as the user gave it; this is the absolute path), matching
// errors.Is(err, io/fs.ErrNotExist).
type notFoundError struct{ path string }

func (e notFoundError) Error() string { return "Verzeichnis " + e.path + " existiert nicht" }
func (e notFoundError) Unwrap() error { return iofs.ErrNotExist }
