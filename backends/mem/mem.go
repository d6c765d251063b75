// Package mem is the in-memory archive backend (scheme "mem"). There is one
// filesystem per name for the whole process, so that an export and a later
// restore in the same process see the same data.
package mem

import (
	"context"
	"errors"
	"sync"

	"github.com/spf13/afero"

	wfs "werkstatt-backup/fs"
)

var _ wfs.Backend = Backend{}

var (
	mu        sync.Mutex
	instances = make(map[string]afero.Fs)
)

// Backend opens the process-wide in-memory archive named loc.Path. The
// archive always exists, so opts.Create does not matter.
type Backend struct{}

// Open returns the in-memory archive named loc.Path, making it on first use.
func (Backend) Open(ctx context.Context, loc wfs.Location, opts wfs.OpenOptions) (afero.Fs, error) {
	if loc.Path == "" {
		return nil, errors.New("mem-Name fehlt")
	}
	mu.Lock()
	defer mu.Unlock()
	fsys, ok := instances[loc.Path]
	if !ok {
		fsys = New()
		instances[loc.Path] = fsys
	}
	return fsys, nil
}

// Reset drops the in-memory archive called name; the next Open starts empty.
func Reset(name string) {
	mu.Lock()
	defer mu.Unlock()
	delete(instances, name)
}

// New returns a fresh in-memory archive Fs that is not registered under
// any name, for tests that need no registry.
func New() afero.Fs {
	return &strictFs{Fs: afero.NewBasePathFs(afero.NewMemMapFs(), "/")}
}
