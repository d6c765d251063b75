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

	"github.com/spf13/afero"

	wfs "werkstatt-backup/fs"
)

var _ wfs.Backend = Backend{}

// Backend opens local archive directories.
type Backend struct{}

// Open resolves loc.Path to an absolute path and returns an Fs rooted
// there. A missing directory is created with opts.Create, otherwise it is
// an error wrapping io/fs.ErrNotExist.
func (Backend) Open(ctx context.Context, loc wfs.Location, opts wfs.OpenOptions) (afero.Fs, error) {
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
	return &archiveFs{Fs: afero.NewBasePathFs(afero.NewOsFs(), abs), root: abs}, nil
}

// archiveFs is the OS filesystem rooted at the archive directory. On Linux
// it can also flush everything written in one call (sync_linux.go).
type archiveFs struct {
	afero.Fs
	root string
}

// notFoundError is "Verzeichnis <path> existiert nicht" (the caller names
// the archive as the user gave it; this is the absolute path), matching
// errors.Is(err, io/fs.ErrNotExist).
type notFoundError struct{ path string }

func (e notFoundError) Error() string { return "Verzeichnis " + e.path + " existiert nicht" }
func (e notFoundError) Unwrap() error { return iofs.ErrNotExist }

// LstatIfPossible implements afero.Lstater, which the embedded afero.Fs
// would hide: export asks whether a year folder is a symbolic link.
func (f *archiveFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	return f.Fs.(*afero.BasePathFs).LstatIfPossible(name)
}
